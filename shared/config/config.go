// Package config reads the product's environment in one place. Load
// validates every variable and reports all problems at once, each with the
// variable's name, what is wrong and how to fix it. Functions receive a
// Config and never read the environment themselves.
package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// Environment variable names.
const (
	EnvCertBucket     = "CERT_BUCKET"
	EnvCertPrefix     = "CERT_PREFIX"
	EnvRegions        = "REGIONS"
	EnvMinValidDays   = "MIN_VALID_DAYS"
	EnvKeepSuperseded = "KEEP_SUPERSEDED"
	EnvDryRun         = "DRY_RUN"
	EnvProbeTimeout   = "PROBE_TIMEOUT"
	EnvConcurrency    = "CONCURRENCY"
	EnvProbeConc      = "PROBE_CONCURRENCY"
	EnvNotifyURL      = "NOTIFY_URL"
	EnvNotifyKind     = "NOTIFY_KIND"
	EnvNotifySecret   = "NOTIFY_SECRET"
	EnvLogLevel       = "LOG_LEVEL"
	EnvSLBEndpoint    = "SLB_ENDPOINT"
	EnvOSSEndpoint    = "OSS_ENDPOINT"
	EnvOSSRegion      = "OSS_REGION"
	EnvOSSSignature   = "OSS_SIGNATURE"
	// The renewal function (renew-certificates): the Alibaba Cloud DNS
	// endpoint, the authoritative DNS servers checked before the CA
	// validates (override; default: the zone's own), and extra PEM roots
	// trusted for the ACME directory's HTTPS (a private or local CA).
	EnvAlidnsEndpoint  = "ALIDNS_ENDPOINT"
	EnvACMENameservers = "ACME_DNS_NAMESERVERS"
	EnvACMECARoots     = "ACME_CA_ROOTS"
	EnvFunctionRegion  = "FUNCTION_REGION"
	// Set by the platform: FC_REGION in Function Compute; the SDK
	// convention ALIBABA_CLOUD_REGION / ALIBABA_CLOUD_REGION_ID elsewhere.
	EnvFCRegion       = "FC_REGION"
	EnvAlibabaRegion  = "ALIBABA_CLOUD_REGION"
	EnvAlibabaRegion2 = "ALIBABA_CLOUD_REGION_ID"
)

// Defaults.
const (
	DefaultCertPrefix     = "certs/"
	DefaultMinValidDays   = 7
	DefaultKeepSuperseded = 1
	DefaultProbeTimeout   = 5 * time.Second
	DefaultConcurrency    = 5
	MaxConcurrency        = 50
	// DefaultProbeConcurrency bounds the expiry check's concurrent TLS
	// handshakes (no API quota applies to them).
	DefaultProbeConcurrency = 32
	MaxProbeConcurrency     = 256
	// DefaultOSSSignature is v4: Alibaba Cloud recommends signature V4 for
	// OSS (V1 is the legacy scheme), the SDK and the local cloud support
	// both, and V4 binds the signature to the region.
	DefaultOSSSignature = "v4"
)

// NotifyKinds are the accepted NOTIFY_KIND values.
var NotifyKinds = []string{"dingtalk", "feishu", "wecom", "slack", "webhook"}

// Config is the validated environment.
type Config struct {
	CertBucket     string
	CertPrefix     string   // ends with "/"
	Regions        []string // at least one
	FunctionRegion string   // the function's own region ("" outside FC unless set)
	MinValidDays   int
	KeepSuperseded int
	DryRun         bool
	ProbeTimeout   time.Duration
	Concurrency    int
	// ProbeConcurrency bounds concurrent TLS probes of the expiry check.
	ProbeConcurrency int
	NotifyURL        string
	NotifyKind       string
	NotifySecret     string
	LogLevel         slog.Level
	SLBEndpoint      string
	OSSEndpoint      string
	OSSRegion        string
	OSSSignature     string // v1 | v4
	// AlidnsEndpoint overrides the Alibaba Cloud DNS endpoint.
	AlidnsEndpoint string
	// ACMENameservers ("host:port") replace the zone's authoritative
	// servers in the propagation check.
	ACMENameservers []string
	// ACMECARoots is PEM: certificates trusted (besides the system's) for
	// the ACME directory's HTTPS.
	ACMECARoots string
}

// OSSV4 reports whether OSS requests are signed with signature V4.
func (c Config) OSSV4() bool { return c.OSSSignature == "v4" }

