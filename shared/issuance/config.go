package issuance

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConfigFile is the name of a pair's issuance settings in its folder:
// <CERT_PREFIX><name>/acme.yaml.
const ConfigFile = "acme.yaml"

// Well-known ACME directories (acme.yaml "directory" shorthands).
var Directories = map[string]string{
	"letsencrypt":         "https://acme-v02.api.letsencrypt.org/directory",
	"letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
	"zerossl":             "https://acme.zerossl.com/v2/DV90",
}

// DefaultDirectory is Let's Encrypt production.
const DefaultDirectory = "letsencrypt"

// Key types acme.yaml accepts. RSA is the default because CLB accepts RSA
// keys only; ECDSA suits pairs that only target ALB or NLB.
const (
	KeyRSA2048 = "rsa2048"
	KeyRSA3072 = "rsa3072"
	KeyRSA4096 = "rsa4096"
	KeyEC256   = "ec256"
	KeyEC384   = "ec384"
)

var keyTypes = []string{KeyRSA2048, KeyRSA3072, KeyRSA4096, KeyEC256, KeyEC384}

// EAB is an external account binding (ZeroSSL, some private CAs).
type EAB struct {
	KeyID   string `yaml:"kid"`
	HMACKey string `yaml:"hmac_key"` // base64url; never logged (String redacts)
}

// String never shows the HMAC key.
func (e EAB) String() string {
	if e.KeyID == "" {
		return "none"
	}
	return "kid " + e.KeyID + " [hmac key redacted]"
}

// Config is a parsed acme.yaml.
type Config struct {
	Domains   []string // lower case, in file order, no duplicates
	KeyType   string
	Directory string // the URL (shorthands resolved)
	Contact   string // e-mail, may be empty
	EAB       EAB
	Zone      string // Alidns zone; "" = found from the account's domains
}

// rawConfig is the file's shape; unknown fields are refused.
type rawConfig struct {
	Domains   []string `yaml:"domains"`
	KeyType   string   `yaml:"key_type"`
	Directory string   `yaml:"directory"`
	Contact   string   `yaml:"contact"`
	EAB       *EAB     `yaml:"external_account_binding"`
	Zone      string   `yaml:"zone"`
}

var labelRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ParseConfig parses acme.yaml (file names it in errors). It reports every
// problem at once, each naming the file, the field, what is wrong and how to
// fix it.
func ParseConfig(file string, data []byte) (Config, error) {
	var raw rawConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return Config{}, fmt.Errorf("%s: %s (fields: domains, key_type, directory, contact, external_account_binding {kid, hmac_key}, zone)", file, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", file, field, fmt.Sprintf(format, args...)))
	}
	cfg := Config{KeyType: strings.ToLower(strings.TrimSpace(raw.KeyType)), Contact: strings.TrimSpace(raw.Contact),
		Zone: strings.TrimSuffix(strings.ToLower(strings.TrimSpace(raw.Zone)), ".")}
	if len(raw.Domains) == 0 {
		bad("domains", "missing: list the names to certify, e.g. domains: [www.example.com, \"*.example.com\"]")
	}
	if len(raw.Domains) > 100 {
		bad("domains", "%d names; a certificate holds at most 100", len(raw.Domains))
	}
	for i, d := range raw.Domains {
		d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
		if why := domainProblem(d); why != "" {
			bad(fmt.Sprintf("domains[%d]", i), "%q %s", raw.Domains[i], why)
			continue
		}
		if slices.Contains(cfg.Domains, d) {
			bad(fmt.Sprintf("domains[%d]", i), "%q is listed twice: remove the repeat", d)
			continue
		}
		cfg.Domains = append(cfg.Domains, d)
	}
	if cfg.KeyType == "" {
		cfg.KeyType = KeyRSA2048
	} else if !slices.Contains(keyTypes, cfg.KeyType) {
		bad("key_type", "%q is not supported: use one of %s (CLB accepts RSA only)", raw.KeyType, strings.Join(keyTypes, ", "))
	}
	dir, why := directoryURL(raw.Directory)
	if why != "" {
		bad("directory", "%q %s", raw.Directory, why)
	}
	cfg.Directory = dir
	if cfg.Contact != "" {
		if a, err := mail.ParseAddress(cfg.Contact); err != nil || a.Address != cfg.Contact {
			bad("contact", "%q is not an e-mail address: write a bare address such as ops@example.com", cfg.Contact)
		}
	}
	if raw.EAB != nil {
		cfg.EAB = EAB{KeyID: strings.TrimSpace(raw.EAB.KeyID), HMACKey: strings.TrimSpace(raw.EAB.HMACKey)}
		if cfg.EAB.KeyID == "" || cfg.EAB.HMACKey == "" {
			bad("external_account_binding", "needs both kid and hmac_key (from the CA's dashboard)")
		}
	}
	if cfg.Zone != "" {
		if why := domainProblem(cfg.Zone); why != "" || strings.HasPrefix(cfg.Zone, "*") {
			bad("zone", "%q is not a domain name: write the Alibaba Cloud DNS domain, e.g. example.com", raw.Zone)
		}
		for _, d := range cfg.Domains {
			base := strings.TrimPrefix(d, "*.")
			if base != cfg.Zone && !strings.HasSuffix(base, "."+cfg.Zone) {
				bad("zone", "%q does not contain %q: remove zone to find each name's zone, or fix it", cfg.Zone, d)
			}
		}
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return cfg, nil
}

// domainProblem says what is wrong with a name, "" when it is fine.
func domainProblem(d string) string {
	if d == "" {
		return "is empty"
	}
	if len(d) > 253 {
		return "is longer than 253 characters"
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "is not a fully qualified name: write it with its domain, e.g. www.example.com"
	}
	for i, l := range labels {
		if l == "*" && i == 0 {
			if len(labels) < 3 {
				return "is a wildcard on a top-level domain: write *.example.com"
			}
			continue
		}
		if strings.Contains(l, "*") {
			return "has a wildcard outside the leftmost label: only *.example.com is allowed"
		}
		if !labelRE.MatchString(l) {
			return fmt.Sprintf("has an invalid label %q: use letters, digits and inner hyphens (IDNs in punycode, xn--...)", l)
		}
	}
	return ""
}

// directoryURL resolves a shorthand or checks a URL (HTTPS only: ACME
// requires it).
func directoryURL(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = DefaultDirectory
	}
	if u, ok := Directories[strings.ToLower(s)]; ok {
		return u, ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "is neither a known CA (" + strings.Join(slices.Sorted(maps.Keys(Directories)), ", ") + ") nor an https:// directory URL"
	}
	if u.Scheme != "https" {
		return "", "uses plain http: ACME directories must be https://"
	}
	return s, ""
}
