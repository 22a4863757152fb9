package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeFC records what the fc3-local component sends to the FC control API.
type fakeFC struct {
	mu      sync.Mutex
	specs   map[string]map[string]any
	invokes []fakeInvoke
	reply   string
	errType string
}

type fakeInvoke struct {
	path, invocationType string
	body                 []byte
}

func (f *fakeFC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/local/functions/"):
		var spec map[string]any
		if err := json.Unmarshal(body, &spec); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.specs[strings.TrimPrefix(r.URL.Path, "/local/functions/")] = spec
		w.WriteHeader(http.StatusOK)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/2023-03-30/functions/"):
		f.invokes = append(f.invokes, fakeInvoke{r.URL.Path, r.Header.Get("x-fc-invocation-type"), body})
		if f.errType != "" {
			w.Header().Set("x-fc-error-type", f.errType)
		}
		w.Header().Set("content-type", "application/json")
		_, _ = io.WriteString(w, f.reply)
	default:
		http.NotFound(w, r)
	}
}

// sProject copies s.yaml and events/ into a scratch project with stand-in
// binaries under dist/, so the real s CLI can run the local component.
func sProject(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(root, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "events"), 0o755); err != nil {
		t.Fatal(err)
	}
	ev, err := os.ReadFile(filepath.Join(root, "events", "oss-fullchain.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events", "oss-fullchain.json"), ev, 0o644); err != nil {
		t.Fatal(err)
	}
	fns, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns {
		fn := f.Name()
		if err := os.MkdirAll(filepath.Join(dir, "dist", fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "dist", fn, "bootstrap"), []byte("stand-in"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runS(t *testing.T, root, dir, endpoint string, args ...string) (string, error) {
	t.Helper()
	s := filepath.Join(root, "tooling", "node_modules", ".bin", "s")
	if _, err := os.Stat(s); err != nil {
		t.Skipf("Serverless Devs CLI not installed (%s): run `npm ci --prefix tooling`; fc3-local NOT checked", s)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: fc3-local NOT checked")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s, args...)
	cmd.Dir = dir
	homeEnv := cliHome(t)
	cmd.Env = append(append(filterEnv(os.Environ(), "HOME", "NODE_ENV", "FC3_COMPONENT", "LOCALCLOUD_FC_ENDPOINT", "LOCALCLOUD_ENV_FILE", "SLB_ENDPOINT", "OSS_ENDPOINT"), homeEnv...),
		"FC3_COMPONENT="+filepath.Join(root, "tooling", "fc3-local"),
		"LOCALCLOUD_FC_ENDPOINT="+endpoint,
		"LOCALCLOUD_SLB_ENDPOINT=http://127.0.0.1:1111",
		"NO_COLOR=1",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// runMake runs a make target of the repository with the environment runS
// gives the s CLI (the local component against endpoint).
func runMake(t *testing.T, root, endpoint string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "make", append([]string{"-s", "--no-print-directory", "-C", root}, args...)...)
	homeEnv := cliHome(t)
	cmd.Env = append(append(filterEnv(os.Environ(), "HOME", "NODE_ENV", "FC3_COMPONENT", "LOCALCLOUD_FC_ENDPOINT", "LOCALCLOUD_ENV_FILE", "SLB_ENDPOINT", "OSS_ENDPOINT", "MAKEFLAGS", "MFLAGS"), homeEnv...),
		"GOCACHE="+goEnv(t, "GOCACHE"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"), "GOPATH="+goEnv(t, "GOPATH"),
		"FC3_COMPONENT="+filepath.Join(root, "tooling", "fc3-local"),
		"LOCALCLOUD_FC_ENDPOINT="+endpoint,
		"LOCALCLOUD_ENV_FILE="+filepath.Join(t.TempDir(), "none.env"),
		"NO_COLOR=1",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// TestLocalComponent runs the real s CLI with FC3_COMPONENT pointing at
// tooling/fc3-local against a fake FC control API on loopback.
func TestLocalComponent(t *testing.T) {
	root := repoRoot(t)
	fake := &fakeFC{specs: map[string]map[string]any{}, reply: `{"status":"rotated-ok"}`}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	dir := sProject(t, root)

	t.Run("deploy", func(t *testing.T) {
		out, err := runS(t, root, dir, srv.URL, "deploy", "-y", "--skip-actions")
		if err != nil {
			t.Fatalf("s deploy: %v\n%s", err, out)
		}
		fake.mu.Lock()
		defer fake.mu.Unlock()
		want := map[string]string{
			"slb-cert-rotate-on-upload":   "rotate-on-upload",
			"slb-cert-expiry-check":       "expiry-check",
			"slb-cert-provision":          "provision",
			"slb-cert-renew-certificates": "renew-certificates",
		}
		if len(fake.specs) != len(want) {
			t.Fatalf("deployed %d functions, want %d", len(fake.specs), len(want))
		}
		for name, fn := range want {
			spec := fake.specs[name]
			if spec == nil {
				t.Errorf("%s not deployed", name)
				continue
			}
			if got, want := spec["binary"], filepath.Join(dir, "dist", fn, "bootstrap"); got != want {
				t.Errorf("%s Binary %v, want %s", name, got, want)
			}
			env, _ := spec["env"].(map[string]any)
			if env["SLB_ENDPOINT"] != "http://127.0.0.1:1111" || env["CERT_BUCKET"] != "slb-cert-drop" {
				t.Errorf("%s Env: %v", name, env)
			}
			if spec["handler"] != "bootstrap" || spec["region"] != "cn-zhangjiakou" {
				t.Errorf("%s handler/region: %v %v", name, spec["handler"], spec["region"])
			}
			if spec["timeout"] == nil || spec["memoryMB"] == nil {
				t.Errorf("%s: timeout/memoryMB missing: %v", name, spec)
			}
		}
		// maxAsyncRetryAttempts 2 / 1 / 0 / 1 -> asyncRetries 2 / 1 / -1 / 1 (0 is FC's default 3 there).
		for name, want := range map[string]float64{"slb-cert-rotate-on-upload": 2, "slb-cert-expiry-check": 1, "slb-cert-provision": -1, "slb-cert-renew-certificates": 1} {
			if got := fake.specs[name]["asyncRetries"]; got != want {
				t.Errorf("%s asyncRetries %v, want %v", name, got, want)
			}
		}
		rot, _ := fake.specs["slb-cert-rotate-on-upload"]["triggers"].([]any)
		if len(rot) != 3 {
			t.Fatalf("rotate triggers: %v", rot)
		}
		for i, suffix := range []string{".pem", ".crt", ".key"} {
			oss, _ := rot[i].(map[string]any)["oss"].(map[string]any)
			if oss["bucketName"] != "slb-cert-drop" || oss["prefix"] != "certs/" || oss["suffix"] != suffix {
				t.Errorf("oss trigger spec %d: %v, want suffix %s", i, oss, suffix)
			}
		}
		tim, _ := fake.specs["slb-cert-expiry-check"]["triggers"].([]any)
		if len(tim) != 1 {
			t.Fatalf("timer triggers: %v", tim)
		}
		timer, _ := tim[0].(map[string]any)["timer"].(map[string]any)
		if !strings.HasPrefix(timer["cronExpression"].(string), "CRON_TZ=Asia/Shanghai") || timer["enable"] != true {
			t.Errorf("timer spec: %v", timer)
		}
	})

	t.Run("invoke", func(t *testing.T) {
		out, err := runS(t, root, dir, srv.URL, "rotate-on-upload", "invoke", "-f", "events/oss-fullchain.json")
		if err != nil {
			t.Fatalf("s invoke: %v\n%s", err, out)
		}
		if !strings.Contains(out, "rotated-ok") {
			t.Errorf("invoke output lacks the function result:\n%s", out)
		}
		want, _ := os.ReadFile(filepath.Join(dir, "events", "oss-fullchain.json"))
		fake.mu.Lock()
		defer fake.mu.Unlock()
		if len(fake.invokes) != 1 {
			t.Fatalf("%d invocations, want 1", len(fake.invokes))
		}
		inv := fake.invokes[0]
		if inv.path != "/2023-03-30/functions/slb-cert-rotate-on-upload/invocations" || inv.invocationType != "Sync" || !bytes.Equal(inv.body, want) {
			t.Errorf("invocation %s %s body %q", inv.path, inv.invocationType, inv.body)
		}
	})

	t.Run("function error fails the command", func(t *testing.T) {
		fake.mu.Lock()
		fake.errType, fake.reply = "UnhandledInvocationError", `{"errorMessage":"boom"}`
		fake.mu.Unlock()
		out, err := runS(t, root, dir, srv.URL, "rotate-on-upload", "invoke", "-e", `{"x":1}`)
		if err == nil {
			t.Fatalf("s invoke succeeded on a function error:\n%s", out)
		}
		if !strings.Contains(out, "boom") {
			t.Errorf("output does not show the error:\n%s", out)
		}
	})

	t.Run("make invoke fails unless the status is a success", func(t *testing.T) {
		if _, err := exec.LookPath("make"); err != nil {
			t.Skip("make not installed")
		}
		tests := []struct {
			reply string
			ok    bool
			says  string
		}{
			{`{"status":"rejected","reason":"certs/example.com/privkey.pem: the private key is encrypted"}`, false,
				"status rejected is not a success (s shows ✔ because the invocation returned): certs/example.com/privkey.pem: the private key is encrypted"},
			{`{"action":"apply","status":"rejected","error":"config: CERT_BUCKET is not set"}`, false, "config: CERT_BUCKET is not set"},
			{`{"status":"partial","error":"1 of 2 listeners left"}`, false, "status partial is not a success"},
			{`{"status":"rotated","name":"example.com"}`, true, "invoke: status rotated"},
		}
		for _, tt := range tests {
			fake.mu.Lock()
			fake.errType, fake.reply = "", tt.reply
			fake.mu.Unlock()
			out, err := runMake(t, root, srv.URL, "invoke", "FN=rotate-on-upload", "EVENT=events/oss-fullchain.json")
			if (err == nil) != tt.ok {
				t.Errorf("reply %s: make invoke err = %v, want ok=%v\n%s", tt.reply, err, tt.ok, out)
			}
			if !strings.Contains(out, tt.says) {
				t.Errorf("reply %s: output lacks %q:\n%s", tt.reply, tt.says, out)
			}
		}
	})

	t.Run("no endpoint is a clear error", func(t *testing.T) {
		out, err := runS(t, root, dir, "", "provision", "invoke", "-e", `{}`)
		if err == nil || !strings.Contains(out, "LOCALCLOUD_FC_ENDPOINT") {
			t.Fatalf("want an error naming LOCALCLOUD_FC_ENDPOINT, got %v:\n%s", err, out)
		}
	})
}
