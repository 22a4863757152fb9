package deploytest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// platformEnv are shared/config's variables that the platform (or the
// operator outside FC) sets, never s.yaml: the function's own region.
var platformEnv = []string{"FUNCTION_REGION", "FC_REGION", "ALIBABA_CLOUD_REGION", "ALIBABA_CLOUD_REGION_ID"}

// TestConfigEnv keeps configEnv (what s.yaml must set) equal to the Env*
// constants of shared/config, and the README's configuration table naming
// every one of them.
func TestConfigEnv(t *testing.T) {
	root := repoRoot(t)
	file := filepath.Join(root, "shared", "config", "config.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Env") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, _ := strconv.Unquote(lit.Value)
				if !slices.Contains(platformEnv, v) {
					read = append(read, v)
				}
			}
		}
	}
	if len(read) == 0 {
		t.Fatalf("%s: no Env* string constants found", file)
	}
	want := slices.Sorted(slices.Values(configEnv))
	slices.Sort(read)
	if !slices.Equal(read, want) {
		t.Errorf("shared/config reads %v, configEnv (checks_test.go) lists %v: keep them equal", read, want)
	}

	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range append(read, extraEnv...) {
		if !strings.Contains(string(readme), "| `"+v+"` |") {
			t.Errorf("README.md's configuration table has no row for %s", v)
		}
	}
}
