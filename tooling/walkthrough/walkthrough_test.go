package walkthrough

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
)

const (
	begin = "<!-- walkthrough: begin -->"
	end   = "<!-- walkthrough: end -->"
	clone = "git clone https://github.com/slb-cert-rotator/slb-cert-rotator.git && cd slb-cert-rotator"
)

// commands returns the shell lines between the walkthrough markers.
func commands(t *testing.T, readme string) []string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, begin)
	block, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README has no %s ... %s section", begin, end)
	}
	var out []string
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "```") || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	return out
}

func TestFirstHour(t *testing.T) {
	for _, tool := range []string{"bash", "make", "go", "grep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: the README walkthrough NOT run", tool)
		}
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds := commands(t, string(readme))
	if len(cmds) == 0 || cmds[0] != clone {
		t.Fatalf("the walkthrough must start with %q, got %q", clone, cmds)
	}
	// The clone: a copy of the working tree (what a commit of it would give),
	// without build output, so that the README's commands start from scratch.
	dir := filepath.Join(t.TempDir(), "slb-cert-rotator")
	copyTree(t, root, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	t.Cleanup(func() { // never leave the cloud running, whatever failed
		exec.Command("bash", "-c", "dist/localcloud stop -env-file .localcloud.env -pid-file .localcloud.pid").Run()
	})
	t0 := time.Now()
	outs := map[string]string{}
	var cloudPID int
	var functionPIDs []int
	for _, c := range cmds[1:] {
		if strings.HasPrefix(c, "make local-down") {
			cloudPID, functionPIDs = processes(t, dir)
		}
		out, err := sh(ctx, dir, c)
		t.Logf("$ %s\n%s", c, out)
		if err != nil {
			t.Fatalf("%s: %v\n%s", c, err, out)
		}
		outs[c] += out
	}
	took := time.Since(t0)
	// Measured, not asserted (no timed tests): about 20 s on an idle
	// machine once the build cache is warm.
	t.Logf("walkthrough took %s", took.Round(time.Millisecond))

	sha := regexp.MustCompile(`sha1=([0-9a-f:]{59})`)
	find := func(prefix string) []string {
		var got []string
		for _, c := range cmds {
			if strings.HasPrefix(c, prefix) {
				got = append(got, outs[c])
			}
		}
		return got
	}
	certs := find("dist/localcloud cert")
	listeners := find("dist/localcloud listeners")
	drops := find("make drop")
	if len(certs) != 2 || len(listeners) != 2 || len(drops) != 2 {
		t.Fatalf("walkthrough has %d cert, %d listeners, %d drop commands; want 2 each", len(certs), len(listeners), len(drops))
	}
	for i, name := range []string{"A", "B"} {
		m := sha.FindStringSubmatch(certs[i])
		if m == nil {
			t.Fatalf("cert %s printed no sha1: %s", name, certs[i])
		}
		if !strings.Contains(listeners[i], "sha1="+m[1]) {
			t.Errorf("listeners after pair %s does not show its sha1 %s being served:\n%s", name, m[1], listeners[i])
		}
	}
	if !strings.Contains(drops[1], "): rotated") {
		t.Errorf("the second drop did not report a rotation:\n%s", drops[1])
	}
	if grep := find("grep"); len(grep) != 1 || !strings.Contains(grep[0], `"status":"rotated"`) || !strings.Contains(grep[0], `"name":"example.com"`) {
		t.Errorf("no rotation log line: %q", grep)
	}

	// make local-down leaves nothing behind.
	if cloudPID == 0 || len(functionPIDs) == 0 {
		t.Fatalf("before make local-down: cloud pid %d, function pids %v; want the cloud and its function processes", cloudPID, functionPIDs)
	}
	for _, pid := range append([]int{cloudPID}, functionPIDs...) {
		if !fcrttest.ProcessGone(pid) {
			t.Errorf("process %d still running after make local-down", pid)
		}
	}
	for _, f := range []string{".localcloud.pid", ".localcloud.env"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind after make local-down", f)
		}
	}
}

// sh runs one README line the way a newcomer's shell would.
func sh(ctx context.Context, dir, line string) (string, error) {
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// cleanEnv is the environment without anything that would point the
// commands at another cloud or change make's behaviour.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "LOCALCLOUD_"), strings.HasPrefix(k, "ALIBABA_CLOUD_"),
			k == "OSS_ENDPOINT", k == "SLB_ENDPOINT", k == "FC_ENDPOINT", k == "CERT_BUCKET", k == "OSS_REGION",
			k == "MAKEFLAGS", k == "MFLAGS", k == "MAKELEVEL":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// processes returns the running cloud's pid (.localcloud.pid) and its
// children (the function instances).
func processes(t *testing.T, dir string) (int, []int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ".localcloud.pid"))
	if err != nil {
		t.Fatalf("no .localcloud.pid while the cloud runs: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	var children []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			children = append(children, p)
		}
	}
	return pid, children
}

// copyTree copies the repository's sources (not .git, dist, node_modules or
// local cloud files) from src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	skip := map[string]bool{".git": true, "dist": true, "node_modules": true, ".localcloud.env": true, ".localcloud.pid": true, ".localcloud.log": true}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if skip[d.Name()] && rel != "." {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy the repository: %v", err)
	}
}
