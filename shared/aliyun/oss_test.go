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
	keys, err := newTestOSS(t, fx.url, true).ListKeys(context.Background(), "cert-bucket", "certs/")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != len(list) {
		t.Fatalf("ListKeys returned %d keys, want %d", len(keys), len(list))
	}
	for i, k := range keys {
		if k != list[i].Key {
			t.Fatalf("ListKeys[%d] = %q, want List's %q", i, k, list[i].Key)
		}
	}
	if n := fx.count("oss:ListObjectsV2"); n != 4 {
		t.Errorf("ListObjectsV2 calls = %d after ListKeys, want 4 (two pages each)", n)
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
	if keys, err := bad.ListKeys(ctx, "cert-bucket", "certs/"); !errors.Is(err, apierr.ErrAccessDenied) || keys != nil {
		t.Errorf("ListKeys with a wrong secret: %q, %v; want no keys and ErrAccessDenied", keys, err)
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

func TestOSSPutIfAbsentAndDelete(t *testing.T) {
	for _, v4 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v4=%v", v4), func(t *testing.T) {
			fx := newOSSFixture(t)
			o := newTestOSS(t, fx.url, v4)
			ctx := context.Background()
			const key = "locks/www.lock"
			created, err := o.PutIfAbsent(ctx, "cert-bucket", key, []byte("first"), "application/json")
			if err != nil || !created {
				t.Fatalf("first PutIfAbsent: created %v err %v", created, err)
			}
			created, err = o.PutIfAbsent(ctx, "cert-bucket", key, []byte("second"), "application/json")
			if err != nil || created {
				t.Fatalf("second PutIfAbsent: created %v err %v; want false, nil", created, err)
			}
			if got, ok := fx.emu.Object("cert-bucket", key); !ok || string(got) != "first" {
				t.Fatalf("object %q (exists %v) was overwritten", got, ok)
			}
			if err := o.Delete(ctx, "cert-bucket", key); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			if _, ok := fx.emu.Object("cert-bucket", key); ok {
				t.Fatal("object still there after Delete")
			}
			if err := o.Delete(ctx, "cert-bucket", key); err != nil {
				t.Fatalf("Delete of a missing object: %v", err)
			}
			created, err = o.PutIfAbsent(ctx, "cert-bucket", key, []byte("third"), "")
			if err != nil || !created {
				t.Fatalf("PutIfAbsent after Delete: created %v err %v", created, err)
			}
		})
	}
}

func TestOSSPutIfAbsentConcurrentOneWinner(t *testing.T) {
	fx := newOSSFixture(t)
	o := newTestOSS(t, fx.url, true)
	const n = 8
	var wg sync.WaitGroup
	wins := make([]bool, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wins[i], errs[i] = o.PutIfAbsent(context.Background(), "cert-bucket", "locks/x.lock", []byte(fmt.Sprintf("owner-%d", i)), "")
		}()
	}
	wg.Wait()
	winners := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("acquirer %d: %v", i, errs[i])
		}
		if wins[i] {
			winners++
			if got, _ := fx.emu.Object("cert-bucket", "locks/x.lock"); string(got) != fmt.Sprintf("owner-%d", i) {
				t.Errorf("winner %d but object holds %q", i, got)
			}
		}
	}
	if winners != 1 {
		t.Fatalf("%d winners; want exactly 1", winners)
	}
}

// lostAnswer stores the first PutObject in the emulator but answers 503, as
// when the response of a successful write is lost on the way back.
type lostAnswer struct {
	emu  http.Handler
	mu   sync.Mutex
	lost int
}

