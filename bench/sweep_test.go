package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// sweepOutput mirrors internal/sweepdriver's output.
type sweepOutput struct {
	ElapsedMS    int64          `json:"elapsed_ms"`
	Listeners    int            `json:"listeners"`
	Targets      int            `json:"targets"`
	Errors       int            `json:"errors"`
	FirstError   string         `json:"first_error"`
	Calls        map[string]int `json:"calls"`
	VmHWMKB      int64          `json:"vm_hwm_kb"`
	HeapSysBytes uint64         `json:"heap_sys_bytes"`
	SysBytes     uint64         `json:"sys_bytes"`
	TotalAlloc   uint64         `json:"total_alloc_bytes"`
	TimeoutMS    int64          `json:"timeout_ms"`

	Probe              string         `json:"probe"`
	ProbeTimeoutMS     int64          `json:"probe_timeout_ms"`
	ProbeConcurrency   int            `json:"probe_concurrency"`
	Probes             probeCounts    `json:"probes"`
	Handshakes         int            `json:"handshakes"`
	Addresses          int            `json:"addresses"`
	MaxInFlight        int            `json:"max_in_flight"`
	FirstProbeMS       int64          `json:"first_probe_ms"`
	LastProbeEndMS     int64          `json:"last_probe_end_ms"`
	LastInventoryEndMS int64          `json:"last_inventory_end_ms"`
	ProblemsByStage    map[string]int `json:"problems_by_stage"`
	ProbeProblem       string         `json:"probe_problem"`
}

// probeCounts mirrors expiry.ProbeCounts.
type probeCounts struct {
	Probed      int `json:"probed"`
	Matched     int `json:"matched"`
	Drift       int `json:"drift"`
	Unreachable int `json:"unreachable"`
	Skipped     int `json:"skipped"`
	OutOfTime   int `json:"outOfTime"`
}

// probeBound is the least time the probes of a blackholed sweep take:
// every address needs one handshake that lasts the probe timeout (its
// other targets are not dialled), conc at a time.
func probeBound(addresses, conc int, timeout time.Duration) time.Duration {
	if conc <= 0 {
		return 0
	}
	return time.Duration((addresses+conc-1)/conc) * timeout
}

