package bench

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/localcloudtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// local is a local cloud with the product's adapters pointed at it.
type local struct{ *localcloudtest.Env }

// startLocal starts a local cloud; BENCH_SLB_QPS > 0 sets the SLB
// adapter's configured per-action ceiling (default: adaptive pacing only).
func startLocal(b *testing.B, opts emulator.Options, retry aliyun.RetryPolicy) *local {
	b.Helper()
	return &local{localcloudtest.Start(b, localcloudtest.Options{Cloud: opts, Retry: retry, QPS: float64(envInt("BENCH_SLB_QPS", 0))})}
}

// rotator is the rotation as rotate-on-upload wires it, with s.yaml's
// CONCURRENCY (16).
func (l *local) rotator(regions []string) *rotation.Rotator {
	return l.Rotator(rotation.Config{Regions: regions, MinValidDays: 7, Keep: 1, ProbeTimeout: 5 * time.Second, Concurrency: 16}, nil)
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
	l.PutPair(b, "www", p)
}

// seedListeners creates nLB load balancers with nL HTTPS listeners each
// (ports 443...) in region, all serving an old www.example.com certificate.
func (l *local) seedListeners(b *testing.B, region string, nLB, nL int) {
	b.Helper()
	now := time.Now()
	old := certstest.SelfSigned(b, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-80 * 24 * time.Hour), NotAfter: now.Add(10 * 24 * time.Hour)})
	l.SeedListeners(b, region, "old-www", "web", nLB, nL, old)
}

// window is what the cloud saw between two marks.
type window struct {
	slb []slb.RequestRecord
	oss []oss.RequestRecord
}

type mark struct{ slb, oss int }

func (l *local) mark() mark {
	return mark{len(l.Cloud.SLB.Requests()), len(l.Cloud.OSS.Requests())}
}

func (l *local) since(m mark) window {
	return window{slb: l.Cloud.SLB.Requests()[m.slb:], oss: l.Cloud.OSS.Requests()[m.oss:]}
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
