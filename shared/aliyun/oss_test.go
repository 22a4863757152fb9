package aliyun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	ossemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

type ossFixture struct {
	emu *ossemu.Server
	url string
	mu  sync.Mutex
	n   map[string]int
	// fault decides per action and per call number
	fault func(action string, n int) ossemu.Fault
}

func newOSSFixture(t *testing.T) *ossFixture {
	fx := &ossFixture{n: map[string]int{}}
	fx.emu = ossemu.New(ossemu.Options{
		Accounts: []ossemu.Account{{AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testToken}},
		Faults: func(action string) ossemu.Fault {
			fx.mu.Lock()
			n := fx.n[action]
			fx.n[action] = n + 1
			f := fx.fault
			fx.mu.Unlock()
			if f == nil {
				return ossemu.Fault{}
			}
			return f(action, n)
		},
	})
	fx.emu.CreateBucket("cert-bucket", "cn-zhangjiakou")
	srv := httptest.NewServer(fx.emu)
	t.Cleanup(func() { srv.Close(); fx.emu.Close() })
	fx.url = srv.URL
	return fx
}

func (fx *ossFixture) count(action string) int {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	return fx.n[action]
}

func newTestOSS(t *testing.T, endpoint string, v4 bool) *OSS {
	t.Helper()
	o, err := NewOSS(testCreds, OSSOptions{Endpoint: endpoint, Region: "cn-zhangjiakou", V4: v4, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOSSRoundTrip(t *testing.T) {
	for _, v4 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v4=%v", v4), func(t *testing.T) {
			fx := newOSSFixture(t)
			o := newTestOSS(t, fx.url, v4)
			ctx := context.Background()
			keys := []string{"certs/site a/fullchain.pem", "certs/证书/privkey.pem", "certs/plain.pem"}
			for i, k := range keys {
				if err := o.Put(ctx, "cert-bucket", k, []byte(fmt.Sprintf("data-%d", i)), "application/x-pem-file"); err != nil {
					t.Fatalf("Put(%q): %v", k, err)
				}
			}
			for i, k := range keys {
				got, err := o.Get(ctx, "cert-bucket", k, 64<<10)
				if err != nil || string(got) != fmt.Sprintf("data-%d", i) {
					t.Errorf("Get(%q) = %q, %v", k, got, err)
				}
				info, err := o.Head(ctx, "cert-bucket", k)
				if err != nil || info.Size != int64(len(got)) || info.ETag == "" || strings.Contains(info.ETag, `"`) || info.LastModified.IsZero() {
					t.Errorf("Head(%q) = %+v, %v", k, info, err)
				}
			}
			list, err := o.List(ctx, "cert-bucket", "certs/")
			if err != nil || len(list) != 3 {
				t.Fatalf("List = %+v, %v", list, err)
			}
			seen := map[string]bool{}
			for _, obj := range list {
				seen[obj.Key] = true
			}
			for _, k := range keys {
				if !seen[k] {
					t.Errorf("List misses %q", k)
				}
			}
		})
	}
}

func TestOSSListAllPages(t *testing.T) {
	fx := newOSSFixture(t)
	for i := 0; i < 1205; i++ {
		if err := fx.emu.PutObject("cert-bucket", fmt.Sprintf("certs/n%04d.pem", i), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	_ = fx.emu.PutObject("cert-bucket", "other/x.pem", []byte("x"))
	list, err := newTestOSS(t, fx.url, true).List(context.Background(), "cert-bucket", "certs/")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1205 {
		t.Errorf("List returned %d objects, want 1205", len(list))
	}
	if n := fx.count("oss:ListObjectsV2"); n != 2 {
		t.Errorf("ListObjectsV2 calls = %d, want 2 (1000 + 205)", n)
	}
}

func TestOSSNotFoundAndAccessDenied(t *testing.T) {
	fx := newOSSFixture(t)
	ctx := context.Background()
	_, err := newTestOSS(t, fx.url, true).Get(ctx, "cert-bucket", "certs/none.pem", 1024)
	if !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("Get missing: %v, want ErrNotFound", err)
	}
	_, err = newTestOSS(t, fx.url, true).Head(ctx, "cert-bucket", "certs/none.pem")
	if !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("Head missing: %v, want ErrNotFound", err)
	}
	bad, _ := NewOSS(Credentials{AccessKeyID: testAK, AccessKeySecret: "wrong-secret", SecurityToken: testToken}, OSSOptions{Endpoint: fx.url, Region: "cn-zhangjiakou", V4: true, Retry: fastRetry})
	_, err = bad.Get(ctx, "cert-bucket", "certs/none.pem", 1024)
	if !errors.Is(err, apierr.ErrAccessDenied) {
		t.Errorf("wrong secret: %v, want ErrAccessDenied", err)
	}
	if strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), testToken) {
		t.Errorf("error leaks a secret: %v", err)
	}
}

