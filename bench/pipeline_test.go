package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
)

// sequentialDeploy is the side-by-side reference: a simple deployer over
// the same adapters that reads the pair, uploads it, lists the load
// balancers and each one's listeners, then describes and switches one
// listener at a time (no concurrency, no verification, no cleanup). It
// returns its API calls.
func sequentialDeploy(ctx context.Context, l *local, s *aliyun.SLB, region, name string) (int, error) {
	certPEM, err := l.OSS.Get(ctx, l.Bucket, "certs/www/fullchain.pem", 1<<20)
	if err != nil {
		return 1, err
	}
	keyPEM, err := l.OSS.Get(ctx, l.Bucket, "certs/www/privkey.pem", 1<<20)
	if err != nil {
		return 2, err
	}
	up, err := s.UploadServerCertificate(ctx, region, name, string(certPEM), string(keyPEM), nil)
	if err != nil {
		return 3, err
	}
	lbs, err := s.ListLoadBalancers(ctx, region)
	calls := 4
	if err != nil {
		return calls, err
	}
	for _, lb := range lbs {
		ls, err := s.ListHTTPSListeners(ctx, region, []string{lb.ID})
		calls++
		if err != nil {
			return calls, err
		}
		for _, li := range ls {
			cur, _, err := s.DescribeHTTPSListener(ctx, region, lb.ID, li.Port)
			calls++
			if err != nil {
				return calls, err
			}
			if cur.ServerCertificateID == up.ID {
				continue
			}
			calls++
			if err := s.SetListenerCertificate(ctx, region, lb.ID, li.Port, up.ID); err != nil {
				return calls, err
			}
		}
	}
	return calls, nil
}

// BenchmarkPipelineVersusSequential rotates one certificate onto every
// listener with the product's rotation and, in the same run on the same
// local cloud, with the sequential reference (each from a fresh rate-limit
// bucket), and reports ours / bound (PipelineBound, from the job) and
// sequential / ours. Sizes: 50 listeners on 5 load balancers and 200 on 20;
// 20 ms per call, with a 20 QPS per-action bucket (burst 20) or no limit.
func BenchmarkPipelineVersusSequential(b *testing.B) {
	const region, qpsLimit, burst = "cn-zhangjiakou", 20, 20
	for _, size := range []struct{ lbs, ls int }{{5, 10}, {20, 10}} {
		for _, qps := range []float64{qpsLimit, 0} {
			limit := "no limit"
			if qps > 0 {
				limit = fmt.Sprintf("%.0f QPS/action", qps)
			}
			b.Run(fmt.Sprintf("%dx%d/%s", size.lbs, size.ls, limit), func(b *testing.B) {
				job := PipelineJob{LBs: size.lbs, Listeners: size.ls, Concurrency: 16, Lock: true} // the harness wires the lock
				l := startLocal(b, emulator.Options{Regions: []string{region}}, aliyun.RetryPolicy{})
				l.seedListeners(b, region, size.lbs, size.ls)
				r := l.rotator([]string{region})
				bound := PipelineBound(job, qps, burst, latency)
				var ours, seq time.Duration
				var calls, attempts, seqCalls int
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					l.Cloud.Faults.Set(faults.Rule{Latency: latency, QPS: qps, Burst: burst})
					run := rotateOnce(b, l, r, 2*i, job.Targets())
					ours += run.wall
					calls += Sum(run.ok)
					attempts += run.attempts
					seq += l.runSequential(b, region, 2*i+1, &seqCalls)
				}
				n := float64(b.N)
				ratio, speedup := float64(ours)/n/float64(bound), float64(seq)/float64(ours)
				b.ReportMetric(ms(ours)/n, "ms/rotation")
				b.ReportMetric(ms(seq)/n, "sequential_ms")
				b.ReportMetric(ms(bound), "bound_ms")
				b.ReportMetric(ratio, "ratio")
				b.ReportMetric(speedup, "speedup")
				b.ReportMetric(float64(calls)/n, "api_calls/rotation")
				b.ReportMetric(float64(attempts)/n, "attempts/rotation")
				b.Logf("ours %.0f ms, sequential %.0f ms, bound %.0f ms: ours/bound %.2f, sequential/ours %.2f; %0.f calls (model %d), %.0f attempts; sequential %.0f calls",
					ms(ours)/n, ms(seq)/n, ms(bound), ratio, speedup, float64(calls)/n, Sum(job.Calls()), float64(attempts)/n, float64(seqCalls)/n)
				record(b, fmt.Sprintf("| pipeline %d listeners on %d LBs, +20 ms, %s | %.0f ms | %.0f ms (model) | %.2f | <= 1.3 | sequential reference %.0f ms in the same run: %.2f x faster; %.0f calls (model %d), %.0f attempts |",
					job.Targets(), size.lbs, limit, ms(ours)/n, ms(bound), ratio, ms(seq)/n, speedup, float64(calls)/n, Sum(job.Calls()), float64(attempts)/n))
			})
		}
	}
}

// runSequential puts the i-th renewal and times the sequential reference
// on a fresh bucket and a fresh adapter (nothing learned from our run).
func (l *local) runSequential(b *testing.B, region string, i int, calls *int) time.Duration {
	b.Helper()
	l.put(b, pair(b, i))
	rule := l.Cloud.Faults.Rules()
	if len(rule) > 0 {
		l.Cloud.Faults.Set(rule[0]) // a fresh bucket
	}
	s := aliyun.NewSLB(l.Creds, aliyun.SLBOptions{Endpoint: l.Cloud.SLBEndpoint()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	n, err := sequentialDeploy(ctx, l, s, region, fmt.Sprintf("seq-%d", i))
	d := time.Since(start)
	if err != nil {
		b.Fatalf("sequential reference: %v", err)
	}
	*calls += n
	return d
}
