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
		res, err := r.RotateName(context.Background(), time.Now(), l.Bucket, "www")
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

// steadyJob is the i-th rotation of a benchmark's pair as a RotationJob:
// from the second one on, a released generation is collected at release;
// from the third one on, cleanup deletes one superseded certificate of ours
// (KEEP_SUPERSEDED=1; the very first certificate is the user's).
func steadyJob(lbs, listeners, i int, lock bool) RotationJob {
	j := RotationJob{LoadBalancers: lbs, Listeners: listeners, Lock: lock, PreviousGeneration: lock && i >= 1}
	if i >= 2 {
		j.CleanupDeletes = 1
	}
	return j
}

// BenchmarkRotateOneListener: one listener rotated with 20 ms added to
// every API call (SLB and OSS), wired as rotate-on-upload is (the lock
// included). Bound: the job's model (RotationJob.Rounds x 20 ms), not the
// run's request log. Goal ratio <= 1.2.
func BenchmarkRotateOneListener(b *testing.B) {
	benchOneListener(b, true)
}

// BenchmarkRotateOneListenerNoLock: the same without the cross-instance
// lock, to show what the lock costs.
func BenchmarkRotateOneListenerNoLock(b *testing.B) {
	benchOneListener(b, false)
}

func benchOneListener(b *testing.B, lock bool) {
	l := startLocal(b, emulator.Options{Latency: latency, Regions: []string{"cn-zhangjiakou"}}, aliyun.RetryPolicy{})
	l.seedListeners(b, "cn-zhangjiakou", 1, 1)
	r := l.rotator([]string{"cn-zhangjiakou"})
	if !lock {
		r.Locks = nil
	}
	var wall, bound time.Duration
	var calls, rounds, modelRounds, modelCalls int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run := rotateOnce(b, l, r, i, 1)
		job := steadyJob(1, 1, i, lock)
		wall += run.wall
		bound += job.Bound(latency, 0, 0)
		calls += Sum(run.ok)
		rounds += run.rounds
		modelRounds += job.Rounds()
		modelCalls += Sum(job.Calls())
	}
	n := float64(b.N)
	b.ReportMetric(ms(wall)/n, "ms/rotation")
	b.ReportMetric(ms(bound)/n, "bound_ms")
	b.ReportMetric(float64(wall)/float64(bound), "ratio")
	b.ReportMetric(float64(modelRounds)/n, "model_rounds")
	b.ReportMetric(float64(rounds)/n, "log_rounds")
	b.ReportMetric(float64(calls)/n, "api_calls/rotation")
	what := "one listener, +20 ms per call, with the lock"
	if !lock {
		what = "one listener, +20 ms per call, without the lock (comparison)"
	}
	record(b, fmt.Sprintf("| %s | %.1f ms | %.0f ms (model: %.1f rounds x 20 ms) | %.2f | <= 1.2 | %.1f API calls (SLB+OSS) per rotation, model %.1f; %.1f dependent rounds in the request log |",
		what, ms(wall)/n, ms(bound)/n, float64(modelRounds)/n, float64(wall)/float64(bound), float64(calls)/n, float64(modelCalls)/n, float64(rounds)/n))
}

// BenchmarkRotateFanout50: one certificate to 50 listeners on 5 load
// balancers, 20 ms per call and a 20 QPS per-action limit, the lock
// included. Bound, from the job's model: max(dependent rounds x 20 ms,
// busiest action's minimal calls beyond the burst / 20 QPS). Goal ratio
// <= 1.3 (set by the pipelining issue).
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
		l.Cloud.Faults.Set(faults.Rule{Latency: latency, QPS: qps, Burst: burst})
		run := rotateOnce(b, l, r, i, 50)
		wall += run.wall
		bound += steadyJob(5, 10, i, true).Bound(latency, qps, burst)
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
	record(b, fmt.Sprintf("| 50 listeners on 5 LBs, +20 ms, 20 QPS/action, adapter defaults, with the lock | %.0f ms | %.0f ms (model; busiest in the run: %s) | %.2f | <= 1.3 | %.0f successful calls, %.0f attempts (throttled retries included), %.2f invocations per rotation (FC retries) |",
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
				res, err := r.RotateName(context.Background(), time.Now(), l.Bucket, "www")
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
