package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
	sdkoss "github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
)

// project copies testdata/s.yaml into a temporary directory and builds
// the fcrt echo function into its dist/echo/bootstrap.
func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	y, err := os.ReadFile("testdata/s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), y, 0o644); err != nil {
		t.Fatal(err)
	}
	fcrttest.BuildTo(t, filepath.Join(dir, "dist", "echo", "bootstrap"), "./fcrt/testdata/echofn")
	return filepath.Join(dir, "s.yaml")
}

func getJSON(t *testing.T, url string, v any) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, b)
		}
	}
	return b
}

func TestCloudEndToEnd(t *testing.T) {
	syaml := project(t)
	records := t.TempDir()
	t0 := time.Now()
	c, err := Start(Options{SYAML: syaml, Getenv: func(k string) string {
		if k == "RECORD_DIR" {
			return records
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator.Start took %v", time.Since(t0))
	closed := false
	t.Cleanup(func() {
		if !closed {
			c.Close()
		}
	})
	for _, ep := range []string{c.SLBEndpoint(), c.OSSEndpoint(), c.FCEndpoint()} {
		if !strings.HasPrefix(ep, "http://127.0.0.1:") {
			t.Fatalf("endpoint %q", ep)
		}
	}
	ak, sk, tok := c.STSCredentials()

	// OSS through the real SDK, V4 + STS, into the default bucket: fires the
	// s.yaml function's trigger.
	oc, err := sdkoss.New(c.OSSEndpoint(), ak, sk, sdkoss.SecurityToken(tok), sdkoss.AuthVersion(sdkoss.AuthV4), sdkoss.Region(DefaultBucketRegion))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := oc.Bucket(DefaultBucket)
	if err := b.PutObject("certs/site/fullchain.pem", strings.NewReader("pem")); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	// SLB through the real SDK with the AccessKey pair.
	id, secret := c.Credentials()
	sc, err := sdkslb.NewClientWithOptions(DefaultBucketRegion, sdk.NewConfig(), credentials.NewStaticAKCredentialsProvider(id, secret))
	if err != nil {
		t.Fatal(err)
	}
	sc.Domain = strings.TrimPrefix(c.SLBEndpoint(), "http://")
	req := sdkslb.CreateDescribeServerCertificatesRequest()
	req.Scheme = "http"
	req.RegionId = DefaultBucketRegion
	if _, err := sc.DescribeServerCertificates(req); err != nil {
		t.Fatalf("DescribeServerCertificates: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.FC.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(records)
	if len(ents) != 1 {
		t.Fatalf("trigger deliveries: %d, want 1", len(ents))
	}
	ev, _ := os.ReadFile(filepath.Join(records, ents[0].Name()))
	if !strings.Contains(string(ev), `"key":"certs/site/fullchain.pem"`) || !strings.Contains(string(ev), `"name":"slb-cert-drop"`) {
		t.Fatalf("event %s", ev)
	}

	// The function sees the cloud's endpoints, through s.yaml's ${env()}.
	resp, err := http.Post(c.FCEndpoint()+"/2023-03-30/functions/echo/invocations", "application/json", strings.NewReader(`{"op":"echo"}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		PID         int    `json:"pid"`
		SLBEndpoint string `json:"slbEndpoint"`
		OSSEndpoint string `json:"ossEndpoint"`
		AccessKeyID string `json:"accessKeyId"`
		Region      string `json:"region"`
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(body, &out); err != nil || resp.Header.Get("X-Fc-Error-Type") != "" {
		t.Fatalf("invoke: %s %v", body, err)
	}
	if out.SLBEndpoint != c.SLBEndpoint() || out.OSSEndpoint != c.OSSEndpoint() || out.AccessKeyID != ak || out.Region != DefaultBucketRegion {
		t.Fatalf("function view %+v", out)
	}

	var st State
	raw := getJSON(t, c.FCEndpoint()+"/local/state", &st)
	if len(st.OSS) != 1 || st.OSS[0].Name != DefaultBucket || len(st.OSS[0].Objects) != 1 || len(st.FC.Functions) != 1 || !st.FC.Functions[0].Running {
		t.Fatalf("state %s", raw)
	}
	if strings.Contains(string(raw), sk) || strings.Contains(string(raw), tok) || strings.Contains(string(raw), secret) {
		t.Fatalf("state leaks a secret: %s", raw)
	}
	var rl RequestLog
	raw = getJSON(t, c.FCEndpoint()+"/local/requests", &rl)
	if len(rl.OSS) != 1 || rl.OSS[0].Action != "oss:PutObject" || len(rl.SLB) != 1 || len(rl.FC) != 1 || rl.FC[0].Status != "succeeded" {
		t.Fatalf("request log %s", raw)
	}
	if strings.Contains(string(raw), sk) || strings.Contains(string(raw), tok) || strings.Contains(string(raw), secret) {
		t.Fatalf("request log leaks a secret: %s", raw)
	}

	// Faults through the control API reach OSS.
	fr, _ := http.Post(c.FCEndpoint()+"/local/faults", "application/json", strings.NewReader(`{"action":"oss:GetObject","throttleRate":1}`))
	fr.Body.Close()
	_, err = b.GetObject("certs/site/fullchain.pem")
	var se sdkoss.ServiceError
	if !errors.As(err, &se) || se.StatusCode != 503 {
		t.Fatalf("throttled GetObject: %v", err)
	}

	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	closed = true
	for range 200 {
		if fcrttest.ProcessGone(out.PID) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !fcrttest.ProcessGone(out.PID) {
		t.Fatalf("function process %d survived Close", out.PID)
	}
	if _, err := http.Get(c.OSSEndpoint()); err == nil {
		t.Fatal("OSS endpoint still answers after Close")
	}
}

func TestStartZeroOptions(t *testing.T) {
	c, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if name, region := c.Bucket(); name != DefaultBucket || region != DefaultBucketRegion {
		t.Fatalf("bucket %s %s", name, region)
	}
	if ak, sk := c.Credentials(); ak == "" || sk == "" {
		t.Fatal("no AccessKey pair")
	}
	if ak, sk, tok := c.STSCredentials(); ak == "" || sk == "" || tok == "" {
		t.Fatal("no STS triple")
	}
	var fns []json.RawMessage
	getJSON(t, c.FCEndpoint()+"/local/functions", &fns)
	if len(fns) != 0 {
		t.Fatalf("functions without s.yaml: %d", len(fns))
	}
}

func TestStartBadSYAML(t *testing.T) {
	if _, err := Start(Options{SYAML: filepath.Join(t.TempDir(), "missing.yaml")}); err == nil {
		t.Fatal("Start with a missing s.yaml succeeded")
	}
}
