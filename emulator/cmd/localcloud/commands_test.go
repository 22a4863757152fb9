package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

func TestLoadCloudEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "cloud.env")
	os.WriteFile(file, []byte("export OSS_ENDPOINT=http://127.0.0.1:1\nexport SLB_ENDPOINT=http://127.0.0.1:2\nexport FC_ENDPOINT=http://127.0.0.1:3\nexport CERT_BUCKET=b\n"), 0o600)
	env := map[string]string{"OSS_ENDPOINT": "http://stale:9", "ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"}
	e, err := loadCloudEnv(file, func(k string) string { return env[k] })
	if err != nil || e.OSS != "http://127.0.0.1:1" || e.FC != "http://127.0.0.1:3" || e.AccessKeyID != "id" || e.Region != "cn-zhangjiakou" {
		t.Errorf("file first, environment for the rest: %+v %v", e, err)
	}
	_, err = loadCloudEnv(filepath.Join(dir, "none.env"), func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "SLB_ENDPOINT, FC_ENDPOINT, CERT_BUCKET are unknown") || !strings.Contains(err.Error(), "make local-up") {
		t.Errorf("missing values: %v", err)
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		result string
		want   string // "" = success
	}{
		{`{"status":"rotated"}`, ""},
		{`{"status":"waiting","reason":"the key is missing"}`, ""},
		{`{"status":"rejected","reason":"certs/a/privkey.pem: encrypted"}`, "status rejected: certs/a/privkey.pem: encrypted"},
		{`{"action":"apply","status":"rejected","error":"config: CERT_BUCKET is not set","problems":["a: b"]}`, "status rejected: config: CERT_BUCKET is not set; a: b"},
		{`{"status":"partial"}`, "status partial: see the result above"},
		{`{"status":"failed","error":"throttled"}`, "status failed: throttled"},
		{`not json`, "the result has no status"},
	}
	for _, tt := range tests {
		err := judge("f", []byte(tt.result))
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: %v, want %q", tt.result, err, tt.want)
		}
	}
}

