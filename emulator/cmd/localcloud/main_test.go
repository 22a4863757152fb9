package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
)

// project builds the localcloud binary and the echo function into a
// temporary project folder with the emulator's test s.yaml; it returns the
// folder and the binary.
func project(t *testing.T) (dir, bin string) {
	t.Helper()
	dir = t.TempDir()
	bin = filepath.Join(dir, "localcloud")
	fcrttest.BuildTo(t, bin, ".")
	fcrttest.BuildTo(t, filepath.Join(dir, "dist", "echo", "bootstrap"), "../../fcrt/testdata/echofn")
	y, err := os.ReadFile("../../testdata/s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), y, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, bin
}

func TestLocalcloudStartsAndStopsClean(t *testing.T) {
	dir, bin := project(t)
	envFile, addrFile := filepath.Join(dir, "cloud.env"), filepath.Join(dir, "addr.json")

	cmd := exec.Command(bin, "-env-file", envFile, "-addr-file", addrFile, "-s-yaml", filepath.Join(dir, "s.yaml"), "-quiet", "-seed", "3", "-lb-fleet", "1")
	cmd.Env = append(os.Environ(), "RECORD_DIR="+dir)
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "localcloud ready ") {
				ready <- sc.Text()
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	var line string
	select {
	case line = <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("no ready line; stderr:\n%s", stderr.String())
	}
	// Measured, not asserted (no timed tests): process start to ready line.
	t.Logf("localcloud ready after %v (exec included): %s", time.Since(t0), line)

	envs := map[string]string{}
	raw, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(l, "export "), "=")
		envs[k] = v
	}
	for _, k := range []string{"SLB_ENDPOINT", "OSS_ENDPOINT", "FC_ENDPOINT", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "LOCALCLOUD_FC_ENDPOINT", "CERT_BUCKET",
		"ALB_ENDPOINT", "NLB_ENDPOINT", "CAS_ENDPOINT", "PROBE_RESOLVER"} {
		if envs[k] == "" {
			t.Fatalf("env file lacks %s:\n%s", k, raw)
		}
	}
	var addrs map[string]string
	if b, err := os.ReadFile(addrFile); err != nil || json.Unmarshal(b, &addrs) != nil || addrs["fc"] != envs["FC_ENDPOINT"] {
		t.Fatalf("addr file %v %v", addrs, err)
	}
	if !strings.Contains(line, "functions=1") {
		t.Fatalf("ready line %q", line)
	}
	var state struct {
		ALB, NLB struct {
			LoadBalancers []struct{ DNSName string } `json:"load_balancers"`
		}
		DNS []struct{ Name string }
	}
	if resp, err := http.Get(envs["FC_ENDPOINT"] + "/local/state"); err != nil {
		t.Fatal(err)
	} else {
		err = json.NewDecoder(resp.Body).Decode(&state)
		resp.Body.Close()
		if err != nil || len(state.ALB.LoadBalancers) != 1 || len(state.NLB.LoadBalancers) != 1 || len(state.DNS) != 2 {
			t.Fatalf("-lb-fleet 1 state: %+v %v", state, err)
		}
	}

	resp, err := http.Post(envs["FC_ENDPOINT"]+"/2023-03-30/functions/echo/invocations", "application/json", strings.NewReader(`{"op":"spawn"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var grandchild int
	if err := json.Unmarshal(b, &grandchild); err != nil || grandchild == 0 {
		t.Fatalf("spawn: %s", b)
	}
	resp, err = http.Post(envs["FC_ENDPOINT"]+"/2023-03-30/functions/echo/invocations", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ PID int }
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &out); err != nil || out.PID == 0 {
		t.Fatalf("invoke: %s", b)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("localcloud did not exit on SIGTERM")
	}
	for _, pid := range []int{out.PID, grandchild} {
		for range 200 {
			if fcrttest.ProcessGone(pid) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !fcrttest.ProcessGone(pid) {
			t.Fatalf("process %d left behind", pid)
		}
	}
	if _, err := http.Get(envs["FC_ENDPOINT"] + "/local/state"); err == nil {
		t.Fatal("FC endpoint still answers after shutdown")
	}
}
