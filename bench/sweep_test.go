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
// the function wires it, CONCURRENCY 16). Bound: the busiest action's
// minimal calls beyond the burst / 20 QPS. Goals: time <= 1.2 x bound,
// successful calls <= 1.05 x the minimal page count, peak RSS <= 64 MB.
func BenchmarkExpirySweep(b *testing.B) {
	const qps, burst = 20, 20
	nRegions, nLB, nL := 10, envInt("BENCH_SWEEP_LBS", 20), 5
	regions := slb.DefaultRegions[:nRegions]
	l := startLocal(b, emulator.Options{Regions: regions, NoFrontends: true}, aliyun.RetryPolicy{})
	now := time.Now()
	p := certstest.SelfSigned(b, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(60 * 24 * time.Hour)})
	for _, r := range regions {
		id, err := l.cloud.SLB.SeedServerCertificate(r, "www", string(p.CertPEM), string(p.KeyPEM), nil)
		if err != nil {
			b.Fatal(err)
		}
		for i := range nLB {
			lb, err := l.cloud.SLB.SeedLoadBalancer(r, fmt.Sprintf("lb-%d", i))
			if err != nil {
				b.Fatal(err)
			}
			for k := range nL {
				if err := l.cloud.SLB.SeedHTTPSListener(r, lb, 443+k, id, true); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	driver := goBuild(b, b.TempDir(), "sweepdriver", "./internal/sweepdriver")
	minimal := MinimalSweepCalls(nRegions, nLB, nL)
	bound := QPSBound(minimal, qps, burst)

	var wall time.Duration
	var last sweepOutput
	var okCalls, attempts int
	var maxRSSKB int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l.cloud.Faults.Set(faults.Rule{QPS: qps, Burst: burst})
		m := l.mark()
		cmd := exec.CommandContext(context.Background(), driver)
		cmd.Env = append(os.Environ(), "SWEEP_SLB_ENDPOINT="+l.cloud.SLBEndpoint(), "SWEEP_REGIONS="+strings.Join(regions, ","),
			"ALIBABA_CLOUD_ACCESS_KEY_ID="+l.creds.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET="+l.creds.AccessKeySecret)
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
	if last.Errors > 0 {
		complete = "INCOMPLETE (inventory errors: ratio not meaningful)"
	}
	record(b, fmt.Sprintf("| expiry sweep %dx%dx%d (%d listeners), 20 QPS/action, %s | %.1f s | %.1f s (QPS bound) | %.2f | <= 1.2 | %s; calls: %.0f ok / %.0f minimal = %.3f (goal <= 1.05); attempts incl. throttled %.0f (%.2fx); peak RSS %.1f MB (goal <= 64), heap sys %.1f MB; %d errors |",
		nRegions, nLB, nL, nRegions*nLB*nL, policy, ms(wall)/n/1000, ms(bound)/1000, float64(wall)/n/float64(bound), complete,
		float64(okCalls)/n, minCalls, float64(okCalls)/n/minCalls, float64(attempts)/n, float64(attempts)/n/minCalls,
		float64(maxRSSKB)/1024, float64(last.HeapSysBytes)/(1<<20), last.Errors))
}
