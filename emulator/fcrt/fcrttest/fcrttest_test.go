package fcrttest

import (
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

func TestLogConcurrentWrites(t *testing.T) {
	var l Log
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_, _ = l.Write([]byte("x\n"))
				_ = l.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(l.String(), "x\n"); n != 800 {
		t.Errorf("%d lines, want 800", n)
	}
}

func TestBuildFunctionAndErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	bin := BuildFunction(t, "../testdata/echofn")
	if fi, err := os.Stat(bin); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("bootstrap %s: %v", bin, err)
	}
	err := Build(t.TempDir()+"/x", "./no-such-package")
	if err == nil || !strings.Contains(err.Error(), "build ./no-such-package") {
		t.Errorf("err = %v, want one naming the package", err)
	}
}

func TestProcessGone(t *testing.T) {
	if ProcessGone(os.Getpid()) {
		t.Error("the test's own process reported gone")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	if !ProcessGone(cmd.Process.Pid) {
		t.Error("a reaped process reported running")
	}
}
