package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	bucketRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	regionRe = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
)

// Load reads and validates the environment through getenv (os.Getenv in
// main, a map in tests). Every problem is reported, in the order of steps.
func Load(getenv func(string) string) (Config, error) {
	l := &loader{getenv: getenv}
	var c Config
	for _, step := range steps {
		step(l, &c)
	}
	if len(l.probs) > 0 {
		return Config{}, &Error{Problems: l.probs}
	}
	return c, nil
}

// loader reads variables (trimmed) and collects the problems found.
type loader struct {
	getenv func(string) string
	probs  []Problem
}

func (l *loader) get(name string) string { return strings.TrimSpace(l.getenv(name)) }

func (l *loader) bad(name, problem, fix string) {
	l.probs = append(l.probs, Problem{name, problem, fix})
}

// steps read the configuration. Each fills its fields, applies its
// defaults and reports its problems; the order is the order problems are
// reported in, and a step may use what an earlier one filled (REGIONS falls
// back to the function's region, OSS_REGION to the first of REGIONS).
var steps = []func(*loader, *Config){
	loadBucket,
	loadPrefix,
	loadRegions,
	loadNumbers,
	loadDryRun,
	loadProbeTimeout,
	loadNotify,
	loadLogLevel,
	loadResolver,
	loadACME,
	loadEndpoints,
	loadOSSRegion,
	loadOSSSignature,
	loadProducts,
}

func loadBucket(l *loader, c *Config) {
	c.CertBucket = l.get(EnvCertBucket)
	switch {
	case c.CertBucket == "":
		l.bad(EnvCertBucket, "not set", "set it to the OSS bucket that receives the PEM files, e.g. CERT_BUCKET=my-certs")
	case !bucketRe.MatchString(c.CertBucket) || strings.Contains(c.CertBucket, "--"):
		l.bad(EnvCertBucket, fmt.Sprintf("%q is not a valid OSS bucket name", c.CertBucket), "use 3-63 characters: lower-case letters, digits and '-', not starting or ending with '-'")
	}
}

func loadPrefix(l *loader, c *Config) {
	c.CertPrefix = l.get(EnvCertPrefix)
	switch {
	case c.CertPrefix == "":
		c.CertPrefix = DefaultCertPrefix
	case strings.HasPrefix(c.CertPrefix, "/"):
		l.bad(EnvCertPrefix, fmt.Sprintf("%q starts with '/'", c.CertPrefix), "object keys have no leading slash: use e.g. certs/")
	case !strings.HasSuffix(c.CertPrefix, "/"):
		l.bad(EnvCertPrefix, fmt.Sprintf("%q does not end with '/'", c.CertPrefix), "end it with a slash, e.g. "+c.CertPrefix+"/")
	}
}

// loadRegions reads the function's own region (the first of the variables
// that name it) and REGIONS, which defaults to it.
func loadRegions(l *loader, c *Config) {
	var regionVar string
	regionVar, c.FunctionRegion = l.firstSet(EnvFunctionRegion, EnvFCRegion, EnvAlibabaRegion, EnvAlibabaRegion2)
	if c.FunctionRegion != "" && !regionRe.MatchString(c.FunctionRegion) {
		l.bad(regionVar, fmt.Sprintf("%q is not a region id", c.FunctionRegion), "use a region id such as cn-hangzhou")
	}
	switch raw := l.get(EnvRegions); {
	case raw != "":
		c.Regions = l.regionList(raw)
	case c.FunctionRegion != "" && regionRe.MatchString(c.FunctionRegion):
		c.Regions = []string{c.FunctionRegion}
	default:
		l.bad(EnvRegions, "not set and the function's region is unknown (FC_REGION/ALIBABA_CLOUD_REGION unset)", "set REGIONS=cn-hangzhou (comma list of the regions whose load balancers to manage)")
	}
}

