// Command sweepdriver runs one expiry sweep (as the expiry-check function
// wires it) against SWEEP_SLB_ENDPOINT and prints one JSON object with its
// duration, calls, probe figures and memory figures. The benchmarks run it
// as a child process so that its peak RSS is its own.
//
// Environment: SWEEP_SLB_ENDPOINT, SWEEP_REGIONS (comma separated),
// SWEEP_CONCURRENCY (default 16, as s.yaml's CONCURRENCY), and the
// ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET pair. The adapter runs with its
// defaults (pacer and retry policy), as in the function.
//
// SWEEP_TIMEOUT (default 600s, the expiry-check function's timeout in
// s.yaml) is the deadline of the sweep's context, as FC gives it.
//
// SWEEP_PROBE turns the probes on (the timer's default payload has
// "probe": true):
//
//	""/"off"   inventory only
//	"refuse"   the real TLS prober (shared/tlsprobe); the local cloud's
//	           NoFrontends addresses (127.0.0.x, nothing listening) refuse
//	           at once
//	"blackhole" a fake prober that models intranet VIPs unreachable from
//	           FC: every handshake waits the full probe timeout (or the
//	           context) and fails as a timeout, without touching the
//	           network. Only this driver has it; the function always uses
//	           the real prober.
//
// SWEEP_PROBE_TIMEOUT (default 5s, PROBE_TIMEOUT) and
// SWEEP_PROBE_CONCURRENCY (default expiry.DefaultProbeConcurrency) set the
// sweep's probe knobs.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// output is what the driver prints.
type output struct {
	ElapsedMS    int64          `json:"elapsed_ms"`
	TimeoutMS    int64          `json:"timeout_ms"`
	Listeners    int            `json:"listeners"`
	Targets      int            `json:"targets"`
	Errors       int            `json:"errors"`
	FirstError   string         `json:"first_error,omitempty"`
	Calls        map[string]int `json:"calls"`
	VmHWMKB      int64          `json:"vm_hwm_kb"`
	HeapSysBytes uint64         `json:"heap_sys_bytes"`
	SysBytes     uint64         `json:"sys_bytes"`
	TotalAlloc   uint64         `json:"total_alloc_bytes"`
	NumGC        uint32         `json:"num_gc"`

	// Probe figures (zero when SWEEP_PROBE is off). Times are from the
	// sweep's start.
	Probe              string             `json:"probe"`
	ProbeTimeoutMS     int64              `json:"probe_timeout_ms"`
	ProbeConcurrency   int                `json:"probe_concurrency"`
	Probes             expiry.ProbeCounts `json:"probes"`
	Handshakes         int                `json:"handshakes"`
	Addresses          int                `json:"addresses"`
	MaxInFlight        int                `json:"max_in_flight"`
	FirstProbeMS       int64              `json:"first_probe_ms"`
	LastProbeEndMS     int64              `json:"last_probe_end_ms"`
	LastInventoryEndMS int64              `json:"last_inventory_end_ms"`
	ProblemsByStage    map[string]int     `json:"problems_by_stage,omitempty"`
	ProbeProblem       string             `json:"probe_problem,omitempty"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sweepdriver:", err)
		os.Exit(1)
	}
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s = %q: want a positive duration such as 5s", name, v)
	}
	return d, nil
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s = %q: want a positive integer", name, v)
	}
	return n, nil
}

func run() error {
	creds, err := aliyun.CredentialsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	conc, err := envInt("SWEEP_CONCURRENCY", 16)
	if err != nil {
		return err
	}
	timeout, err := envDuration("SWEEP_TIMEOUT", 600*time.Second)
	if err != nil {
		return err
	}
	probeTimeout, err := envDuration("SWEEP_PROBE_TIMEOUT", expiry.DefaultProbeTimeout)
	if err != nil {
		return err
	}
	probeConc, err := envInt("SWEEP_PROBE_CONCURRENCY", expiry.DefaultProbeConcurrency)
	if err != nil {
		return err
	}
	start := time.Now()
	rec := &recorder{start: start, addrs: map[string]bool{}}
	inv := &timedInventory{CLBAPI: aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: os.Getenv("SWEEP_SLB_ENDPOINT")}), rec: rec}
	s := &expiry.Sweeper{Inventory: inventory.CLB{API: inv}, Concurrency: conc, ProbeTimeout: probeTimeout, ProbeConcurrency: probeConc}
	mode := os.Getenv("SWEEP_PROBE")
	switch mode {
	case "", "off", "0":
		mode = "off"
	case "refuse":
		s.Prober = rec.wrap(app.TLSProber(""))
	case "blackhole", "1":
		mode = "blackhole"
		s.Prober = rec.wrap(expiry.ProbeFunc(blackhole))
	default:
		return fmt.Errorf("SWEEP_PROBE = %q: want off, refuse or blackhole", mode)
	}
	regions := strings.Split(os.Getenv("SWEEP_REGIONS"), ",")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rep, err := s.Sweep(ctx, start, expiry.Request{Regions: regions, Probe: mode != "off"})
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := output{
		ElapsedMS: elapsed.Milliseconds(), TimeoutMS: timeout.Milliseconds(), Listeners: rep.Listeners, Targets: rep.Targets,
		Errors: len(rep.Errors), Calls: rep.Calls, VmHWMKB: vmHWM(),
		HeapSysBytes: ms.HeapSys, SysBytes: ms.Sys, TotalAlloc: ms.TotalAlloc, NumGC: ms.NumGC,
		Probe: mode, ProbeTimeoutMS: probeTimeout.Milliseconds(), ProbeConcurrency: probeConc, Probes: rep.Probes,
	}
	rec.fill(&out)
	if len(rep.Errors) > 0 {
		out.FirstError = rep.Errors[0].Error
		out.ProblemsByStage = map[string]int{}
		for _, p := range rep.Errors {
			out.ProblemsByStage[p.Stage]++
			if p.Stage == "probe" && out.ProbeProblem == "" {
				out.ProbeProblem = p.Error
			}
		}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// blackhole is the "intranet VIP" prober: nothing answers, so the
// handshake lasts the whole timeout and fails as a timeout.
func blackhole(ctx context.Context, address string, port int, _ string, timeout time.Duration) expiry.ProbeResult {
	if pause.For(ctx, timeout) {
		return expiry.ProbeResult{Err: fmt.Sprintf("dial tcp %s:%d: i/o timeout (blackhole)", address, port)}
	}
	return expiry.ProbeResult{Err: fmt.Sprintf("dial tcp %s:%d: %v", address, port, ctx.Err())}
}

// recorder times the probes and the inventory calls.
type recorder struct {
	start time.Time
	mu    sync.Mutex

	handshakes, inFlight, maxInFlight int
	firstProbe, lastProbeEnd, lastInv time.Duration
	addrs                             map[string]bool
}

func (r *recorder) wrap(p expiry.Prober) expiry.Prober {
	return expiry.ProbeFunc(func(ctx context.Context, address string, port int, sni string, timeout time.Duration) expiry.ProbeResult {
		r.mu.Lock()
		if r.handshakes == 0 {
			r.firstProbe = time.Since(r.start)
		}
		r.handshakes++
		r.addrs[address] = true
		r.inFlight++
		r.maxInFlight = max(r.maxInFlight, r.inFlight)
		r.mu.Unlock()
		res := p.Probe(ctx, address, port, sni, timeout)
		r.mu.Lock()
		r.inFlight--
		r.lastProbeEnd = max(r.lastProbeEnd, time.Since(r.start))
		r.mu.Unlock()
		return res
	})
}

func (r *recorder) invDone() {
	r.mu.Lock()
	r.lastInv = max(r.lastInv, time.Since(r.start))
	r.mu.Unlock()
}

func (r *recorder) fill(o *output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.Handshakes, o.Addresses, o.MaxInFlight = r.handshakes, len(r.addrs), r.maxInFlight
	o.FirstProbeMS, o.LastProbeEndMS, o.LastInventoryEndMS = r.firstProbe.Milliseconds(), r.lastProbeEnd.Milliseconds(), r.lastInv.Milliseconds()
}

// timedInventory records when the last inventory call ended.
type timedInventory struct {
	inventory.CLBAPI
	rec *recorder
}

func (t *timedInventory) ListServerCertificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	defer t.rec.invDone()
	return t.CLBAPI.ListServerCertificates(ctx, region)
}

func (t *timedInventory) ListLoadBalancers(ctx context.Context, region string) ([]clb.LoadBalancer, error) {
	defer t.rec.invDone()
	return t.CLBAPI.ListLoadBalancers(ctx, region)
}

func (t *timedInventory) ListHTTPSListeners(ctx context.Context, region string, lbIDs []string) ([]clb.Listener, error) {
	defer t.rec.invDone()
	return t.CLBAPI.ListHTTPSListeners(ctx, region, lbIDs)
}

func (t *timedInventory) ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error) {
	defer t.rec.invDone()
	return t.CLBAPI.ListDomainExtensions(ctx, region, lbID, port)
}

// vmHWM reads the peak resident set size (kB) from /proc/self/status; 0
// where there is no procfs.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
