package deploytest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	root, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s has no go.mod: %v", root, err)
	}
	return root
}

// sFile is the part of s.yaml the project checks read (yaml.v3, unrendered).
type sFile struct {
	Edition   string               `yaml:"edition"`
	Name      string               `yaml:"name"`
	Vars      map[string]any       `yaml:"vars"`
	Actions   map[string][]sAction `yaml:"actions"`
	Resources map[string]sResource `yaml:"resources"`
	Extra     map[string]yaml.Node `yaml:",inline"`
}

type sAction struct {
	Run  string `yaml:"run"`
	Path string `yaml:"path"`
}

type sResource struct {
	Component string         `yaml:"component"`
	Props     map[string]any `yaml:"props"`
}

func loadSYAML(t *testing.T, path string) sFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read s.yaml: %v", err)
	}
	var f sFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return f
}