// regionList parses REGIONS: region ids separated by commas, duplicates
// and empty entries dropped.
func (l *loader) regionList(raw string) []string {
	var regions []string
	seen := map[string]bool{}
	badEntry := false
	for _, r := range strings.Split(raw, ",") {
		r = strings.TrimSpace(r)
		if r == "" || seen[r] {
			continue
		}
		if !regionRe.MatchString(r) {
			l.bad(EnvRegions, fmt.Sprintf("%q is not a region id", r), "list region ids separated by commas, e.g. REGIONS=cn-hangzhou,cn-shanghai")
			badEntry = true
			continue
		}
		seen[r] = true
		regions = append(regions, r)
	}
	// An unrelated problem (CERT_BUCKET ...) must not hide this one.
	if len(regions) == 0 && !badEntry {
		l.bad(EnvRegions, "lists no region", "list region ids separated by commas, e.g. REGIONS=cn-hangzhou")
	}
	return regions
}

// numbers are the whole-number variables: default and accepted range.
var numbers = []struct {
	name        string
	def, lo, hi int
	field       func(*Config) *int
}{
	{EnvMinValidDays, DefaultMinValidDays, 0, 3650, func(c *Config) *int { return &c.MinValidDays }},
	{EnvKeepSuperseded, DefaultKeepSuperseded, 0, 100, func(c *Config) *int { return &c.KeepSuperseded }},
	{EnvConcurrency, DefaultConcurrency, 1, MaxConcurrency, func(c *Config) *int { return &c.Concurrency }},
	{EnvProbeConc, DefaultProbeConcurrency, 1, MaxProbeConcurrency, func(c *Config) *int { return &c.ProbeConcurrency }},
}

func loadNumbers(l *loader, c *Config) {
	for _, n := range numbers {
		*n.field(c) = l.intVar(n.name, n.def, n.lo, n.hi)
	}
}

func (l *loader) intVar(name string, def, lo, hi int) int {
	v := l.get(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.bad(name, fmt.Sprintf("%q is not a whole number", v), fmt.Sprintf("use a number from %d to %d (default %d)", lo, hi, def))
		return def
	}
	if n < lo || n > hi {
		l.bad(name, fmt.Sprintf("%d is out of range", n), fmt.Sprintf("use a number from %d to %d (default %d)", lo, hi, def))
		return def
	}
	return n
}

func loadDryRun(l *loader, c *Config) {
	v := l.get(EnvDryRun)
	if v == "" {
		return
	}
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
		l.bad(EnvDryRun, fmt.Sprintf("%q is not a boolean", v), "use true or false")
	}
	c.DryRun = b
}

func loadProbeTimeout(l *loader, c *Config) {
	c.ProbeTimeout = DefaultProbeTimeout
	v := l.get(EnvProbeTimeout)
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		l.bad(EnvProbeTimeout, fmt.Sprintf("%q is not a duration", v), "use a Go duration such as 5s or 1500ms")
	case d <= 0 || d > 5*time.Minute:
		l.bad(EnvProbeTimeout, fmt.Sprintf("%s is out of range", d), "use a duration between 1ms and 5m, e.g. 5s")
	default:
		c.ProbeTimeout = d
	}
}

// loadNotify reads the webhook: NOTIFY_URL and NOTIFY_KIND go together.
func loadNotify(l *loader, c *Config) {
	c.NotifyURL = l.get(EnvNotifyURL)
	c.NotifyKind = strings.ToLower(l.get(EnvNotifyKind))
	c.NotifySecret = l.get(EnvNotifySecret)
	if c.NotifyURL != "" {
		u, err := url.Parse(c.NotifyURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.bad(EnvNotifyURL, "is not an http(s) URL", "set the webhook URL, e.g. https://oapi.dingtalk.com/robot/send?access_token=…")
		}
		if c.NotifyKind == "" {
			l.bad(EnvNotifyKind, "not set while NOTIFY_URL is", "set it to one of "+strings.Join(NotifyKinds, "|"))
		}
	}
	if c.NotifyKind != "" && !slices.Contains(NotifyKinds, c.NotifyKind) {
		l.bad(EnvNotifyKind, fmt.Sprintf("%q is not a known kind", c.NotifyKind), "use one of "+strings.Join(NotifyKinds, "|"))
	}
	if c.NotifyKind != "" && c.NotifyURL == "" {
		l.bad(EnvNotifyURL, "not set while NOTIFY_KIND is", "set the webhook URL or unset NOTIFY_KIND")
	}
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError,
}

