// Package config reads the product's environment in one place. Load
// validates every variable and reports all problems at once, each with the
// variable's name, what is wrong and how to fix it. Functions receive a
// Config and never read the environment themselves.
package config

import (
	"fmt"
	"log/slog"
	"net/url"
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
	EnvALBEndpoint    = "ALB_ENDPOINT"
	EnvNLBEndpoint    = "NLB_ENDPOINT"
	EnvCASEndpoint    = "CAS_ENDPOINT"
	EnvProducts       = "LB_PRODUCTS" // load-balancer products the rotation reaches
	EnvProbeResolver  = "PROBE_RESOLVER"
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
	ALBEndpoint      string // "" = the official endpoint; may hold {region}
	NLBEndpoint      string
	CASEndpoint      string
	// Products are the load-balancer products the rotation reaches
	// (LB_PRODUCTS, default clb,alb,nlb); empty (a Config built by hand)
	// is CLB only.
	Products []string
	// ProbeResolver is the DNS server ("host:port") the TLS probe resolves
	// names with; "" = the system resolver.
	ProbeResolver string
	OSSEndpoint   string
	OSSRegion     string
	OSSSignature  string // v1 | v4
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
	return fmt.Sprintf("Config{CertBucket: %q, CertPrefix: %q, Regions: %q, FunctionRegion: %q, MinValidDays: %d, KeepSuperseded: %d, DryRun: %t, ProbeTimeout: %s, Concurrency: %d, ProbeConcurrency: %d, NotifyURL: %q, NotifyKind: %q, NotifySecret: %s, LogLevel: %s, SLBEndpoint: %q, ALBEndpoint: %q, NLBEndpoint: %q, CASEndpoint: %q, ProbeResolver: %q, OSSEndpoint: %q, OSSRegion: %q, OSSSignature: %q, AlidnsEndpoint: %q, ACMENameservers: %q, ACMECARoots: %d bytes}",
		c.CertBucket, c.CertPrefix, c.Regions, c.FunctionRegion, c.MinValidDays, c.KeepSuperseded, c.DryRun,
		c.ProbeTimeout, c.Concurrency, c.ProbeConcurrency, safeURL(c.NotifyURL), c.NotifyKind, presence(c.NotifySecret), c.LogLevel,
		c.SLBEndpoint, c.ALBEndpoint, c.NLBEndpoint, c.CASEndpoint, c.ProbeResolver, c.OSSEndpoint, c.OSSRegion, c.OSSSignature, c.AlidnsEndpoint, c.ACMENameservers, len(c.ACMECARoots))
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
		slog.String("alb_endpoint", c.ALBEndpoint),
		slog.String("nlb_endpoint", c.NLBEndpoint),
		slog.String("cas_endpoint", c.CASEndpoint),
		slog.String("lb_products", strings.Join(c.Products, ",")),
		slog.String("probe_resolver", c.ProbeResolver),
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
