package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/acmeca"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/alb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/alidns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/nlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
)

// Defaults of Options.
const (
	DefaultBucket       = "slb-cert-drop"
	DefaultBucketRegion = "cn-zhangjiakou"
)

// Options configure Start. The zero value is usable.
type Options struct {
	// Seed seeds the fault injector and OSS delivery reordering.
	Seed int64
	// Regions served by SLB (default slb.DefaultRegions).
	Regions []string
	// Latency is added to every SLB and OSS call (a default fault rule).
	Latency time.Duration
	// NoFrontends: SLB opens no TLS listeners.
	NoFrontends bool
	// Logs receives the functions' output (default io.Discard).
	Logs io.Writer
	// SYAML is an optional s.yaml whose functions are deployed (their
	// binaries are started lazily, on first invocation).
	SYAML string
	// Getenv resolves ${env(...)} in SYAML (default os.Getenv). The cloud's
	// own SLB_ENDPOINT, OSS_ENDPOINT, OSS_REGION, CERT_BUCKET and REGION
	// are laid over it.
	Getenv func(string) string
	// Bucket is created at start in BucketRegion (defaults slb-cert-drop, the s.yaml default,
	// cn-zhangjiakou).
	Bucket       string
	BucketRegion string
	// OSSDelivery shapes OSS trigger deliveries (duplicates, delay,
	// reordering).
	OSSDelivery fcrt.OSSDelivery
	// RetryBackoff is the first async retry backoff (default 500ms).
	RetryBackoff time.Duration
	// Now is the clock of SLB, OSS, ALB, NLB and CAS (default time.Now).
	Now func() time.Time
	// LBConfiguring is how long an ALB or NLB write keeps its listener
	// Configuring (default 2 s).
	LBConfiguring time.Duration
	// LBFleet seeds this many ALB and as many NLB instances in BucketRegion
	// (see SeedLBFleet).
	LBFleet int
	// DNSZones are the Alidns domains (zones of the DNS server) created at
	// start (default DefaultDNSZones).
	DNSZones []string
	// CertValidity is the lifetime of the ACME CA's certificates (default
	// 90 days).
	CertValidity time.Duration
}

// DefaultDNSZones are the Alidns domains of a fresh local cloud.
var DefaultDNSZones = []string{"example.com"}

// Cloud is a running local cloud.
type Cloud struct {
	SLB    *slb.Server
	OSS    *oss.Server
	FC     *fcrt.Runtime
	ALB    *alb.Server
	NLB    *nlb.Server
	CAS    *cas.Server
	Faults *faults.Injector
	// JobFaults makes ALB and NLB jobs end Failed.
	JobFaults *faults.JobFaults
	// DNS answers the ALB and NLB instance names and the Alidns records
	// (A, TXT) from DNS.Store(), over UDP and TCP; Alidns is the API writing
	// them; ACME is the CA validating DNS-01 against DNS.
	DNS    *dns.Server
	Alidns *alidns.Server
	ACME   *acmeca.CA

	bucket, bucketRegion string
	accounts             []slb.Account
	servers              []*http.Server
	slbURL, ossURL       string
	fcURL                string
	alidnsURL            string
	albURL, nlbURL       string
	casURL               string
	ownDNS               bool // startLB started DNS (Close stops it)
	started              time.Time
}

