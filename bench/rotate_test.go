package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

const latency = 20 * time.Millisecond

// rotationRun is one measured rotation.
type rotationRun struct {
	wall     time.Duration
	rounds   int
	ok       map[string]int
	attempts int
	switched int
	// invocations is how many invocations it took (FC retries an
	// invocation that ended with a transient error).
	invocations int
	lastErr     string
}

// rotateOnce puts the i-th pair, rotates and returns what happened. Only
// the rotation itself is timed.
func rotateOnce(b *testing.B, l *local, r *rotation.Rotator, i, wantTargets int) rotationRun {
	b.StopTimer()
	l.put(b, pair(b, i))
	m := l.mark()
	var run rotationRun
	switched := 0
	for run.invocations < 5 {
		run.invocations++
		b.StartTimer()
		start := time.Now()
		res, err := r.RotateName(context.Background(), time.Now(), l.bucket, "www")
		run.wall += time.Since(start)
		b.StopTimer()
		_, sw, _, _, _ := res.Counts()
		switched += sw
		if err == nil && res.Status == rotation.StatusRotated {
			break
		}
		if err == nil {
			b.Fatalf("rotation %d: status %s reason %s errors %v", i, res.Status, res.Reason, res.Errors)
		}
		// Transient: FC retries the invocation (immediately here; FC waits).
		run.lastErr = err.Error()
	}
	if switched != wantTargets {
		b.Fatalf("rotation %d switched %d targets in %d invocations, want %d (last error %s)", i, switched, run.invocations, wantTargets, run.lastErr)
	}
	w := l.since(m)
	run.ok, run.attempts = w.ok()
	run.rounds, run.switched = CriticalRounds(w.starts(latency), latency), switched
	return run
}

// BenchmarkRotateOneListener: one listener rotated with 20 ms added to
// every API call (SLB and OSS). Bound: the run's own dependent round trips
// (from the request log) x 20 ms. Goal ratio <= 1.2.
func BenchmarkRotateOneListener(b *testing.B) {
	l := startLocal(b, emulator.Options{Latency: latency, Regions: []string{"cn-zhangjiakou"}}, aliyun.RetryPolicy{})
	l.seedListeners(b, "cn-zhangjiakou", 1, 1)
	r := l.rotator([]string{"cn-zhangjiakou"})
	var wall, bound time.Duration
	var calls, rounds int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run := rotateOnce(b, l, r, i, 1)
		wall += run.wall
		bound += time.Duration(run.rounds) * latency
		calls += Sum(run.ok)
		rounds += run.rounds
	}
	n := float64(b.N)
	b.ReportMetric(ms(wall)/n, "ms/rotation")
	b.ReportMetric(ms(bound)/n, "bound_ms")
	b.ReportMetric(float64(wall)/float64(bound), "ratio")
	b.ReportMetric(float64(rounds)/n, "rounds")
	b.ReportMetric(float64(calls)/n, "api_calls/rotation")
	record(b, fmt.Sprintf("| one listener, +20 ms per call | %.1f ms | %.0f ms (%.1f rounds x 20 ms) | %.2f | <= 1.2 | %.1f API calls (SLB+OSS) per rotation |",
		ms(wall)/n, ms(bound)/n, float64(rounds)/n, float64(wall)/float64(bound), float64(calls)/n))
}