// String renders the configuration without NOTIFY_SECRET and with the
// notification URL reduced to scheme and host (webhook URLs embed tokens).
func (c Config) String() string {
	return fmt.Sprintf("Config{CertBucket: %q, CertPrefix: %q, Regions: %q, FunctionRegion: %q, MinValidDays: %d, KeepSuperseded: %d, DryRun: %t, ProbeTimeout: %s, Concurrency: %d, ProbeConcurrency: %d, NotifyURL: %q, NotifyKind: %q, NotifySecret: %s, LogLevel: %s, SLBEndpoint: %q, OSSEndpoint: %q, OSSRegion: %q, OSSSignature: %q, AlidnsEndpoint: %q, ACMENameservers: %q, ACMECARoots: %d bytes}",
		c.CertBucket, c.CertPrefix, c.Regions, c.FunctionRegion, c.MinValidDays, c.KeepSuperseded, c.DryRun,
		c.ProbeTimeout, c.Concurrency, c.ProbeConcurrency, safeURL(c.NotifyURL), c.NotifyKind, presence(c.NotifySecret), c.LogLevel,
		c.SLBEndpoint, c.OSSEndpoint, c.OSSRegion, c.OSSSignature, c.AlidnsEndpoint, c.ACMENameservers, len(c.ACMECARoots))
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// Format makes every fmt verb use String.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue renders the configuration for slog without secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("cert_bucket", c.CertBucket),
		slog.String("cert_prefix", c.CertPrefix),
		slog.String("regions", strings.Join(c.Regions, ",")),
		slog.String("function_region", c.FunctionRegion),
		slog.Int("min_valid_days", c.MinValidDays),
		slog.Int("keep_superseded", c.KeepSuperseded),
		slog.Bool("dry_run", c.DryRun),
		slog.String("probe_timeout", c.ProbeTimeout.String()),
		slog.Int("concurrency", c.Concurrency),
		slog.Int("probe_concurrency", c.ProbeConcurrency),
		slog.String("notify_url", safeURL(c.NotifyURL)),
		slog.String("notify_kind", c.NotifyKind),
		slog.Bool("notify_signed", c.NotifySecret != ""),
		slog.String("log_level", c.LogLevel.String()),
		slog.String("slb_endpoint", c.SLBEndpoint),
		slog.String("oss_endpoint", c.OSSEndpoint),
		slog.String("oss_region", c.OSSRegion),
		slog.String("oss_signature", c.OSSSignature),
		slog.String("alidns_endpoint", c.AlidnsEndpoint),
		slog.String("acme_dns_nameservers", strings.Join(c.ACMENameservers, ",")),
		slog.Bool("acme_ca_roots", c.ACMECARoots != ""),
	)
}

func presence(s string) string {
	if s == "" {
		return "(empty)"
	}
	return "[REDACTED]"
}

// safeURL keeps scheme and host: webhook paths and queries carry tokens.
func safeURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "[REDACTED]"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// Problem is one invalid variable.
type Problem struct {
	Var     string // variable name
	Problem string // what is wrong
	Fix     string // how to fix it
}

func (p Problem) String() string { return p.Var + ": " + p.Problem + " (" + p.Fix + ")" }

// Error lists every problem found by Load. It answers errors.Is for
// apierr.ErrInvalid.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	noun := "problem"
	if len(parts) > 1 {
		noun = "problems"
	}
	return fmt.Sprintf("config: %d %s: %s", len(parts), noun, strings.Join(parts, "; "))
}

// Is reports apierr.ErrInvalid.
func (e *Error) Is(target error) bool { return target == apierr.ErrInvalid }

var (
	bucketRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	regionRe = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
)