// Start binds three 127.0.0.1 ports (SLB, OSS, FC/control) and returns the
// running cloud.
func Start(opts Options) (*Cloud, error) {
	start := time.Now()
	opts = opts.withDefaults()
	inj := faults.New(opts.Seed)
	if opts.Now != nil {
		inj.SetClock(opts.Now)
	}
	if opts.Latency > 0 {
		inj.Set(faults.Rule{Action: "", Latency: opts.Latency})
	}
	accounts := slb.DefaultAccounts()
	c := &Cloud{Faults: inj, bucket: opts.Bucket, bucketRegion: opts.BucketRegion, accounts: accounts, started: start}

	s, err := slb.New(slb.Options{Accounts: accounts, Regions: opts.Regions, Faults: inj, Now: opts.Now, NoFrontends: opts.NoFrontends})
	if err != nil {
		return nil, fmt.Errorf("emulator: slb: %w", err)
	}
	c.SLB = s
	c.startOSS(opts, inj)
	if err := c.startDNS(opts); err != nil {
		c.SLB.Close()
		return nil, err
	}
	lns, err := listenLoopback(4)
	if err != nil {
		c.closeDNS()
		c.SLB.Close()
		return nil, err
	}
	c.slbURL, c.ossURL, c.fcURL = "http://"+lns[0].Addr().String(), "http://"+lns[1].Addr().String(), "http://"+lns[2].Addr().String()
	c.alidnsURL = "http://" + lns[3].Addr().String()
	if err := c.startLB(opts, inj); err != nil {
		for _, l := range lns {
			l.Close()
		}
		c.closeDNS()
		c.SLB.Close()
		return nil, err
	}
	c.startFC(opts, inj)
	for i, h := range []http.Handler{c.SLB, c.OSS, c.controlMux(inj), c.Alidns} {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
		c.servers = append(c.servers, srv)
		go srv.Serve(lns[i])
	}
	if err := c.deploy(opts); err != nil {
		c.Close()
		return nil, err
	}
	if opts.LBFleet > 0 {
		if _, err := c.SeedLBFleet(opts.BucketRegion, opts.LBFleet); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// listenLoopback binds n ports on 127.0.0.1.
func listenLoopback(n int) ([]net.Listener, error) {
	lns := make([]net.Listener, n)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, l := range lns[:i] {
				l.Close()
			}
			return nil, fmt.Errorf("emulator: listen: %w", err)
		}
		lns[i] = ln
	}
	return lns, nil
}

