package fcrt

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	sdkoss "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// echoBinary builds testdata/echofn once per test binary.
func echoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "fcrt-echofn-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "bootstrap")
		buildErr = fcrttest.Build(binPath, "./testdata/echofn")
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var testCreds = Credentials{AccessKeyID: "STS.fc-test", AccessKeySecret: "fc-secret", SecurityToken: "fc-token"}

func newRuntime(t *testing.T, opts Options) *Runtime {
	t.Helper()
	if opts.Credentials.AccessKeyID == "" {
		opts.Credentials = testCreds
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 10 * time.Millisecond
	}
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	rt := New(opts)
	t.Cleanup(func() { rt.Close() })
	return rt
}

type echoOut struct {
	RequestID    string          `json:"requestId"`
	AccessKeyID  string          `json:"accessKeyId"`
	HasSecret    bool            `json:"hasSecret"`
	HasToken     bool            `json:"hasToken"`
	Function     string          `json:"function"`
	Memory       string          `json:"memory"`
	Timeout      int             `json:"timeout"`
	Region       string          `json:"region"`
	AccountID    string          `json:"accountId"`
	RetryCount   int             `json:"retryCount"`
	DeadlineInMs int64           `json:"deadlineInMs"`
	Env          string          `json:"env"`
	FcEnv        string          `json:"fcEnv"`
	AkEnv        string          `json:"akEnv"`
	PID          int             `json:"pid"`
	InstanceID   string          `json:"instanceId"`
	Initialized  int             `json:"initialized"`
	Payload      json.RawMessage `json:"payload"`
}

func invokeEcho(t *testing.T, rt *Runtime, name, payload string) echoOut {
	t.Helper()
	res, errType, err := rt.Invoke(context.Background(), name, []byte(payload))
	if err != nil || errType != "" {
		t.Fatalf("Invoke(%s): %s %v %s", payload, errType, err, res)
	}
	var out echoOut
	if err := json.Unmarshal(res, &out); err != nil {
		t.Fatalf("result %s: %v", res, err)
	}
	return out
}

func TestSyncInvoke(t *testing.T) {
	rt := newRuntime(t, Options{Region: "cn-shanghai", AccountID: "9999"})
	if err := rt.Deploy(FunctionSpec{Name: "echo", Binary: echoBinary(t), Env: map[string]string{"GREETING": "hi"}, Timeout: 7 * time.Second, MemoryMB: 256}); err != nil {
		t.Fatal(err)
	}
	a := invokeEcho(t, rt, "echo", `{"op":"echo","x":1}`)
	b := invokeEcho(t, rt, "echo", `{"op":"echo","x":2}`)
	if a.Function != "echo" || a.Memory != "256" || a.Timeout != 7 || a.Region != "cn-shanghai" || a.AccountID != "9999" {
		t.Errorf("function metadata %+v", a)
	}
	if a.AccessKeyID != testCreds.AccessKeyID || !a.HasSecret || !a.HasToken || a.AkEnv != testCreds.AccessKeyID {
		t.Errorf("credentials %+v", a)
	}
	if a.Env != "hi" || a.FcEnv != "echo" {
		t.Errorf("environment %+v", a)
	}
	if a.DeadlineInMs <= 5000 || a.DeadlineInMs > 7000 {
		t.Errorf("deadline in %d ms, want about 7000", a.DeadlineInMs)
	}
	if a.RequestID == b.RequestID || a.RequestID == "" {
		t.Errorf("request ids %q %q", a.RequestID, b.RequestID)
	}
	if a.PID != b.PID {
		t.Errorf("second invocation ran on a new instance: %d vs %d", a.PID, b.PID)
	}
	if string(b.Payload) != `{"op":"echo","x":2}` {
		t.Errorf("payload %s", b.Payload)
	}
	if _, _, err := rt.Invoke(context.Background(), "nope", nil); !errors.Is(err, ErrNoSuchFunction) {
		t.Errorf("unknown function: %v", err)
	}
}

func TestInitializer(t *testing.T) {
	rt := newRuntime(t, Options{})
	rt.Deploy(FunctionSpec{Name: "init", Binary: echoBinary(t), Initializer: true})
	if got := invokeEcho(t, rt, "init", `{}`); got.Initialized != 1 {
		t.Fatalf("initialized = %d, want 1", got.Initialized)
	}
	if got := invokeEcho(t, rt, "init", `{}`); got.Initialized != 1 {
		t.Fatalf("initializer ran again on the same instance: %d", got.Initialized)
	}
}