func TestOSSRetriesThrottlingAnd5xx(t *testing.T) {
	fx := newOSSFixture(t)
	_ = fx.emu.PutObject("cert-bucket", "certs/a.pem", []byte("pem"))
	fx.fault = func(action string, n int) ossemu.Fault {
		if action != "oss:GetObject" {
			return ossemu.Fault{}
		}
		switch n {
		case 0:
			return ossemu.Fault{Throttle: true}
		case 1:
			return ossemu.Fault{ServerError: true, Status: 503}
		}
		return ossemu.Fault{}
	}
	got, err := newTestOSS(t, fx.url, true).Get(context.Background(), "cert-bucket", "certs/a.pem", 1024)
	if err != nil || string(got) != "pem" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if n := fx.count("oss:GetObject"); n != 3 {
		t.Errorf("GetObject attempts = %d, want 3", n)
	}
	fx.fault = func(string, int) ossemu.Fault { return ossemu.Fault{ServerError: true, Status: 500} }
	_, err = newTestOSS(t, fx.url, true).Get(context.Background(), "cert-bucket", "certs/a.pem", 1024)
	if !errors.Is(err, apierr.ErrTransient) {
		t.Errorf("persistent 500: %v, want ErrTransient", err)
	}
}

// TestOSSGetRefusesLargeObjectWithoutReading serves a response that
// announces 1 GiB and then stalls: reading the body would hang until the
// test's deadline.
func TestOSSGetRefusesLargeObjectWithoutReading(t *testing.T) {
	stall := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(1<<30))
		w.Header().Set("ETag", `"ABC"`)
		w.WriteHeader(200)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 10))
		w.(http.Flusher).Flush()
		select {
		case <-stall:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(stall)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := newTestOSS(t, srv.URL, false).Get(ctx, "cert-bucket", "certs/big one.pem", 64<<10)
	if !errors.Is(err, apierr.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if !strings.Contains(err.Error(), "certs/big one.pem") || !strings.Contains(err.Error(), "65536") {
		t.Errorf("error %q does not name the key and the limit", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %s: the body was read", time.Since(start))
	}
}

func TestOSSGetLimitWithoutContentLength(t *testing.T) {
	fx := newOSSFixture(t)
	_ = fx.emu.PutObject("cert-bucket", "certs/big.pem", bytes.Repeat([]byte("y"), 70<<10))
	_, err := newTestOSS(t, fx.url, true).Get(context.Background(), "cert-bucket", "certs/big.pem", 64<<10)
	if !errors.Is(err, apierr.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func TestNewOSSEndpoints(t *testing.T) {
	tests := []struct {
		name string
		opts OSSOptions
		want string
		bad  bool
	}{
		{"default internal", OSSOptions{Region: "cn-hangzhou"}, "https://oss-cn-hangzhou-internal.aliyuncs.com", false},
		{"region placeholder", OSSOptions{Endpoint: "https://oss-{region}.aliyuncs.com", Region: "cn-beijing"}, "https://oss-cn-beijing.aliyuncs.com", false},
		{"loopback", OSSOptions{Endpoint: "http://127.0.0.1:9000"}, "http://127.0.0.1:9000", false},
		{"nothing", OSSOptions{}, "", true},
		{"v4 without region", OSSOptions{Endpoint: "http://127.0.0.1:1", V4: true}, "", true},
		{"bad scheme", OSSOptions{Endpoint: "ftp://x", Region: "cn-hangzhou"}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := NewOSS(testCreds, tc.opts)
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v", err)
			}
			if !tc.bad && o.endpoint != tc.want {
				t.Errorf("endpoint = %q, want %q", o.endpoint, tc.want)
			}
		})
	}
}