// Load reads and validates the environment through getenv (os.Getenv in
// main, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	var probs []Problem
	bad := func(v, problem, fix string) { probs = append(probs, Problem{v, problem, fix}) }

	c := Config{
		CertBucket:   get(EnvCertBucket),
		NotifyURL:    get(EnvNotifyURL),
		NotifyKind:   strings.ToLower(get(EnvNotifyKind)),
		NotifySecret: get(EnvNotifySecret),
		SLBEndpoint:  get(EnvSLBEndpoint),
		OSSEndpoint:  get(EnvOSSEndpoint),
	}

	switch {
	case c.CertBucket == "":
		bad(EnvCertBucket, "not set", "set it to the OSS bucket that receives the PEM files, e.g. CERT_BUCKET=my-certs")
	case !bucketRe.MatchString(c.CertBucket) || strings.Contains(c.CertBucket, "--"):
		bad(EnvCertBucket, fmt.Sprintf("%q is not a valid OSS bucket name", c.CertBucket), "use 3-63 characters: lower-case letters, digits and '-', not starting or ending with '-'")
	}

	c.CertPrefix = get(EnvCertPrefix)
	switch {
	case c.CertPrefix == "":
		c.CertPrefix = DefaultCertPrefix
	case strings.HasPrefix(c.CertPrefix, "/"):
		bad(EnvCertPrefix, fmt.Sprintf("%q starts with '/'", c.CertPrefix), "object keys have no leading slash: use e.g. certs/")
	case !strings.HasSuffix(c.CertPrefix, "/"):
		bad(EnvCertPrefix, fmt.Sprintf("%q does not end with '/'", c.CertPrefix), "end it with a slash, e.g. "+c.CertPrefix+"/")
	}

	var regionVar string
	regionVar, c.FunctionRegion = firstSet(get, EnvFunctionRegion, EnvFCRegion, EnvAlibabaRegion, EnvAlibabaRegion2)
	if c.FunctionRegion != "" && !regionRe.MatchString(c.FunctionRegion) {
		bad(regionVar, fmt.Sprintf("%q is not a region id", c.FunctionRegion), "use a region id such as cn-hangzhou")
	}
	if raw := get(EnvRegions); raw != "" {
		seen := map[string]bool{}
		badEntry := false
		for _, r := range strings.Split(raw, ",") {
			r = strings.TrimSpace(r)
			if r == "" || seen[r] {
				continue
			}
			if !regionRe.MatchString(r) {
				bad(EnvRegions, fmt.Sprintf("%q is not a region id", r), "list region ids separated by commas, e.g. REGIONS=cn-hangzhou,cn-shanghai")
				badEntry = true
				continue
			}
			seen[r] = true
			c.Regions = append(c.Regions, r)
		}
		// An unrelated problem (CERT_BUCKET ...) must not hide this one.
		if len(c.Regions) == 0 && !badEntry {
			bad(EnvRegions, "lists no region", "list region ids separated by commas, e.g. REGIONS=cn-hangzhou")
		}
	} else if c.FunctionRegion != "" && regionRe.MatchString(c.FunctionRegion) {
		c.Regions = []string{c.FunctionRegion}
	} else {
		bad(EnvRegions, "not set and the function's region is unknown (FC_REGION/ALIBABA_CLOUD_REGION unset)", "set REGIONS=cn-hangzhou (comma list of the regions whose load balancers to manage)")
	}

	c.MinValidDays = intVar(get, EnvMinValidDays, DefaultMinValidDays, 0, 3650, bad)
	c.KeepSuperseded = intVar(get, EnvKeepSuperseded, DefaultKeepSuperseded, 0, 100, bad)
	c.Concurrency = intVar(get, EnvConcurrency, DefaultConcurrency, 1, MaxConcurrency, bad)
	c.ProbeConcurrency = intVar(get, EnvProbeConc, DefaultProbeConcurrency, 1, MaxProbeConcurrency, bad)

	if v := get(EnvDryRun); v != "" {
		b, err := strconv.ParseBool(strings.ToLower(v))
		if err != nil {
			switch strings.ToLower(v) {
			case "yes", "on":
				b, err = true, nil
			case "no", "off":
				b, err = false, nil
			}
		}
		if err != nil {
			bad(EnvDryRun, fmt.Sprintf("%q is not a boolean", v), "use true or false")
		}
		c.DryRun = b
	}

	c.ProbeTimeout = DefaultProbeTimeout
	if v := get(EnvProbeTimeout); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			bad(EnvProbeTimeout, fmt.Sprintf("%q is not a duration", v), "use a Go duration such as 5s or 1500ms")
		case d <= 0 || d > 5*time.Minute:
			bad(EnvProbeTimeout, fmt.Sprintf("%s is out of range", d), "use a duration between 1ms and 5m, e.g. 5s")
		default:
			c.ProbeTimeout = d
		}
	}

	if c.NotifyURL != "" {
		u, err := url.Parse(c.NotifyURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(EnvNotifyURL, "is not an http(s) URL", "set the webhook URL, e.g. https://oapi.dingtalk.com/robot/send?access_token=…")
		}
		if c.NotifyKind == "" {
			bad(EnvNotifyKind, "not set while NOTIFY_URL is", "set it to one of "+strings.Join(NotifyKinds, "|"))
		}
	}
	if c.NotifyKind != "" && !slices.Contains(NotifyKinds, c.NotifyKind) {
		bad(EnvNotifyKind, fmt.Sprintf("%q is not a known kind", c.NotifyKind), "use one of "+strings.Join(NotifyKinds, "|"))
	}
	if c.NotifyKind != "" && c.NotifyURL == "" {
		bad(EnvNotifyURL, "not set while NOTIFY_KIND is", "set the webhook URL or unset NOTIFY_KIND")
	}

	c.LogLevel = slog.LevelInfo
	if v := strings.ToLower(get(EnvLogLevel)); v != "" {
		switch v {
		case "debug":
			c.LogLevel = slog.LevelDebug
		case "info":
		case "warn", "warning":
			c.LogLevel = slog.LevelWarn
		case "error":
			c.LogLevel = slog.LevelError
		default:
			bad(EnvLogLevel, fmt.Sprintf("%q is not a level", v), "use debug, info, warn or error")
		}
	}

	loadACME(get, &c, bad)
	for _, ep := range []struct{ name, val string }{{EnvSLBEndpoint, c.SLBEndpoint}, {EnvOSSEndpoint, c.OSSEndpoint}, {EnvAlidnsEndpoint, c.AlidnsEndpoint}} {
		if ep.val == "" {
			continue
		}
		raw := ep.val
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		u, err := url.Parse(strings.ReplaceAll(raw, "{region}", "region"))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			bad(ep.name, fmt.Sprintf("%q is not an endpoint URL", ep.val), "use https://host (may contain {region}) or http://127.0.0.1:PORT for the local cloud")
		}
	}

	c.OSSRegion = get(EnvOSSRegion)
	if c.OSSRegion == "" && len(c.Regions) > 0 {
		c.OSSRegion = c.Regions[0]
	}
	if c.OSSRegion != "" && !regionRe.MatchString(c.OSSRegion) {
		bad(EnvOSSRegion, fmt.Sprintf("%q is not a region id", c.OSSRegion), "set the bucket's region, e.g. OSS_REGION=cn-hangzhou")
	}

	c.OSSSignature = strings.ToLower(get(EnvOSSSignature))
	switch c.OSSSignature {
	case "":
		c.OSSSignature = DefaultOSSSignature
	case "v1", "v4":
	case "1", "4":
		c.OSSSignature = "v" + c.OSSSignature
	default:
		bad(EnvOSSSignature, fmt.Sprintf("%q is not a signature version", c.OSSSignature), "use v1 or v4")
	}

	if len(probs) > 0 {
		return Config{}, &Error{Problems: probs}
	}
	return c, nil
}