// withDefaults fills the zero fields of opts.
func (opts Options) withDefaults() Options {
	if opts.Bucket == "" {
		opts.Bucket = DefaultBucket
	}
	if opts.BucketRegion == "" {
		opts.BucketRegion = DefaultBucketRegion
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	return opts
}

// startOSS builds the OSS emulator (faults before and after its writes)
// and creates the bucket.
func (c *Cloud) startOSS(opts Options, inj *faults.Injector) {
	ossAccounts := make([]oss.Account, len(c.accounts))
	for i, a := range c.accounts {
		ossAccounts[i] = oss.Account{AccessKeyID: a.AccessKeyID, AccessKeySecret: a.AccessKeySecret, SecurityToken: a.SecurityToken}
	}
	c.OSS = oss.New(oss.Options{Accounts: ossAccounts, Now: opts.Now, DefaultRegion: opts.BucketRegion, Faults: func(action string) oss.Fault {
		d := inj.Decide(action)
		return oss.Fault{Delay: d.Delay, Throttle: d.Throttle, ServerError: d.ServerError, Status: d.Status, Timeout: d.Timeout, Reset: d.Reset}
	}, FaultsAfter: func(action string) oss.Fault {
		d := inj.DecideAfter(action)
		return oss.Fault{ServerError: d.ServerError, Status: d.Status, Timeout: d.Timeout, Reset: d.Reset}
	}})
	c.OSS.CreateBucket(opts.Bucket, opts.BucketRegion)
}

// startFC builds the Function Compute runtime with the cloud's environment.
func (c *Cloud) startFC(opts Options, inj *faults.Injector) {
	ak, secret, token := c.STSCredentials()
	c.FC = fcrt.New(fcrt.Options{
		Credentials:  fcrt.Credentials{AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: token},
		Logs:         opts.Logs,
		Region:       opts.BucketRegion,
		Env:          c.functionEnv(),
		RetryBackoff: opts.RetryBackoff,
		OSS:          opts.OSSDelivery,
		Seed:         opts.Seed,
		Faults: func(action string) fcrt.Fault {
			if !hasRule(inj, action) {
				return fcrt.Fault{}
			}
			d := inj.Decide(action)
			return fcrt.Fault{Delay: d.Delay, Throttle: d.Throttle, ServerError: d.ServerError}
		},
	})
	c.FC.AttachOSS(c.OSS)
}

// controlMux serves FC and the /local control API.
func (c *Cloud) controlMux(inj *faults.Injector) *http.ServeMux {
	mux := http.NewServeMux()
	c.FC.Register(mux)
	mux.HandleFunc("GET /local/state", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, c.State()) })
	mux.HandleFunc("GET /local/requests", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, c.RequestLog()) })
	mux.HandleFunc("POST /local/faults", c.handleFaults)
	mux.HandleFunc("DELETE /local/faults", func(w http.ResponseWriter, r *http.Request) {
		inj.Clear()
		c.JobFaults.Clear()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /local/oss-delivery", c.handleDelivery)
	return mux
}

// deploy deploys the functions of opts.SYAML, if any.
func (c *Cloud) deploy(opts Options) error {
	if opts.SYAML == "" {
		return nil
	}
	getenv := func(k string) string {
		if v, ok := c.functionEnv()[k]; ok {
			return v
		}
		return opts.Getenv(k)
	}
	specs, err := fcrt.LoadSYAML(opts.SYAML, getenv)
	if err == nil {
		for _, sp := range specs {
			if err = c.FC.Deploy(sp); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("emulator: deploy %s: %w", opts.SYAML, err)
	}
	return nil
}

func hasRule(inj *faults.Injector, action string) bool {
	return slices.ContainsFunc(inj.Rules(), func(r faults.Rule) bool { return r.Action == action })
}

// functionEnv is what every function sees of the cloud: its endpoints and
// bucket.
func (c *Cloud) functionEnv() map[string]string {
	return map[string]string{
		"SLB_ENDPOINT":   c.slbURL,
		"ALB_ENDPOINT":   c.albURL,
		"NLB_ENDPOINT":   c.nlbURL,
		"CAS_ENDPOINT":   c.casURL,
		"PROBE_RESOLVER": c.DNS.Addr(),
		"OSS_ENDPOINT":   c.ossURL,
		"OSS_REGION":     c.bucketRegion,
		"CERT_BUCKET":    c.bucket,
		"REGION":         c.bucketRegion,
		// the renewal function: Alidns, the DNS server to check, the CA's
		// HTTPS certificate (one line, "\n" escaped: env files are line based)
		"ALIDNS_ENDPOINT":      c.alidnsURL,
		"ACME_DNS_NAMESERVERS": c.DNS.Addr(),
		"ACME_CA_ROOTS":        strings.ReplaceAll(strings.TrimSpace(string(c.ACME.TLSCertPEM())), "\n", `\n`),
	}
}

// SLBEndpoint is the SLB RPC endpoint, "http://127.0.0.1:PORT".
func (c *Cloud) SLBEndpoint() string { return c.slbURL }

// OSSEndpoint is the OSS endpoint (path style), "http://127.0.0.1:PORT".
func (c *Cloud) OSSEndpoint() string { return c.ossURL }

// FCEndpoint is the FC invoke and control endpoint, "http://127.0.0.1:PORT".
func (c *Cloud) FCEndpoint() string { return c.fcURL }

// Bucket returns the default bucket and its region.
func (c *Cloud) Bucket() (name, region string) { return c.bucket, c.bucketRegion }

// Credentials returns an AccessKey pair accepted by SLB and OSS (local
// dummy values).
func (c *Cloud) Credentials() (ak, secret string) {
	for _, a := range c.accounts {
		if a.SecurityToken == "" {
			return a.AccessKeyID, a.AccessKeySecret
		}
	}
	return "", ""
}

// STSCredentials returns the STS triple accepted by SLB and OSS; it is also
// the one functions receive.
func (c *Cloud) STSCredentials() (ak, secret, token string) {
	for _, a := range c.accounts {
		if a.SecurityToken != "" {
			return a.AccessKeyID, a.AccessKeySecret, a.SecurityToken
		}
	}
	return "", "", ""
}

// State is the read-only JSON dump served at /local/state.
type State struct {
	SLB         slb.State                     `json:"slb"`
	ALB         alb.State                     `json:"alb"`
	NLB         nlb.State                     `json:"nlb"`
	CAS         []cas.Certificate             `json:"cas"`
	DNS         []dns.Record                  `json:"dns"`
	OSS         []oss.BucketDump              `json:"oss"`
	FC          fcrt.Dump                     `json:"fc"`
	Faults      map[string]faults.ActionStats `json:"faults"`
	JobFailures map[string]int                `json:"job_failures"`
	// ACMEOrders counts the local CA's orders.
	ACMEOrders int `json:"acme_orders"`
}

// State returns the current state of every service.
func (c *Cloud) State() State {
	return State{SLB: c.SLB.Dump(), ALB: c.ALB.Dump(), NLB: c.NLB.Dump(), CAS: c.CAS.Dump(), DNS: c.DNS.Store().Records(""),
		OSS: c.OSS.Dump(), FC: c.FC.Dump(), Faults: c.Faults.Stats(), JobFailures: c.JobFaults.Failed(), ACMEOrders: c.ACME.Orders()}
}

// RequestLog is the request log served at /local/requests.
type RequestLog struct {
	SLB    []slb.RequestRecord `json:"slb"`
	ALB    []rpc.Record        `json:"alb"`
	NLB    []rpc.Record        `json:"nlb"`
	CAS    []rpc.Record        `json:"cas"`
	OSS    []oss.RequestRecord `json:"oss"`
	FC     []fcrt.AsyncRecord  `json:"fc_async"`
	Alidns []rpc.Record        `json:"alidns"`
}

// RequestLog returns the request logs of every service.
func (c *Cloud) RequestLog() RequestLog {
	return RequestLog{SLB: c.SLB.Requests(), ALB: c.ALB.Requests(), NLB: c.NLB.Requests(), CAS: c.CAS.Requests(),
		OSS: c.OSS.Requests(), FC: c.FC.AsyncResults(), Alidns: c.Alidns.Requests()}
}

// Close stops everything: function processes first (and their process
// groups), then the HTTP servers and the TLS frontends.
func (c *Cloud) Close() error {
	errs := []error{c.FC.Close()}
	c.OSS.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range c.servers {
		if err := s.Shutdown(ctx); err != nil {
			s.Close()
		}
	}
	errs = append(errs, c.SLB.Close(), c.closeLB())
	c.closeDNS()
	return errors.Join(errs...)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// faultRule is the JSON form of a faults.Rule (durations as Go strings).
type faultRule struct {
	Action          string  `json:"action"`
	Latency         string  `json:"latency"`
	ThrottleRate    float64 `json:"throttleRate"`
	ServerErrorRate float64 `json:"serverErrorRate"`
	TimeoutRate     float64 `json:"timeoutRate"`
	ResetRate       float64 `json:"resetRate"`
	LostRate        float64 `json:"lostRate"`
	JobFailRate     float64 `json:"jobFailRate"`
	JobFailNext     int     `json:"jobFailNext"`
	QPS             float64 `json:"qps"`
	Burst           int     `json:"burst"`
}

func (c *Cloud) handleFaults(w http.ResponseWriter, r *http.Request) {
	var fr faultRule
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&fr); err != nil {
		http.Error(w, "fault rule: "+err.Error(), http.StatusBadRequest)
		return
	}
	var lat time.Duration
	if fr.Latency != "" {
		d, err := time.ParseDuration(fr.Latency)
		if err != nil {
			http.Error(w, "latency: "+err.Error(), http.StatusBadRequest)
			return
		}
		lat = d
	}
	c.Faults.Set(faults.Rule{Action: fr.Action, Latency: lat, ThrottleRate: fr.ThrottleRate, ServerErrorRate: fr.ServerErrorRate,
		TimeoutRate: fr.TimeoutRate, ResetRate: fr.ResetRate, LostRate: fr.LostRate, QPS: fr.QPS, Burst: fr.Burst})
	if fr.JobFailRate > 0 || fr.JobFailNext > 0 {
		c.JobFaults.Set(faults.JobRule{Action: fr.Action, FailRate: fr.JobFailRate, Next: fr.JobFailNext})
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Cloud) handleDelivery(w http.ResponseWriter, r *http.Request) {
	var d struct {
		Duplicate bool   `json:"duplicate"`
		Delay     string `json:"delay"`
		Reorder   string `json:"reorder"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&d); err != nil {
		http.Error(w, "delivery: "+err.Error(), http.StatusBadRequest)
		return
	}
	var od fcrt.OSSDelivery
	od.Duplicate = d.Duplicate
	for _, p := range []struct {
		s   string
		dst *time.Duration
	}{{d.Delay, &od.Delay}, {d.Reorder, &od.Reorder}} {
		if p.s == "" {
			continue
		}
		v, err := time.ParseDuration(p.s)
		if err != nil {
			http.Error(w, "delivery: "+err.Error(), http.StatusBadRequest)
			return
		}
		*p.dst = v
	}
	c.FC.SetOSSDelivery(od)
	w.WriteHeader(http.StatusNoContent)
}
