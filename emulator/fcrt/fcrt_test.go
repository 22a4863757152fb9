package fcrt

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
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