// goBuild builds pkg into dir/name with the Makefile's flags.
func goBuild(b *testing.B, dir, name, pkg string) string {
	b.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkExpirySweep: the inventory of 10 regions x BENCH_SWEEP_LBS load
// balancers (default 20; the headline is 200) x 5 HTTPS listeners
// under a 20 QPS per-action limit, run by a child process (the sweep as
// the function wires it, CONCURRENCY 16, a 600 s deadline). Bound: the
// busiest action's minimal calls beyond the burst / 20 QPS. Goals: time <=
// 1.2 x bound, successful calls <= 1.05 x the minimal page count, peak RSS
// <= 64 MB.
//
// BENCH_SWEEP_PROBE turns the probes on as the timer's default payload
// does: "1" (or "blackhole") models intranet VIPs, every handshake waiting
// the full 5 s probe timeout (a fake prober in the driver only);
// "refuse" uses the real prober against the emulator's NoFrontends
// addresses, which refuse at once. With probes the bound is max(QPS bound,
// probe bound), the probe bound for a blackhole being ceil(addresses / 32)
// x 5 s. BENCH_SWEEP_DRIVER runs a prebuilt driver instead of building
// ./internal/sweepdriver (to measure another version of shared/expiry).
func BenchmarkExpirySweep(b *testing.B) {
	const qps, burst = 20, 20
	nRegions, nLB, nL := 10, envInt("BENCH_SWEEP_LBS", 20), 5
	regions := slb.DefaultRegions[:nRegions]
	l := startLocal(b, emulator.Options{Regions: regions, NoFrontends: true}, aliyun.RetryPolicy{})
	now := time.Now()
	p := certstest.SelfSigned(b, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(60 * 24 * time.Hour)})
	for _, r := range regions {
		l.SeedListeners(b, r, "www", "lb", nLB, nL, p)
	}
	driver := os.Getenv("BENCH_SWEEP_DRIVER")
	if driver == "" {
		driver = goBuild(b, b.TempDir(), "sweepdriver", "./internal/sweepdriver")
	}
	probe := os.Getenv("BENCH_SWEEP_PROBE")
	switch probe {
	case "", "0", "off":
		probe = "off"
	case "1", "blackhole":
		probe = "blackhole"
	case "refuse":
	default:
		b.Fatalf("BENCH_SWEEP_PROBE = %q: want 1 (blackhole), refuse or off", probe)
	}
	const probeTimeout, probeConc = 5 * time.Second, 32
	minimal := MinimalSweepCalls(nRegions, nLB, nL)
	qpsBound := QPSBound(minimal, qps, burst)
	bound, boundName := qpsBound, "QPS bound"
	if pb := probeBound(nRegions*nLB, probeConc, probeTimeout); probe == "blackhole" && pb > qpsBound {
		bound, boundName = pb, "probe bound"
	}

	var wall time.Duration
	var last sweepOutput
	var okCalls, attempts int
	var maxRSSKB int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l.Cloud.Faults.Set(faults.Rule{QPS: qps, Burst: burst})
		m := l.mark()
		cmd := exec.CommandContext(context.Background(), driver)
		cmd.Env = append(os.Environ(), "SWEEP_SLB_ENDPOINT="+l.Cloud.SLBEndpoint(), "SWEEP_REGIONS="+strings.Join(regions, ","),
			"ALIBABA_CLOUD_ACCESS_KEY_ID="+l.Creds.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+l.Creds.AccessKeySecret,
			"SWEEP_PROBE="+probe, fmt.Sprintf("SWEEP_PROBE_TIMEOUT=%s", probeTimeout), fmt.Sprintf("SWEEP_PROBE_CONCURRENCY=%d", probeConc), "SWEEP_TIMEOUT=600s")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		b.StartTimer()
		start := time.Now()
		err := cmd.Run()
		wall += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatalf("sweep driver: %v\n%s", err, stderr.String())
		}
		if err := json.Unmarshal(stdout.Bytes(), &last); err != nil {
			b.Fatalf("driver output %q: %v", stdout.String(), err)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			maxRSSKB = max(maxRSSKB, ru.Maxrss)
		}
		ok, n := l.since(m).ok()
		okCalls += Sum(ok)
		attempts += n
	}
	if last.Listeners != nRegions*nLB*nL {
		b.Errorf("sweep saw %d listeners, want %d (errors %d: %s)", last.Listeners, nRegions*nLB*nL, last.Errors, last.FirstError)
	}
	n := float64(b.N)
	minCalls := float64(Sum(minimal))
	b.ReportMetric(ms(wall)/n, "ms/sweep")
	b.ReportMetric(ms(bound), "bound_ms")
	b.ReportMetric(float64(wall)/n/float64(bound), "ratio")
	b.ReportMetric(float64(okCalls)/n/minCalls, "calls_ratio")
	b.ReportMetric(float64(attempts)/n/minCalls, "attempts_ratio")
	b.ReportMetric(float64(maxRSSKB)/1024, "peak_rss_MB")
	b.ReportMetric(float64(last.HeapSysBytes)/(1<<20), "heap_sys_MB")
	policy := "adapter defaults"
	complete := "complete"
	if inv := last.Errors - last.ProblemsByStage["probe"]; inv > 0 {
		complete = "INCOMPLETE (inventory errors: ratio not meaningful)"
	}
	probeNote := "probe off (inventory only)"
	if probe != "off" {
		sequential := ""
		if probe == "blackhole" {
			sequential = fmt.Sprintf(", probes after the inventory would need >= %.0f s + %.0f s", ms(qpsBound)/1000, ms(probeBound(nRegions*nLB, probeConc, probeTimeout))/1000)
		}
		probeNote = fmt.Sprintf("probe %s (%d addresses, %d handshakes, %d probed / %d unreachable / %d out of time; probes %.1f–%.1f s, inventory until %.1f s, max %d in flight%s)",
			probe, last.Addresses, last.Handshakes, last.Probes.Probed, last.Probes.Unreachable, last.Probes.OutOfTime,
			float64(last.FirstProbeMS)/1000, float64(last.LastProbeEndMS)/1000, float64(last.LastInventoryEndMS)/1000, last.MaxInFlight, sequential)
		if probe == "blackhole" && last.Probes.Unreachable+last.Probes.OutOfTime != nRegions*nLB*nL {
			b.Errorf("blackhole: %d unreachable + %d out of time, want all %d targets", last.Probes.Unreachable, last.Probes.OutOfTime, nRegions*nLB*nL)
		}
	}
	if last.Probes.OutOfTime > 0 {
		b.Errorf("%d probes ran out of time: %s", last.Probes.OutOfTime, last.ProbeProblem)
	}
	b.ReportMetric(float64(last.ElapsedMS)/float64(last.TimeoutMS), "of_timeout")
	record(b, fmt.Sprintf("| expiry sweep %dx%dx%d (%d listeners), 20 QPS/action, %s, %s | %.1f s | %.1f s (%s) | %.2f | <= 1.2 | %s; %.1f s of the 600 s timeout (%.0f %%); calls: %.0f ok / %.0f minimal = %.3f (goal <= 1.05); attempts incl. throttled %.0f (%.2fx); peak RSS %.1f MB (goal <= 64), heap sys %.1f MB; %d errors |",
		nRegions, nLB, nL, nRegions*nLB*nL, policy, probeNote, ms(wall)/n/1000, ms(bound)/1000, boundName, float64(wall)/n/float64(bound), complete,
		float64(last.ElapsedMS)/1000, 100*float64(last.ElapsedMS)/float64(last.TimeoutMS),
		float64(okCalls)/n, minCalls, float64(okCalls)/n/minCalls, float64(attempts)/n, float64(attempts)/n/minCalls,
		float64(maxRSSKB)/1024, float64(last.HeapSysBytes)/(1<<20), last.Errors))
}

func TestProbeBound(t *testing.T) {
	tests := []struct {
		addresses, conc int
		want            time.Duration
	}{
		{200, 32, 35 * time.Second},   // 7 waves
		{2000, 32, 315 * time.Second}, // 63 waves
		{32, 32, 5 * time.Second},
		{0, 32, 0},
		{10, 0, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d", tc.addresses, tc.conc), func(t *testing.T) {
			if got := probeBound(tc.addresses, tc.conc, 5*time.Second); got != tc.want {
				t.Errorf("probeBound(%d, %d, 5s) = %s, want %s", tc.addresses, tc.conc, got, tc.want)
			}
		})
	}
}
