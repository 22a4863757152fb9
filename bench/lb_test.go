package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

const lbRegion = "cn-zhangjiakou"

// lbRotator is the rotation as rotate-on-upload wires it for LB_PRODUCTS
// products (the ALB and NLB adapters with their default poll interval, one
// CAS adapter, the lock in the bucket), resolving the instances' DNS names
// through the local cloud.
func (l *local) lbRotator(products ...string) *rotation.Rotator {
	return l.WithProducts(l.rotator([]string{lbRegion}), products...)
}

// seedLBListeners creates n ALB (or NLB) instances with one listener on
// 443 each, serving an old www.example.com certificate from CAS.
func (l *local) seedLBListeners(b *testing.B, kind string, n int) {
	b.Helper()
	now := time.Now()
	old := certstest.SelfSigned(b, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-80 * 24 * time.Hour), NotAfter: now.Add(10 * 24 * time.Hour)})
	id, err := l.Cloud.CAS.Seed(lbRegion, "old-www-"+kind, string(old.CertPEM), string(old.KeyPEM))
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		var lb string
		if kind == clb.ProductALB {
			if lb, err = l.Cloud.ALB.SeedLoadBalancer(lbRegion, fmt.Sprintf("alb-%d", i), "Standard"); err == nil {
				_, err = l.Cloud.ALB.SeedListener(lbRegion, lb, 443, "HTTPS", id)
			}
		} else {
			if lb, err = l.Cloud.NLB.SeedLoadBalancer(lbRegion, fmt.Sprintf("nlb-%d", i)); err == nil {
				_, err = l.Cloud.NLB.SeedListener(lbRegion, lb, 443, "TCPSSL", id)
			}
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// calls is how many requests the local cloud has seen (SLB, OSS, ALB,
// NLB and CAS).
func (l *local) calls() int {
	return len(l.Cloud.SLB.Requests()) + len(l.Cloud.OSS.Requests()) + len(l.Cloud.ALB.Requests()) +
		len(l.Cloud.NLB.Requests()) + len(l.Cloud.CAS.Requests())
}

// benchLB rotates job's listeners b.N times (seeded by the caller) and
// reports the time against job.Bound. From rotation cleanupFrom on (0
// based), cleanup deletes a superseded certificate of ours: KEEP 1 keeps
// the one just replaced and one more, and the first one replaced is the
// user's (CLB: from the third rotation; CAS: from the fourth).
func benchLB(b *testing.B, l *local, r *rotation.Rotator, job LBJob, cleanupFrom int, what string, goal float64) {
	want := job.CLB + job.ALB + job.NLB
	var wall, bound time.Duration
	var calls, rounds int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l.put(b, pair(b, i))
		before := l.calls()
		b.StartTimer()
		start := time.Now()
		res, err := r.RotateName(context.Background(), time.Now(), l.Bucket, "www")
		wall += time.Since(start)
		b.StopTimer()
		_, sw, _, _, _ := res.Counts()
		if err != nil || res.Status != rotation.StatusRotated || sw != want {
			b.Fatalf("rotation %d: status %s, %d of %d targets switched, err %v, errors %v", i, res.Status, sw, want, err, res.Errors)
		}
		calls += l.calls() - before
		// From the second rotation on, release collects the previous
		// lock generation.
		ji := job
		ji.PreviousGeneration = job.Lock && i >= 1
		ji.Cleanup = i >= cleanupFrom
		bound += ji.Bound(latency)
		rounds += ji.Rounds()
	}
	n := float64(b.N)
	ratio := float64(wall) / float64(bound)
	b.ReportMetric(ms(wall)/n, "ms/rotation")
	b.ReportMetric(ms(bound)/n, "bound_ms")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(float64(calls)/n, "api_calls/rotation")
	record(b, fmt.Sprintf("| %s | %.0f ms | %.0f ms (model: %.1f rounds x 20 ms + switch phase %.0f ms) | %.2f | <= %.1f | %.0f API calls (SLB, OSS, ALB, NLB, CAS) per rotation |",
		what, ms(wall)/n, ms(bound)/n, float64(rounds)/n, ms(job.Switches(latency)), ratio, goal, float64(calls)/n))
}

// BenchmarkRotateALBListener: one ALB listener rotated with 20 ms added to
// every call and a 2 s Configuring time, wired as rotate-on-upload is (the
// lock, the adapters' default 250 ms poll interval). Bound: LBJob's model.
// Goal ratio <= 1.2.
func BenchmarkRotateALBListener(b *testing.B) {
	l := startLocal(b, emulator.Options{Latency: latency, LBConfiguring: 2 * time.Second, Regions: []string{lbRegion}}, aliyun.RetryPolicy{})
	l.seedLBListeners(b, clb.ProductALB, 1)
	job := LBJob{ALB: 1, Concurrency: 16, Configuring: 2 * time.Second, Lock: true}
	benchLB(b, l, l.lbRotator(clb.ProductALB), job, 3, "one ALB listener, +20 ms per call, 2 s Configuring, with the lock", 1.2)
}

// BenchmarkRotateMixed50: one drop reaching 50 listeners (20 CLB listeners
// on 2 load balancers, 15 ALB and 15 NLB instances with one listener
// each), 20 ms per call, 2 s Configuring, the lock. Bound: LBJob's
// dependency-aware model (the 30 ALB/NLB switches share CONCURRENCY 16
// slots with the CLB ones). Goal ratio <= 1.3.
func BenchmarkRotateMixed50(b *testing.B) {
	l := startLocal(b, emulator.Options{Latency: latency, LBConfiguring: 2 * time.Second, Regions: []string{lbRegion}}, aliyun.RetryPolicy{})
	l.seedListeners(b, lbRegion, 2, 10)
	l.seedLBListeners(b, clb.ProductALB, 15)
	l.seedLBListeners(b, clb.ProductNLB, 15)
	job := LBJob{CLB: 20, ALB: 15, NLB: 15, Concurrency: 16, Configuring: 2 * time.Second, Lock: true}
	r := l.lbRotator(clb.ProductCLB, clb.ProductALB, clb.ProductNLB)
	benchLB(b, l, r, job, 2, "50 listeners (20 CLB, 15 ALB, 15 NLB), +20 ms per call, 2 s Configuring, with the lock", 1.3)
}
