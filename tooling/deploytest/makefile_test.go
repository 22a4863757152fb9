package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestMakeHelpListsTargets: `make help` names every phony target of the
// Makefile (FORCE aside), each with a description.
func TestMakeHelpListsTargets(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed: make help NOT checked")
	}
	root := repoRoot(t)
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\.PHONY:(.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile has no .PHONY line")
	}
	cmd := exec.Command("make", "-s", "--no-print-directory", "-C", root, "help")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			listed[f[0]] = true
		}
	}
	for _, target := range strings.Fields(string(m[1])) {
		if target != "FORCE" && !listed[target] {
			t.Errorf("make help does not list %s:\n%s", target, out)
		}
	}
}