// BenchmarkRotateFanout50: one certificate to 50 listeners on 5 load
// balancers, 20 ms per call and a 20 QPS per-action limit. Bound:
// max(critical path, busiest action's successful calls beyond the burst
// / 20 QPS). Goal ratio <= 1.3.
func BenchmarkRotateFanout50(b *testing.B) {
	const qps, burst = 20, 20
	// The adapter's defaults: its pacer spaces the throttled actions and
	// Throttling is retried until the deadline (no patient-policy override).
	l := startLocal(b, emulator.Options{Regions: []string{"cn-zhangjiakou"}}, aliyun.RetryPolicy{})
	l.seedListeners(b, "cn-zhangjiakou", 5, 10)
	r := l.rotator([]string{"cn-zhangjiakou"})
	var wall, bound time.Duration
	var calls, attempts, invocations int
	var busiest, lastErr string
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		// A fresh bucket for every rotation (no credit from the last one).
		l.cloud.Faults.Set(faults.Rule{Latency: latency, QPS: qps, Burst: burst})
		run := rotateOnce(b, l, r, i, 50)
		crit := time.Duration(run.rounds) * latency
		q := QPSBound(run.ok, qps, burst)
		wall += run.wall
		bound += max(crit, q)
		calls += Sum(run.ok)
		attempts += run.attempts
		invocations += run.invocations
		if run.lastErr != "" {
			lastErr = run.lastErr
		}
		top := 0
		for a, c := range run.ok {
			if c > top {
				top, busiest = c, fmt.Sprintf("%s x%d", a, c)
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(ms(wall)/n, "ms/rotation")
	b.ReportMetric(ms(bound)/n, "bound_ms")
	b.ReportMetric(float64(wall)/float64(bound), "ratio")
	b.ReportMetric(float64(calls)/n, "api_calls/rotation")
	b.ReportMetric(float64(attempts)/n, "attempts/rotation")
	b.ReportMetric(float64(invocations)/n, "invocations/rotation")
	if lastErr != "" {
		b.Logf("an invocation failed transiently (FC would retry it): %.300s", lastErr)
	}
	record(b, fmt.Sprintf("| 50 listeners on 5 LBs, +20 ms, 20 QPS/action, adapter defaults | %.0f ms | %.0f ms (busiest: %s) | %.2f | <= 1.3 | %.0f successful calls, %.0f attempts (throttled retries included), %.2f invocations per rotation (FC retries) |",
		ms(wall)/n, ms(bound)/n, busiest, float64(wall)/float64(bound), float64(calls)/n, float64(attempts)/n, float64(invocations)/n))
}

// BenchmarkCallsVersusNaiveScript compares the API calls of one rotation
// (one listener) with the seed's flow for the same job: a script that
// uploads the certificate and points the listener at it (2 SLB calls; no
// validation, no verification, no cleanup). Reported, not timed.
func BenchmarkCallsVersusNaiveScript(b *testing.B) {
	for _, tc := range []struct {
		name    string
		lbs, ls int
	}{{"1-listener", 1, 1}, {"50-listeners", 5, 10}} {
		b.Run(tc.name, func(b *testing.B) {
			l := startLocal(b, emulator.Options{Regions: []string{"cn-zhangjiakou"}}, aliyun.RetryPolicy{})
			l.seedListeners(b, "cn-zhangjiakou", tc.lbs, tc.ls)
			r := l.rotator([]string{"cn-zhangjiakou"})
			targets := tc.lbs * tc.ls
			var slbCalls, ossCalls, writes int
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				l.put(b, pair(b, i))
				m := l.mark()
				b.StartTimer()
				res, err := r.RotateName(context.Background(), time.Now(), l.bucket, "www")
				b.StopTimer()
				if err != nil || res.Status != rotation.StatusRotated {
					b.Fatalf("status %s err %v", res.Status, err)
				}
				w := l.since(m)
				slbCalls += len(w.slb)
				ossCalls += len(w.oss)
				for _, rec := range w.slb {
					if rec.Action == "UploadServerCertificate" || rec.Action == "DeleteServerCertificate" || rec.Action[:3] == "Set" {
						writes++
					}
				}
			}
			n := float64(b.N)
			naive := 1 + targets // one upload, one SetLoadBalancerHTTPSListenerAttribute per listener
			b.ReportMetric(float64(slbCalls)/n, "slb_calls/rotation")
			b.ReportMetric(float64(ossCalls)/n, "oss_calls/rotation")
			b.ReportMetric(float64(writes)/n, "writes/rotation")
			b.ReportMetric(float64(naive), "naive_calls")
			record(b, fmt.Sprintf("| API calls per rotation, %d listener(s) | %.0f SLB + %.0f OSS (%.0f writes) | naive script: %d SLB | %.2f | report | naive = upload + set per listener, no validation/verification/cleanup (leaves the old certificate) |",
				targets, float64(slbCalls)/n, float64(ossCalls)/n, float64(writes)/n, naive, float64(slbCalls)/n/float64(naive)))
		})
	}
}