func (l *lostAnswer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	lose := r.Method == http.MethodPut && l.lost == 0
	if lose {
		l.lost++
	}
	l.mu.Unlock()
	if !lose {
		l.emu.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	l.emu.ServeHTTP(rec, r)
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(http.StatusServiceUnavailable)
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>lost</Message><RequestId>lost-1</RequestId></Error>`)
}

func TestOSSPutIfAbsentRetryAfterLostAnswer(t *testing.T) {
	tests := []struct {
		name        string
		preexisting []byte
		data        []byte
		wantCreated bool
	}{
		{"own write whose answer was lost", nil, []byte(`{"owner":"me"}`), true},
		{"someone else's object", []byte(`{"owner":"other"}`), []byte(`{"owner":"me"}`), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu := ossemu.New(ossemu.Options{Accounts: []ossemu.Account{{AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testToken}}})
			emu.CreateBucket("cert-bucket", "cn-zhangjiakou")
			la := &lostAnswer{emu: emu}
			srv := httptest.NewServer(la)
			t.Cleanup(func() { srv.Close(); emu.Close() })
			if tt.preexisting != nil {
				if err := emu.PutObject("cert-bucket", "locks/a.lock", tt.preexisting); err != nil {
					t.Fatal(err)
				}
			}
			o := newTestOSS(t, srv.URL, true)
			created, err := o.PutIfAbsent(context.Background(), "cert-bucket", "locks/a.lock", tt.data, "")
			if err != nil || created != tt.wantCreated {
				t.Fatalf("created %v err %v; want %v", created, err, tt.wantCreated)
			}
			if la.lost != 1 {
				t.Fatalf("the lost answer was not exercised (%d)", la.lost)
			}
		})
	}
}

func TestOSSPutIfAbsentTransientExhausted(t *testing.T) {
	fx := newOSSFixture(t)
	fx.fault = func(action string, n int) ossemu.Fault {
		if action == "oss:PutObject" || action == "oss:DeleteObject" {
			return ossemu.Fault{ServerError: true, Status: 503}
		}
		return ossemu.Fault{}
	}
	o := newTestOSS(t, fx.url, false)
	created, err := o.PutIfAbsent(context.Background(), "cert-bucket", "locks/a.lock", []byte("x"), "")
	if created || !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("created %v err %v; want a transient error", created, err)
	}
	if n := fx.count("oss:PutObject"); n != fastRetry.MaxAttempts {
		t.Errorf("%d PutObject attempts; want %d", n, fastRetry.MaxAttempts)
	}
	if err := o.Delete(context.Background(), "cert-bucket", "locks/a.lock"); !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("Delete: %v; want a transient error", err)
	}
}

// On a bucket with versioning enabled or suspended OSS ignores
// x-oss-forbid-overwrite; PutIfAbsent sees the version id of the answer and
// refuses (permanent), so no lock there can believe it is exclusive.
func TestOSSPutIfAbsentRefusesVersionedBucket(t *testing.T) {
	fx := newOSSFixture(t)
	fx.emu.SetVersioning("cert-bucket", true)
	o := newTestOSS(t, fx.url, true)
	ctx := context.Background()
	for i, data := range []string{"first", "second"} {
		created, err := o.PutIfAbsent(ctx, "cert-bucket", "locks/www/g1", []byte(data), "")
		if created || !errors.Is(err, apierr.ErrInvalid) || !strings.Contains(err.Error(), "versioning") {
			t.Fatalf("put %d on a versioned bucket: created %v err %v; want a permanent refusal naming versioning", i, created, err)
		}
	}
	if got, _ := fx.emu.Object("cert-bucket", "locks/www/g1"); string(got) != "second" {
		t.Fatalf("object %q: the emulator must model OSS overwriting despite forbid-overwrite", got)
	}
	fx.emu.SetVersioning("cert-bucket", false)
	if created, err := o.PutIfAbsent(ctx, "cert-bucket", "locks/www/g2", []byte("x"), ""); !created || err != nil {
		t.Fatalf("unversioned: created %v err %v", created, err)
	}
}

// OSSOptions.Timeout ends a request the service holds without answering
// (here a write applied, its answer lost by a timeout), and the call is
// retried like any transient failure.
func TestOSSTimeoutEndsHeldRequest(t *testing.T) {
	fx := newOSSFixture(t)
	fx.fault = func(action string, n int) ossemu.Fault {
		if action == "oss:GetObject" && n == 0 {
			return ossemu.Fault{Timeout: true}
		}
		return ossemu.Fault{}
	}
	fx.emu.PutObject("cert-bucket", "certs/a.pem", []byte("a"))
	o, err := NewOSS(testCreds, OSSOptions{Endpoint: fx.url, Region: "cn-zhangjiakou", Retry: fastRetry, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := o.Get(context.Background(), "cert-bucket", "certs/a.pem", 10)
	if err != nil || string(got) != "a" {
		t.Fatalf("Get: %q %v; want the retry to read it", got, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a held request took %s; want it cut after the 200 ms timeout", took)
	}
	if fx.count("oss:GetObject") != 2 {
		t.Fatalf("%d GetObject calls; want the held one and its retry", fx.count("oss:GetObject"))
	}
}
