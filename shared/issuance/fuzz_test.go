package issuance

import (
	"strings"
	"testing"
)

// FuzzParseConfig: any acme.yaml either parses into a usable config or is
// refused with an error naming the file; never a panic, never a half
// config.
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"domains: [www.example.com, \"*.example.com\"]",
		"domains: [a.example.com]\nkey_type: ec384\ndirectory: zerossl\nexternal_account_binding: {kid: k, hmac_key: h}",
		"domains: []\nzone: example.com",
		"domains: [\"*.*.x\"]\ncontact: x",
		"- a\n- b",
		"domains: {a: 1}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		cfg, err := ParseConfig("certs/f/acme.yaml", []byte(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "certs/f/acme.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			if len(cfg.Domains) != 0 || cfg.Directory != "" {
				t.Fatalf("half a config with an error: %+v", cfg)
			}
			return
		}
		if len(cfg.Domains) == 0 || cfg.KeyType == "" || !strings.HasPrefix(cfg.Directory, "https://") {
			t.Fatalf("accepted an unusable config: %+v", cfg)
		}
		for _, d := range cfg.Domains {
			if domainProblem(d) != "" || d != strings.ToLower(d) {
				t.Fatalf("accepted domain %q", d)
			}
		}
	})
}