// loadACME reads the renewal function's variables.
func loadACME(get func(string) string, c *Config, bad func(v, p, f string)) {
	c.AlidnsEndpoint = get(EnvAlidnsEndpoint)
	for _, ns := range strings.Split(get(EnvACMENameservers), ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" {
			continue
		}
		host, port, err := net.SplitHostPort(ns)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			bad(EnvACMENameservers, fmt.Sprintf("%q is not host:port", ns), "list DNS servers as host:port separated by commas, e.g. 127.0.0.1:5353; leave it empty to check the zone's own servers")
			continue
		}
		c.ACMENameservers = append(c.ACMENameservers, ns)
	}
	// one-line form too: "\n" escapes (env files are line based)
	c.ACMECARoots = strings.ReplaceAll(strings.TrimSpace(get(EnvACMECARoots)), `\n`, "\n")
	if c.ACMECARoots != "" {
		rest, n := []byte(c.ACMECARoots), 0
		for {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if _, err := x509.ParseCertificate(b.Bytes); b.Type == "CERTIFICATE" && err == nil {
				n++
			}
		}
		if n == 0 {
			bad(EnvACMECARoots, "holds no PEM certificate", "paste the CA's root certificate(s) in PEM (-----BEGIN CERTIFICATE-----), or leave it empty to trust the system roots only")
		}
	}
}

func intVar(get func(string) string, name string, def, lo, hi int, bad func(v, p, f string)) int {
	v := get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		bad(name, fmt.Sprintf("%q is not a whole number", v), fmt.Sprintf("use a number from %d to %d (default %d)", lo, hi, def))
		return def
	}
	if n < lo || n > hi {
		bad(name, fmt.Sprintf("%d is out of range", n), fmt.Sprintf("use a number from %d to %d (default %d)", lo, hi, def))
		return def
	}
	return n
}

// firstSet returns the first of names that is set, and its value.
func firstSet(get func(string) string, names ...string) (name, value string) {
	for _, n := range names {
		if v := get(n); v != "" {
			return n, v
		}
	}
	return "", ""
}