// TestStartStopLeavesNothing: start runs the cloud in the background; stop
// ends it, its function processes and what they spawned, and removes the
// pid and env files.
func TestStartStopLeavesNothing(t *testing.T) {
	dir, bin := project(t)
	files := []string{"-env-file", filepath.Join(dir, "c.env"), "-pid-file", filepath.Join(dir, "c.pid"), "-log-file", filepath.Join(dir, "c.log")}
	runBin := func(args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "RECORD_DIR="+dir)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Cleanup(func() { runBin(append([]string{"stop"}, files...)...) })
	if out, err := runBin(append(append([]string{"start"}, files...), "-s-yaml", filepath.Join(dir, "s.yaml"))...); err != nil || !strings.Contains(out, "local cloud running: pid") {
		t.Fatalf("start: %v\n%s", err, out)
	}
	if out, err := runBin(append([]string{"start"}, files...)...); err == nil || !strings.Contains(out, "already runs") {
		t.Errorf("second start: %v\n%s", err, out)
	}
	pid, ok := runningPID(filepath.Join(dir, "c.pid"))
	if !ok {
		t.Fatal("pid file does not name a running process")
	}
	e, err := loadCloudEnv(filepath.Join(dir, "c.env"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := fcCall(t.Context(), http.MethodPost, e.FC+"/2023-03-30/functions/echo/invocations", []byte(`{"op":"spawn"}`), nil)
	var grandchild int
	if err != nil || json.Unmarshal(out, &grandchild) != nil || grandchild == 0 {
		t.Fatalf("spawn: %s %v", out, err)
	}
	out, _, err = fcCall(t.Context(), http.MethodPost, e.FC+"/2023-03-30/functions/echo/invocations", []byte(`{}`), nil)
	var fn struct{ PID int }
	if err != nil || json.Unmarshal(out, &fn) != nil || fn.PID == 0 {
		t.Fatalf("invoke: %s %v", out, err)
	}

	if out, err := runBin(append([]string{"stop"}, files...)...); err != nil || !strings.Contains(out, "local cloud stopped") {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	for name, p := range map[string]int{"cloud": pid, "function": fn.PID, "process the function spawned": grandchild} {
		if !fcrttest.ProcessGone(p) {
			t.Errorf("%s (pid %d) still runs after stop", name, p)
		}
	}
	for _, f := range []string{"c.pid", "c.env"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind", f)
		}
	}
	if out, err := runBin(append([]string{"stop"}, files...)...); err != nil || !strings.Contains(out, "not running") {
		t.Errorf("stop with nothing running: %v\n%s", err, out)
	}
}

// TestBucketCommands runs put, ls, get, rm and drop against a local cloud
// with the project's s.yaml: every accepted pair file name fires
// rotate-on-upload, and the outcome is reported.
func TestBucketCommands(t *testing.T) {
	dir := t.TempDir()
	fcrttest.BuildTo(t, filepath.Join(dir, "dist", "rotate-on-upload", "bootstrap"), "../../../functions/rotate-on-upload")
	y, err := os.ReadFile("../../../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "s.yaml"), y, 0o644)
	c, err := emulator.Start(emulator.Options{SYAML: filepath.Join(dir, "s.yaml"), Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ak, sk := c.Credentials()
	envFile := filepath.Join(dir, "c.env")
	os.WriteFile(envFile, []byte("export OSS_ENDPOINT="+c.OSSEndpoint()+"\nexport SLB_ENDPOINT="+c.SLBEndpoint()+"\nexport FC_ENDPOINT="+c.FCEndpoint()+
		"\nexport CERT_BUCKET="+emulator.DefaultBucket+"\nexport ALIBABA_CLOUD_ACCESS_KEY_ID="+ak+"\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET="+sk+"\n"), 0o600)
	lc := func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		code := dispatch(append([]string{args[0], "-env-file", envFile}, args[1:]...), &stdout, &stderr)
		return stdout.String() + stderr.String(), code
	}

	p := certstest.MustSelfSigned(certstest.Options{Domains: []string{"example.com"}, NotAfter: time.Now().AddDate(0, 0, 60)})
	write := func(name string, data []byte) string {
		f := filepath.Join(dir, name)
		os.WriteFile(f, data, 0o600)
		return f
	}
	crt, key := write("a.crt", p.CertPEM), write("a.key", p.KeyPEM)

	out, code := lc("put", "certs/example.com/example.com.key", key)
	if code != 0 || !strings.Contains(out, "(oss-cert-upload-key): waiting") {
		t.Errorf("put .key: exit %d\n%s", code, out)
	}
	out, code = lc("put", "certs/example.com/example.com.crt", crt)
	if code != 0 || !strings.Contains(out, "slb-cert-rotate-on-upload (oss-cert-upload-crt): ") {
		t.Errorf("put .crt: exit %d\n%s", code, out)
	}
	out, code = lc("ls", "certs/")
	if code != 0 || !strings.Contains(out, "certs/example.com/example.com.crt") || !strings.Contains(out, "certs/example.com/example.com.key") {
		t.Errorf("ls: exit %d\n%s", code, out)
	}
	out, code = lc("get", "certs/example.com/example.com.crt")
	if code != 0 || out != string(p.CertPEM) {
		t.Errorf("get: exit %d\n%s", code, out)
	}
	got := filepath.Join(dir, "got.key")
	if _, code = lc("get", "certs/example.com/example.com.key", got); code != 0 {
		t.Errorf("get to a file: exit %d", code)
	} else if b, _ := os.ReadFile(got); !bytes.Equal(b, p.KeyPEM) {
		t.Errorf("get to a file: %q", b)
	}
	for _, k := range []string{"certs/example.com/example.com.crt", "certs/example.com/example.com.key"} {
		if out, code = lc("rm", k); code != 0 || !strings.Contains(out, "removed oss://slb-cert-drop/"+k) {
			t.Errorf("rm %s: exit %d\n%s", k, code, out)
		}
	}
	if out, code = lc("ls", "certs/"); code != 0 || strings.Contains(out, "example.com") {
		t.Errorf("ls after rm: exit %d\n%s", code, out)
	}

	// A pair the function refuses: drop exits 1 with the reason.
	block, _ := pem.Decode(p.KeyPEM)
	block.Headers = map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}
	enc := write("enc.pem", pem.EncodeToMemory(block))
	out, code = lc("drop", "bad.example.com", crt, enc)
	if code != 1 || !strings.Contains(out, "rejected") || !strings.Contains(out, "Proc-Type: 4,ENCRYPTED") {
		t.Errorf("drop of an encrypted key: exit %d\n%s", code, out)
	}
	if out, code = lc("put", "only-one-arg"); code != 2 || !strings.Contains(out, "usage: localcloud put KEY FILE") {
		t.Errorf("usage: exit %d\n%s", code, out)
	}
}