func TestFunctionErrors(t *testing.T) {
	rt := newRuntime(t, Options{})
	rt.Deploy(FunctionSpec{Name: "echo", Binary: echoBinary(t)})
	pid := invokeEcho(t, rt, "echo", `{}`).PID
	for _, tc := range []struct {
		name, payload, wantType, wantMsg string
	}{
		{"returned error", `{"op":"error","msg":"boom"}`, "errorString", "boom"},
		{"panic", `{"op":"panic","msg":"kaput"}`, "string", "kaput"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, errType, err := rt.Invoke(context.Background(), "echo", []byte(tc.payload))
			if err != nil || errType != ErrTypeUnhandled {
				t.Fatalf("errType %q err %v", errType, err)
			}
			var body struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal(res, &body); err != nil || body.ErrorType != tc.wantType || body.ErrorMessage != tc.wantMsg {
				t.Fatalf("error body %s", res)
			}
		})
	}
	if got := invokeEcho(t, rt, "echo", `{}`).PID; got != pid {
		t.Fatalf("instance restarted after a handled error/panic: %d -> %d", pid, got)
	}
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 200 {
		if fcrttest.ProcessGone(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d still running", pid)
}

func TestTimeoutKillsAndRestarts(t *testing.T) {
	rt := newRuntime(t, Options{})
	rt.Deploy(FunctionSpec{Name: "slow", Binary: echoBinary(t), Timeout: time.Second})
	pid := invokeEcho(t, rt, "slow", `{}`).PID
	res, errType, err := rt.Invoke(context.Background(), "slow", []byte(`{"op":"sleep","ms":5000}`))
	if err != nil || errType != ErrTypeUnhandled || !strings.Contains(string(res), "timed out after 1 seconds") {
		t.Fatalf("timeout: %q %v %s", errType, err, res)
	}
	waitGone(t, pid)
	if got := invokeEcho(t, rt, "slow", `{}`).PID; got == pid {
		t.Fatal("no new instance after the timeout")
	}
}

func TestAsyncRetries(t *testing.T) {
	rt := newRuntime(t, Options{})
	bin := echoBinary(t)
	rt.Deploy(FunctionSpec{Name: "default", Binary: bin})
	rt.Deploy(FunctionSpec{Name: "one", Binary: bin, AsyncRetries: 1})
	rt.Deploy(FunctionSpec{Name: "none", Binary: bin, AsyncRetries: -1})
	for _, tc := range []struct {
		fn, payload  string
		wantStatus   string
		wantAttempts int
	}{
		{"default", `{"op":"failuntil","n":2}`, "succeeded", 3},
		{"default", `{"op":"failuntil","n":100}`, "failed", 4},
		{"one", `{"op":"failuntil","n":100}`, "failed", 2},
		{"none", `{"op":"failuntil","n":100}`, "failed", 1},
		{"none", `{}`, "succeeded", 1},
	} {
		t.Run(tc.fn+tc.payload, func(t *testing.T) {
			id, err := rt.InvokeAsync(tc.fn, []byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := rt.WaitIdle(ctx); err != nil {
				t.Fatal(err)
			}
			var rec *AsyncRecord
			for _, r := range rt.AsyncResults() {
				if r.RequestID == id {
					rec = &r
				}
			}
			if rec == nil || rec.Status != tc.wantStatus || rec.Attempts != tc.wantAttempts {
				t.Fatalf("record %+v, want %s after %d attempts", rec, tc.wantStatus, tc.wantAttempts)
			}
			if tc.wantStatus == "failed" && rec.ErrorType != ErrTypeUnhandled {
				t.Fatalf("error type %q", rec.ErrorType)
			}
		})
	}
}

type ossFixture struct {
	srv    *oss.Server
	http   *httptest.Server
	bucket *sdkoss.Bucket
}

func newOSS(t *testing.T) *ossFixture {
	t.Helper()
	srv := oss.New(oss.Options{Accounts: []oss.Account{{AccessKeyID: "ak", AccessKeySecret: "sk"}}})
	srv.CreateBucket("certs-bucket", "cn-zhangjiakou")
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := sdkoss.New(hs.URL, "ak", "sk")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := c.Bucket("certs-bucket")
	return &ossFixture{srv: srv, http: hs, bucket: b}
}

func records(t *testing.T, dir string) [][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func deployRecorder(t *testing.T, rt *Runtime, dir string) {
	t.Helper()
	err := rt.Deploy(FunctionSpec{Name: "rotate", Binary: echoBinary(t), Env: map[string]string{"RECORD_DIR": dir},
		Triggers: []TriggerSpec{{Name: "oss-upload", Type: "oss", OSS: OSSTrigger{BucketName: "certs-bucket",
			Events: []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:PostObject"}, Prefix: "certs/", Suffix: ".pem"}}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOSSTriggerEndToEnd(t *testing.T) {
	o := newOSS(t)
	rt := newRuntime(t, Options{})
	rt.AttachOSS(o.srv)
	dir := t.TempDir()
	deployRecorder(t, rt, dir)
	data := []byte("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
	key := "certs/site a/fullchain ü+%.pem"
	for _, k := range []string{key, "other/x.pem", "certs/readme.txt"} {
		if err := o.bucket.PutObject(k, bytes.NewReader(data), sdkoss.ContentType("application/x-pem-file")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.bucket.CopyObject(key, "certs/copy.pem"); err != nil { // CopyObject is not in the trigger's events
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	recs := records(t, dir)
	if len(recs) != 1 {
		t.Fatalf("got %d deliveries, want 1: %s", len(recs), recs)
	}
	var ev events.OssEvent
	if err := json.Unmarshal(recs[0], &ev); err != nil {
		t.Fatalf("payload does not decode as events.OssEvent: %v\n%s", err, recs[0])
	}
	sum := md5.Sum(data)
	var putID string
	for _, r := range o.srv.Requests() {
		if r.Action == "oss:PutObject" && r.Key == key {
			putID = r.RequestID
		}
	}
	if len(ev.Events) != 1 {
		t.Fatalf("events %s", recs[0])
	}
	r := ev.Events[0]
	checks := map[string][2]string{
		"eventName":    {*r.EventName, "ObjectCreated:PutObject"},
		"eventSource":  {*r.EventSource, "acs:oss"},
		"eventVersion": {*r.EventVersion, "1.0"},
		"region":       {*r.Region, "cn-zhangjiakou"},
		"bucket":       {*r.Oss.Bucket.Name, "certs-bucket"},
		"arn":          {*r.Oss.Bucket.Arn, "acs:oss:cn-zhangjiakou:1234567890123456:certs-bucket"},
		"key":          {*r.Oss.Object.Key, key},
		"eTag":         {*r.Oss.Object.ETag, strings.ToUpper(hex.EncodeToString(sum[:]))},
		"mimeType":     {*r.Oss.Object.ObjectMeta.MimeType, "application/x-pem-file"},
		"requestId":    {*r.ResponseElements.RequestID, putID},
		"schema":       {*r.Oss.OssSchemaVersion, "1.0"},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	if *r.Oss.Object.Size != len(data) || *r.Oss.Object.DeltaSize != len(data) || r.EventTime.IsZero() {
		t.Errorf("size/deltaSize/eventTime: %s", recs[0])
	}
	if !regexp.MustCompile(`"eventTime":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"`).Match(recs[0]) {
		t.Errorf("eventTime format: %s", recs[0])
	}
}

func TestOSSDuplicateAndReorder(t *testing.T) {
	o := newOSS(t)
	rt := newRuntime(t, Options{OSS: OSSDelivery{Duplicate: true, Reorder: 50 * time.Millisecond, Delay: 10 * time.Millisecond}, Seed: 7})
	rt.AttachOSS(o.srv)
	dir := t.TempDir()
	deployRecorder(t, rt, dir)
	for _, k := range []string{"certs/a/fullchain.pem", "certs/a/privkey.pem"} {
		if err := o.srv.PutObject("certs-bucket", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, rec := range records(t, dir) {
		var ev OSSEvent
		if err := json.Unmarshal(rec, &ev); err != nil {
			t.Fatal(err)
		}
		count[ev.Events[0].OSS.Object.Key]++
	}
	if count["certs/a/fullchain.pem"] != 2 || count["certs/a/privkey.pem"] != 2 || len(count) != 2 {
		t.Fatalf("deliveries %v, want each key twice", count)
	}
}

func TestCloseKillsChildren(t *testing.T) {
	rt := New(Options{Credentials: testCreds})
	rt.Deploy(FunctionSpec{Name: "echo", Binary: echoBinary(t)})
	pid := invokeEcho(t, rt, "echo", `{}`).PID
	res, errType, err := rt.Invoke(context.Background(), "echo", []byte(`{"op":"spawn"}`))
	if err != nil || errType != "" {
		t.Fatalf("spawn: %s %v %s", errType, err, res)
	}
	var grandchild int
	if err := json.Unmarshal(res, &grandchild); err != nil || grandchild == 0 {
		t.Fatalf("spawn result %s", res)
	}
	if fcrttest.ProcessGone(pid) || fcrttest.ProcessGone(grandchild) {
		t.Fatal("processes not running before Close")
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	waitGone(t, pid)
	waitGone(t, grandchild)
	if _, _, err := rt.Invoke(context.Background(), "echo", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("invoke after Close: %v", err)
	}
}

func TestTimerAndControlAPI(t *testing.T) {
	rt := newRuntime(t, Options{})
	hs := httptest.NewServer(rt.Handler())
	defer hs.Close()
	spec := FunctionSpec{Binary: echoBinary(t), Timeout: 10 * time.Second, Triggers: []TriggerSpec{
		{Name: "daily", Type: "timer", Timer: TimerConfig{CronExpression: "0 0 3 * * *", Payload: `{"warnDays":[30]}`, Enable: true}},
		{Name: "off", Type: "timer", Timer: TimerConfig{CronExpression: "0 0 3 * * *", Enable: false}},
	}}
	body, _ := json.Marshal(spec)
	req, _ := http.NewRequest(http.MethodPut, hs.URL+"/local/functions/check", bytes.NewReader(body))
	resp := do(t, req)
	if resp.status != 200 {
		t.Fatalf("deploy: %d %s", resp.status, resp.body)
	}
	resp = do(t, get(hs.URL+"/local/functions"))
	var specs []FunctionSpec
	if err := json.Unmarshal(resp.body, &specs); err != nil || len(specs) != 1 || specs[0].Name != "check" || specs[0].Timeout != 10*time.Second {
		t.Fatalf("list: %s %v", resp.body, err)
	}

	resp = do(t, post(hs.URL+"/local/functions/check/triggers/daily/fire", "", nil))
	var out echoOut
	if err := json.Unmarshal(resp.body, &out); err != nil || resp.status != 200 {
		t.Fatalf("fire: %d %s", resp.status, resp.body)
	}
	var te events.TimerEvent
	if err := json.Unmarshal(out.Payload, &te); err != nil || *te.TriggerName != "daily" || *te.Payload != `{"warnDays":[30]}` ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(*te.TriggerTime) {
		t.Fatalf("timer event %s", out.Payload)
	}
	if out.RetryCount != 0 {
		t.Fatalf("retry count %d", out.RetryCount)
	}
	resp = do(t, post(hs.URL+"/local/functions/check/triggers/off/fire", "", nil))
	if resp.status != 400 || !strings.Contains(string(resp.body), "TriggerDisabled") {
		t.Fatalf("disabled timer: %d %s", resp.status, resp.body)
	}

	resp = do(t, post(hs.URL+"/2023-03-30/functions/check/invocations", `{"op":"error","msg":"bad"}`, nil))
	if resp.status != 200 || resp.header.Get("X-Fc-Error-Type") != ErrTypeUnhandled || !strings.Contains(string(resp.body), `"errorMessage":"bad"`) || resp.header.Get("x-fc-request-id") == "" {
		t.Fatalf("sync error: %d %v %s", resp.status, resp.header, resp.body)
	}
	resp = do(t, post(hs.URL+"/2023-03-30/functions/check/invocations", `{"op":"echo"}`, map[string]string{"x-fc-request-id": "my-id"}))
	if err := json.Unmarshal(resp.body, &out); err != nil || out.RequestID != "my-id" || resp.header.Get("X-Fc-Error-Type") != "" {
		t.Fatalf("sync ok: %d %s", resp.status, resp.body)
	}
	resp = do(t, post(hs.URL+"/2023-03-30/functions/check/invocations", `{}`, map[string]string{"x-fc-invocation-type": "Async"}))
	if resp.status != 202 || resp.header.Get("x-fc-request-id") == "" {
		t.Fatalf("async: %d %s", resp.status, resp.body)
	}
	resp = do(t, post(hs.URL+"/2023-03-30/functions/nope/invocations", `{}`, nil))
	if resp.status != 404 || !strings.Contains(string(resp.body), "FunctionNotFound") {
		t.Fatalf("unknown: %d %s", resp.status, resp.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	resp = do(t, get(hs.URL+"/local/fc/state"))
	if strings.Contains(string(resp.body), testCreds.AccessKeySecret) || strings.Contains(string(resp.body), testCreds.SecurityToken) {
		t.Fatalf("state leaks credentials: %s", resp.body)
	}
	var d Dump
	if err := json.Unmarshal(resp.body, &d); err != nil || len(d.Functions) != 1 || len(d.Async) != 2 || d.Pending != 0 {
		t.Fatalf("state: %s", resp.body)
	}
}

type httpResp struct {
	status int
	header http.Header
	body   []byte
}

func get(url string) *http.Request { r, _ := http.NewRequest(http.MethodGet, url, nil); return r }

func post(url, body string, h map[string]string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return r
}

func do(t *testing.T, r *http.Request) httpResp {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpResp{resp.StatusCode, resp.Header, b}
}

func TestLoadSYAML(t *testing.T) {
	env := map[string]string{"CERT_BUCKET": "drop", "USER_NAME": "ops", "SLB_ENDPOINT": "http://127.0.0.1:1"}
	specs, err := LoadSYAML("testdata/s.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 {
		t.Fatalf("specs %+v", specs)
	}
	check, rotate := specs[0], specs[1]

	wantRotate := FunctionSpec{Name: "fx-rotate", Resource: "rotate", Handler: "bootstrap", Region: "cn-zhangjiakou", Binary: filepath.Join("testdata", "dist/rotate/bootstrap"),
		Timeout: 120 * time.Second, MemoryMB: 128, AsyncRetries: -1,
		Env: map[string]string{"CERT_BUCKET": "drop", "SLB_ENDPOINT": "http://127.0.0.1:1", "LOG_LEVEL": "info", "CONCURRENCY": "16"},
		Triggers: []TriggerSpec{{Name: "oss-upload", Type: "oss", OSS: OSSTrigger{BucketName: "drop",
			Events: []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:CopyObject"}, Prefix: "certs/", Suffix: ".pem"}}}}
	wantCheck := FunctionSpec{Name: "fx-check", Resource: "check", Handler: "main", Region: "cn-zhangjiakou", Binary: filepath.Join("testdata", "dist/check/main"),
		Timeout: 300 * time.Second, Initializer: true, Env: map[string]string{"GREETING": "hello ops"},
		Triggers: []TriggerSpec{{Name: "daily", Type: "timer", Timer: TimerConfig{CronExpression: "CRON_TZ=Asia/Shanghai 0 0 3 * * *", Payload: `{"warnDays":[30,7]}`, Enable: true}}}}
	for _, tc := range []struct {
		name      string
		got, want FunctionSpec
	}{{"rotate", rotate, wantRotate}, {"check", check, wantCheck}} {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := json.Marshal(tc.got)
			w, _ := json.Marshal(tc.want)
			if !bytes.Equal(g, w) {
				t.Fatalf("got  %s\nwant %s", g, w)
			}
		})
	}

	t.Run("missing env without default", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "s.yaml")
		os.WriteFile(p, []byte("resources:\n  f:\n    props:\n      functionName: ${env('NOPE')}\n      code: ./x\n"), 0o644)
		if _, err := LoadSYAML(p, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "NOPE") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("project s.yaml", func(t *testing.T) {
		p := "../../s.yaml"
		if _, err := os.Stat(p); err != nil {
			t.Skip("project s.yaml not present")
		}
		specs, err := LoadSYAML(p, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range specs {
			names = append(names, s.Name)
			if !strings.HasSuffix(s.Binary, "/bootstrap") {
				t.Errorf("%s: binary %s", s.Name, s.Binary)
			}
		}
		if len(specs) < 1 {
			t.Fatalf("no functions in %s", p)
		}
		t.Logf("project functions: %v", names)
	})
}

// invokeConcurrently runs n synchronous invocations of payload at once.
func invokeConcurrently(t *testing.T, rt *Runtime, name, payload string, n int) []echoOut {
	t.Helper()
	outs := make([]echoOut, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, errType, err := rt.Invoke(context.Background(), name, []byte(payload))
			if err != nil || errType != "" {
				errs[i] = fmt.Errorf("invoke %d: %s %v %s", i, errType, err, res)
				return
			}
			errs[i] = json.Unmarshal(res, &outs[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return outs
}

func instanceIDs(outs []echoOut) map[string]bool {
	ids := map[string]bool{}
	for _, o := range outs {
		ids[o.InstanceID] = true
	}
	return ids
}

func TestScaleOut(t *testing.T) {
	tests := []struct {
		name          string
		maxInstances  int
		concurrent    int
		wantInstances int
	}{
		{"two at once on two instances", 0, 2, 2},
		{"bounded by MaxInstances", 2, 5, 2},
		{"one instance serialises", 1, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, Options{})
			if err := rt.Deploy(FunctionSpec{Name: "slow", Binary: echoBinary(t), Timeout: 10 * time.Second, MaxInstances: tt.maxInstances}); err != nil {
				t.Fatal(err)
			}
			outs := invokeConcurrently(t, rt, "slow", `{"op":"sleep","ms":400}`, tt.concurrent)
			ids := instanceIDs(outs)
			if ids[""] {
				t.Fatalf("an invocation without FC_INSTANCE_ID: %+v", outs)
			}
			if len(ids) != tt.wantInstances {
				t.Fatalf("%d distinct instances %v; want %d", len(ids), ids, tt.wantInstances)
			}
			pids := map[int]bool{}
			for _, o := range outs {
				pids[o.PID] = true
			}
			if len(pids) != tt.wantInstances {
				t.Errorf("%d distinct processes; want %d", len(pids), tt.wantInstances)
			}
			d := rt.Dump()
			if len(d.Functions) != 1 || d.Functions[0].Instances != tt.wantInstances || len(d.Functions[0].PIDs) != tt.wantInstances || d.Functions[0].Invocations != tt.concurrent {
				t.Errorf("dump %+v", d.Functions)
			}
			// Idle instances stay warm: the next call reuses one of them.
			if next := invokeEcho(t, rt, "slow", `{}`); !ids[next.InstanceID] {
				t.Errorf("a new instance %s started while %v were idle", next.InstanceID, ids)
			}
		})
	}
}

func TestAsyncInvocationsRunConcurrently(t *testing.T) {
	rt := newRuntime(t, Options{})
	if err := rt.Deploy(FunctionSpec{Name: "slow", Binary: echoBinary(t), Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := rt.InvokeAsync("slow", []byte(`{"op":"sleep","ms":400}`)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range rt.AsyncResults() {
		if r.Status != "succeeded" || r.InstanceID == "" {
			t.Fatalf("record %+v", r)
		}
		var out echoOut
		if err := json.Unmarshal(r.Result, &out); err != nil || out.InstanceID != r.InstanceID {
			t.Fatalf("record instance %s, function saw %s (%v)", r.InstanceID, out.InstanceID, err)
		}
		ids[r.InstanceID] = true
	}
	if len(ids) != 3 {
		t.Fatalf("%d instances for 3 concurrent async invocations; want 3", len(ids))
	}
}

func TestCloseKillsAllInstances(t *testing.T) {
	rt := New(Options{Credentials: testCreds})
	if err := rt.Deploy(FunctionSpec{Name: "slow", Binary: echoBinary(t), Timeout: 10 * time.Second, MaxInstances: 3}); err != nil {
		t.Fatal(err)
	}
	outs := invokeConcurrently(t, rt, "slow", `{"op":"sleep","ms":300}`, 3)
	pids := rt.Dump().Functions[0].PIDs
	if len(pids) != 3 {
		t.Fatalf("pids %v; want 3 running instances", pids)
	}
	for _, o := range outs {
		if !slices.Contains(pids, o.PID) || fcrttest.ProcessGone(o.PID) {
			t.Fatalf("instance %d not running before Close (%v)", o.PID, pids)
		}
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
}
