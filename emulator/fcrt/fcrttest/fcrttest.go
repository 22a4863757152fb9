// Package fcrttest is what tests of functions on the local Function
// Compute share: building a function's bootstrap the way the deployment
// does, a log buffer the function's goroutines may write to concurrently,
// and telling whether an instance's process is gone.
package fcrttest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Build builds the Go package pkg (as `go build` takes it, relative to
// the test's directory) into the executable out, statically (CGO_ENABLED=0)
// as it is deployed to Function Compute.
func Build(out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %w\n%s", pkg, err, b)
	}
	return nil
}

// BuildTo is Build that ends the test on failure.
func BuildTo(tb testing.TB, out, pkg string) {
	tb.Helper()
	if err := Build(out, pkg); err != nil {
		tb.Fatal(err)
	}
}

// BuildFunction builds pkg into a bootstrap in a temporary folder of the
// test and returns its path.
func BuildFunction(tb testing.TB, pkg string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "bootstrap")
	BuildTo(tb, bin, pkg)
	return bin
}

// Log is a bytes.Buffer safe for concurrent use: the slog handler of a
// function under test and the test reading it. Its zero value is ready.
type Log struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what has been written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ProcessGone reports whether the process pid no longer runs: absent, or
// a zombie not yet reaped.
func ProcessGone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	return len(f) > 0 && f[0] == "Z"
}
