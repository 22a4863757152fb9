package bench

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
)

// functions are the built functions with a payload each that returns
// without touching the network (a refusal decided by the handler).
var functions = []struct{ name, payload string }{
	{"rotate-on-upload", `{}`},
	{"expiry-check", `{"regions":["not a region"]}`},
	{"provision", `{}`},
}

// zipSize deflates the bootstrap as the deployment zip does.
func zipSize(b *testing.B, bin string) int {
	b.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(bin)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Len()
}

// BenchmarkColdStart: each function built with the Makefile's flags,
// started by the local FC runtime for every invocation (a fresh deploy
// stops the previous instance), timed from Invoke (exec) to the first
// response through the runtime API. Goals: <= 50 ms; zip <= 8 MB.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	for _, fn := range functions {
		b.Run(fn.name, func(b *testing.B) {
			bin := goBuild(b, filepath.Join(dir, fn.name), "bootstrap", "../functions/"+fn.name)
			st, err := os.Stat(bin)
			if err != nil {
				b.Fatal(err)
			}
			zs := zipSize(b, bin)
			rt := fcrt.New(fcrt.Options{Credentials: fcrt.Credentials{AccessKeyID: "LTAI5tLocalCloudKey01", AccessKeySecret: "local-cloud-secret-0001"}})
			b.Cleanup(func() { _ = rt.Close() })
			env := map[string]string{"CERT_BUCKET": "certs-bucket", "REGIONS": "cn-zhangjiakou",
				"SLB_ENDPOINT": "http://127.0.0.1:1", "OSS_ENDPOINT": "http://127.0.0.1:1", "OSS_REGION": "cn-zhangjiakou"}
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if err := rt.Deploy(fcrt.FunctionSpec{Name: fn.name, Binary: bin, Env: env, Timeout: 10 * time.Second}); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				res, errType, err := rt.Invoke(context.Background(), fn.name, []byte(fn.payload))
				total += time.Since(start)
				b.StopTimer()
				if err != nil || len(res) == 0 {
					b.Fatalf("invoke %s: err %v type %q result %s", fn.name, err, errType, res)
				}
			}
			mean := total / time.Duration(b.N)
			b.ReportMetric(ms(mean), "ms/cold_start")
			b.ReportMetric(50, "goal_ms")
			b.ReportMetric(ms(mean)/50, "ratio")
			b.ReportMetric(float64(zs)/(1<<20), "zip_MB")
			b.ReportMetric(float64(st.Size())/(1<<20), "binary_MB")
			record(b, fmt.Sprintf("| cold start %s (exec to first response) | %.1f ms | goal 50 ms | %.2f | <= 50 ms | zip %.2f MB (goal <= 8 MB), binary %.2f MB |",
				fn.name, ms(mean), ms(mean)/50, float64(zs)/(1<<20), float64(st.Size())/(1<<20)))
		})
	}
}
