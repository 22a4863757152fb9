package deploytest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stragglerWait bounds how long a test waits for processes left running
// with its CLI home (s's own daemons give up after 30 s).
const stragglerWait = 35 * time.Second

// cliHome is the environment of a run of the s CLI (directly or through
// make): a fresh HOME, and NODE_ENV=test. NODE_ENV=test is s's own switch
// that stops it from spawning its daemons (update check, usage report,
// component update): s 3.x starts them detached with their output
// ignored, so they outlive the command and write under $HOME/.s while the
// test's TempDir is removed ("TempDir RemoveAll cleanup: directory not
// empty" on a busy machine), and the report would leave the tests for the
// network. The cleanup, registered after the TempDir's so that it runs
// first, fails the test naming every process still running with that HOME
// and waits for it to end, so that the removal cannot race one.
func cliHome(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	t.Cleanup(func() {
		left := processesWithHome(home)
		if len(left) == 0 {
			return
		}
		t.Errorf("processes still running with HOME=%s after the command returned: %q", home, left)
		for deadline := time.Now().Add(stragglerWait); len(left) > 0 && time.Now().Before(deadline); left = processesWithHome(home) {
			time.Sleep(50 * time.Millisecond)
		}
	})
	return []string{"HOME=" + home, "NODE_ENV=test"}
}

// processesWithHome lists the command lines of this user's processes whose
// environment sets HOME=home (none where /proc cannot tell).
func processesWithHome(home string) []string {
	pids, _ := filepath.Glob("/proc/[0-9]*")
	want := []byte("HOME=" + home + "\x00")
	var out []string
	for _, dir := range pids {
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err != nil || !bytes.HasPrefix(env, want) && !bytes.Contains(env, append([]byte{0}, want...)) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		out = append(out, strings.TrimSpace(strings.ReplaceAll(string(cmd), "\x00", " ")))
	}
	return out
}
