package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// primeSDK guards the first SDK client of the process (services/slb fills
// its endpoint map lazily without a lock).
var primeSDK sync.Once

// local is a local cloud with the product's adapters pointed at it.
type local struct {
	cloud  *emulator.Cloud
	bucket string
	slb    *aliyun.SLB
	oss    *aliyun.OSS
	creds  aliyun.Credentials
}

// startLocal starts a local cloud; BENCH_SLB_QPS > 0 sets the SLB
// adapter's configured per-action ceiling (default: adaptive pacing only).
func startLocal(b *testing.B, opts emulator.Options, retry aliyun.RetryPolicy) *local {
	b.Helper()
	cloud, err := emulator.Start(opts)
	if err != nil {
		b.Fatalf("start local cloud: %v", err)
	}
	b.Cleanup(func() { _ = cloud.Close() })
	ak, secret := cloud.Credentials()
	creds := aliyun.Credentials{AccessKeyID: ak, AccessKeySecret: secret}
	bucket, region := cloud.Bucket()
	o, err := aliyun.NewOSS(creds, aliyun.OSSOptions{Endpoint: cloud.OSSEndpoint(), Region: region, Retry: retry})
	if err != nil {
		b.Fatal(err)
	}
	l := &local{cloud: cloud, bucket: bucket, creds: creds, oss: o,
		slb: aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: cloud.SLBEndpoint(), Retry: retry, QPS: float64(envInt("BENCH_SLB_QPS", 0))})}
	primeSDK.Do(func() { _, _ = l.slb.ListServerCertificates(context.Background(), "cn-zhangjiakou") })
	return l
}

// rotator is the rotation as rotate-on-upload wires it, with s.yaml's
// CONCURRENCY (16).
func (l *local) rotator(regions []string) *rotation.Rotator {
	return &rotation.Rotator{
		Config:  rotation.Config{Bucket: l.bucket, Regions: regions, MinValidDays: 7, Keep: 1, ProbeTimeout: 5 * time.Second, Concurrency: 16},
		Objects: l.oss,
		SLB:     l.slb,
		Locks:   aliyun.LockStore(l.oss), // as rotate-on-upload wires it: the lock in the bucket
		Prober: rotation.ProbeFunc(func(ctx context.Context, address string, port int, serverName string, timeout time.Duration) rotation.ProbeResult {
			r := tlsprobe.Probe(ctx, address, port, serverName, timeout)
			return rotation.ProbeResult{Reachable: r.Reachable, FingerprintSHA1: r.FingerprintSHA1, Err: r.Err}
		}),
	}
}

// pair issues the i-th renewal of www.example.com: every renewal expires
// later than the one before (the rotation never rotates backwards).
func pair(b *testing.B, i int) certstest.Pair {
	b.Helper()
	now := time.Now()
	return certstest.SelfSigned(b, certstest.Options{Domains: []string{"www.example.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90*24*time.Hour + time.Duration(i+1)*time.Hour)})
}

func (l *local) put(b *testing.B, p certstest.Pair) {
	b.Helper()
	if err := l.cloud.OSS.PutObject(l.bucket, "certs/www/fullchain.pem", p.CertPEM); err != nil {
		b.Fatal(err)
	}
	if err := l.cloud.OSS.PutObject(l.bucket, "certs/www/privkey.pem", p.KeyPEM); err != nil {
		b.Fatal(err)
	}
}

// seedListeners creates nLB load balancers with nL HTTPS listeners each
// (ports 443...) in region, all serving an old www.example.com certificate.
func (l *local) seedListeners(b *testing.B, region string, nLB, nL int) {
	b.Helper()
	now := time.Now()
	old := certstest.SelfSigned(b, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-80 * 24 * time.Hour), NotAfter: now.Add(10 * 24 * time.Hour)})
	id, err := l.cloud.SLB.SeedServerCertificate(region, "old-www", string(old.CertPEM), string(old.KeyPEM), nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range nLB {
		lb, err := l.cloud.SLB.SeedLoadBalancer(region, fmt.Sprintf("web-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		for p := range nL {
			if err := l.cloud.SLB.SeedHTTPSListener(region, lb, 443+p, id, true); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// window is what the cloud saw between two marks.
type window struct {
	slb []slb.RequestRecord
	oss []oss.RequestRecord
}

type mark struct{ slb, oss int }

func (l *local) mark() mark {
	return mark{len(l.cloud.SLB.Requests()), len(l.cloud.OSS.Requests())}
}

func (l *local) since(m mark) window {
	return window{slb: l.cloud.SLB.Requests()[m.slb:], oss: l.cloud.OSS.Requests()[m.oss:]}
}

// starts returns the start times of the window's requests (OSS logs the
// end: its start is taken as end minus the injected latency).
func (w window) starts(latency time.Duration) []time.Time {
	var out []time.Time
	for _, r := range w.slb {
		out = append(out, r.Time)
	}
	for _, r := range w.oss {
		out = append(out, r.Time.Add(-latency))
	}
	return out
}

// ok counts the successful calls per action; attempts counts every call.
func (w window) ok() (ok map[string]int, attempts int) {
	ok = map[string]int{}
	for _, r := range w.slb {
		attempts++
		if r.Status == 200 {
			ok[r.Action]++
		}
	}
	for _, r := range w.oss {
		attempts++
		if r.Status >= 200 && r.Status < 300 {
			ok[r.Action]++
		}
	}
	return ok, attempts
}

// results holds the table rows the benchmarks produced; every call of a
// benchmark function replaces its row, so the file has the final run's.
var results = struct {
	sync.Mutex
	rows map[string]string
}{rows: map[string]string{}}

// record stores one row of docs/benchmarks.md's table and rewrites the
// results file (BENCH_OUT, default $TMPDIR/slb-cert-rotator-bench.md).
func record(b *testing.B, row string) {
	results.Lock()
	defer results.Unlock()
	results.rows[b.Name()] = row
	keys := make([]string, 0, len(results.rows))
	for k := range results.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteString("| benchmark | measured | lower bound | ratio | goal | notes |\n|---|---|---|---|---|---|\n")
	for _, k := range keys {
		sb.WriteString(results.rows[k] + "\n")
	}
	path := os.Getenv("BENCH_OUT")
	if path == "" {
		path = filepath.Join(os.TempDir(), "slb-cert-rotator-bench.md")
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		b.Logf("write %s: %v", path, err)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
