package fcrt

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	sdkoss "github.com/aliyun/aliyun-oss-go-sdk/oss"
	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
)

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
