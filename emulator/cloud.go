// Package emulator is the local cloud: it composes the SLB RPC API
// (emulator/slb, with its live TLS frontends), the OSS REST API
// (emulator/oss) and Function Compute (emulator/fcrt) behind three loopback
// HTTP endpoints, with one seeded fault injector (emulator/faults) and the
// functions of the project's s.yaml deployed. Tests use it in-process;
// emulator/cmd/localcloud runs it as one process.
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
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
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
	// Now is the clock of SLB and OSS (default time.Now).
	Now func() time.Time
}

// Cloud is a running local cloud.
type Cloud struct {
	SLB    *slb.Server
	OSS    *oss.Server
	FC     *fcrt.Runtime
	Faults *faults.Injector

	bucket, bucketRegion string
	accounts             []slb.Account
	servers              []*http.Server
	slbURL, ossURL       string
	fcURL                string
	started              time.Time
}

// Start binds three 127.0.0.1 ports (SLB, OSS, FC/control) and returns the
// running cloud.
func Start(opts Options) (*Cloud, error) {
	start := time.Now()
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

	ossAccounts := make([]oss.Account, len(accounts))
	for i, a := range accounts {
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

	lns := make([]net.Listener, 3)
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			for _, l := range lns[:i] {
				l.Close()
			}
			c.SLB.Close()
			return nil, fmt.Errorf("emulator: listen: %w", err)
		}
		lns[i] = ln
	}
	c.slbURL, c.ossURL, c.fcURL = "http://"+lns[0].Addr().String(), "http://"+lns[1].Addr().String(), "http://"+lns[2].Addr().String()

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

	mux := http.NewServeMux()
	c.FC.Register(mux)
	mux.HandleFunc("GET /local/state", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, c.State()) })
	mux.HandleFunc("GET /local/requests", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, c.RequestLog()) })
	mux.HandleFunc("POST /local/faults", c.handleFaults)
	mux.HandleFunc("DELETE /local/faults", func(w http.ResponseWriter, r *http.Request) { inj.Clear(); w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /local/oss-delivery", c.handleDelivery)

	for i, h := range []http.Handler{c.SLB, c.OSS, mux} {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
		c.servers = append(c.servers, srv)
		go srv.Serve(lns[i])
	}

	if opts.SYAML != "" {
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
			c.Close()
			return nil, fmt.Errorf("emulator: deploy %s: %w", opts.SYAML, err)
		}
	}
	return c, nil
}

func hasRule(inj *faults.Injector, action string) bool {
	return slices.ContainsFunc(inj.Rules(), func(r faults.Rule) bool { return r.Action == action })
}

// functionEnv is what every function sees of the cloud: its endpoints and
// bucket.
func (c *Cloud) functionEnv() map[string]string {
	return map[string]string{
		"SLB_ENDPOINT": c.slbURL,
		"OSS_ENDPOINT": c.ossURL,
		"OSS_REGION":   c.bucketRegion,
		"CERT_BUCKET":  c.bucket,
		"REGION":       c.bucketRegion,
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
	SLB    slb.State                     `json:"slb"`
	OSS    []oss.BucketDump              `json:"oss"`
	FC     fcrt.Dump                     `json:"fc"`
	Faults map[string]faults.ActionStats `json:"faults"`
}

// State returns the current state of every service.
func (c *Cloud) State() State {
	return State{SLB: c.SLB.Dump(), OSS: c.OSS.Dump(), FC: c.FC.Dump(), Faults: c.Faults.Stats()}
}

// RequestLog is the request log served at /local/requests.
type RequestLog struct {
	SLB []slb.RequestRecord `json:"slb"`
	OSS []oss.RequestRecord `json:"oss"`
	FC  []fcrt.AsyncRecord  `json:"fc_async"`
}

// RequestLog returns the request logs of every service.
func (c *Cloud) RequestLog() RequestLog {
	return RequestLog{SLB: c.SLB.Requests(), OSS: c.OSS.Requests(), FC: c.FC.AsyncResults()}
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
	errs = append(errs, c.SLB.Close())
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