func loadLogLevel(l *loader, c *Config) {
	c.LogLevel = slog.LevelInfo
	v := strings.ToLower(l.get(EnvLogLevel))
	if v == "" {
		return
	}
	level, ok := logLevels[v]
	if !ok {
		l.bad(EnvLogLevel, fmt.Sprintf("%q is not a level", v), "use debug, info, warn or error")
		return
	}
	c.LogLevel = level
}

// loadResolver accepts "" or host:port with a port in 1-65535.
func loadResolver(l *loader, c *Config) {
	c.ProbeResolver = l.get(EnvProbeResolver)
	v := c.ProbeResolver
	if v == "" {
		return
	}
	host, port, err := net.SplitHostPort(v)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		l.bad(EnvProbeResolver, fmt.Sprintf("%q is not host:port", v), "set the DNS server the TLS probe asks, e.g. PROBE_RESOLVER=127.0.0.1:5353, or unset it for the system resolver")
	}
}

// endpoints are the API endpoint overrides ("" = the official endpoint).
var endpoints = []struct {
	name  string
	field func(*Config) *string
}{
	{EnvSLBEndpoint, func(c *Config) *string { return &c.SLBEndpoint }},
	{EnvALBEndpoint, func(c *Config) *string { return &c.ALBEndpoint }},
	{EnvNLBEndpoint, func(c *Config) *string { return &c.NLBEndpoint }},
	{EnvCASEndpoint, func(c *Config) *string { return &c.CASEndpoint }},
	{EnvOSSEndpoint, func(c *Config) *string { return &c.OSSEndpoint }},
	{EnvAlidnsEndpoint, func(c *Config) *string { return &c.AlidnsEndpoint }},
}

func loadEndpoints(l *loader, c *Config) {
	for _, ep := range endpoints {
		v := l.get(ep.name)
		*ep.field(c) = v
		if v == "" {
			continue
		}
		raw := v
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		u, err := url.Parse(strings.ReplaceAll(raw, "{region}", "region"))
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			l.bad(ep.name, fmt.Sprintf("%q is not an endpoint URL", v), "use https://host (may contain {region}) or http://127.0.0.1:PORT for the local cloud")
		}
	}
}

func loadOSSRegion(l *loader, c *Config) {
	c.OSSRegion = l.get(EnvOSSRegion)
	if c.OSSRegion == "" && len(c.Regions) > 0 {
		c.OSSRegion = c.Regions[0]
	}
	if c.OSSRegion != "" && !regionRe.MatchString(c.OSSRegion) {
		l.bad(EnvOSSRegion, fmt.Sprintf("%q is not a region id", c.OSSRegion), "set the bucket's region, e.g. OSS_REGION=cn-hangzhou")
	}
}

func loadOSSSignature(l *loader, c *Config) {
	c.OSSSignature = strings.ToLower(l.get(EnvOSSSignature))
	switch c.OSSSignature {
	case "":
		c.OSSSignature = DefaultOSSSignature
	case "v1", "v4":
	case "1", "4":
		c.OSSSignature = "v" + c.OSSSignature
	default:
		l.bad(EnvOSSSignature, fmt.Sprintf("%q is not a signature version", c.OSSSignature), "use v1 or v4")
	}
}

// firstSet returns the first of names that is set, and its value.
func (l *loader) firstSet(names ...string) (name, value string) {
	for _, n := range names {
		if v := l.get(n); v != "" {
			return n, v
		}
	}
	return "", ""
}
