package issuance

import (
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	good := []struct {
		name, yaml string
		check      func(Config) bool
	}{
		{"defaults", "domains: [www.example.com]", func(c Config) bool {
			return c.KeyType == KeyRSA2048 && c.Directory == Directories["letsencrypt"] && c.Zone == "" && c.EAB.KeyID == ""
		}},
		{"wildcard, staging, ecdsa, zone", "domains: [\"*.Example.com\", example.com.]\nkey_type: EC256\ndirectory: letsencrypt-staging\nzone: Example.com\ncontact: ops@example.com",
			func(c Config) bool {
				return strings.Join(c.Domains, ",") == "*.example.com,example.com" && c.KeyType == KeyEC256 &&
					c.Directory == Directories["letsencrypt-staging"] && c.Zone == "example.com" && c.Contact == "ops@example.com"
			}},
		{"custom directory with EAB", "domains: [a.example.com]\ndirectory: https://acme.example.net/dir\nexternal_account_binding: {kid: k1, hmac_key: c2VjcmV0}",
			func(c Config) bool {
				return c.Directory == "https://acme.example.net/dir" && c.EAB.KeyID == "k1" && c.EAB.HMACKey == "c2VjcmV0"
			}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig("certs/x/acme.yaml", []byte(tc.yaml))
			if err != nil || !tc.check(c) {
				t.Fatalf("ParseConfig = %+v, %v", c, err)
			}
		})
	}
	bad := []struct {
		name, yaml string
		want       []string // every fragment must be in the error
	}{
		{"no domains", "key_type: rsa2048", []string{"certs/x/acme.yaml: domains: missing"}},
		{"unknown field", "domains: [a.example.com]\ndomain: b.example.com", []string{"certs/x/acme.yaml", "field domain not found"}},
		{"bad wildcard", "domains: [\"www.*.example.com\"]", []string{"domains[0]", "wildcard outside the leftmost label"}},
		{"bare name", "domains: [localhost]", []string{"domains[0]", "not a fully qualified name"}},
		{"repeat", "domains: [a.example.com, A.example.com]", []string{"domains[1]", "listed twice"}},
		{"key type", "domains: [a.example.com]\nkey_type: dsa", []string{"key_type", "CLB accepts RSA only"}},
		{"http directory", "domains: [a.example.com]\ndirectory: http://acme.example.net/dir", []string{"directory", "must be https://"}},
		{"unknown CA", "domains: [a.example.com]\ndirectory: letsencrypt-prod", []string{"directory", "neither a known CA"}},
		{"contact", "domains: [a.example.com]\ncontact: Ops <ops@example.com>", []string{"contact", "bare address"}},
		{"half EAB", "domains: [a.example.com]\nexternal_account_binding: {kid: k1}", []string{"external_account_binding", "both kid and hmac_key"}},
		{"zone mismatch", "domains: [a.example.com]\nzone: example.org", []string{"zone", "does not contain"}},
		{"all at once", "domains: [\"*\"]\nkey_type: x\ndirectory: ftp://x", []string{"domains[0]", "key_type", "directory"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("certs/x/acme.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := ParseConfig("f", []byte("domains: [a.example.com]\nexternal_account_binding: {kid: k1, hmac_key: SECRETVALUE}\nzone: b.org")); err == nil || strings.Contains(err.Error(), "SECRETVALUE") {
		t.Errorf("the HMAC key must never appear in an error: %v", err)
	}
	if s := (EAB{KeyID: "k", HMACKey: "SECRETVALUE"}).String(); strings.Contains(s, "SECRETVALUE") {
		t.Errorf("EAB.String shows the key: %s", s)
	}
}
