package deploytest

import (
	"go/build"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const modulePath = "github.com/slb-cert-rotator/slb-cert-rotator"

// useCases are the packages that hold the product's behaviour: they
// depend on the domain packages and their own small interfaces only.
var useCases = []string{"shared/expiry", "shared/rotation", "shared/provisioning", "shared/issuance", "shared/inventory", "shared/pairs"}

// forbiddenDep reports whether a use case may not depend on importPath:
// an adapter package of the module or an Alibaba Cloud SDK module.
func forbiddenDep(importPath string) bool {
	for _, adapter := range []string{"shared/aliyun", "shared/albnlb", "shared/tlsprobe"} {
		p := modulePath + "/" + adapter
		if importPath == p || strings.HasPrefix(importPath, p+"/") {
			return true
		}
	}
	return strings.HasPrefix(importPath, "github.com/aliyun/")
}

// importGraph reads the imports of the module's packages (non-test files,
// this platform's build constraints) from the source tree, without the
// network or the go command.
type importGraph struct {
	root    string
	imports map[string][]string // module-relative directory -> import paths
}

func (g *importGraph) of(t *testing.T, rel string) []string {
	t.Helper()
	if imps, ok := g.imports[rel]; ok {
		return imps
	}
	pkg, err := build.Default.ImportDir(filepath.Join(g.root, filepath.FromSlash(rel)), 0)
	if err != nil {
		t.Fatalf("read the imports of %s: %v", rel, err)
	}
	g.imports[rel] = pkg.Imports
	return pkg.Imports
}

// violations walks every module package pkg depends on (directly or
// through other module packages) and returns each forbidden import with
// the chain that leads to it, sorted.
func (g *importGraph) violations(t *testing.T, pkg string) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{pkg: true}
	var walk func(rel, chain string)
	walk = func(rel, chain string) {
		for _, imp := range g.of(t, rel) {
			switch {
			case forbiddenDep(imp):
				out = append(out, chain+" -> "+imp)
			case strings.HasPrefix(imp, modulePath+"/"):
				next := strings.TrimPrefix(imp, modulePath+"/")
				if !seen[next] {
					seen[next] = true
					walk(next, chain+" -> "+next)
				}
			}
		}
	}
	walk(pkg, pkg)
	sort.Strings(out)
	return out
}

// TestUseCasesImportNoAdapter keeps the layering of docs/internals.md
// (Rules): no use case imports shared/aliyun, shared/albnlb,
// shared/tlsprobe or an Alibaba Cloud SDK, directly or through another
// package of the module; shared/app joins them.
func TestUseCasesImportNoAdapter(t *testing.T) {
	g := &importGraph{root: repoRoot(t), imports: map[string][]string{}}
	for _, pkg := range useCases {
		for _, v := range g.violations(t, pkg) {
			t.Errorf("%s depends on an adapter: %s (define a small interface in %s and let shared/app inject the adapter)", pkg, v, pkg)
		}
	}
}

// TestForbiddenDep: the rule names the adapters and the SDK modules, and
// leaves the domain packages alone.
func TestForbiddenDep(t *testing.T) {
	for _, tt := range []struct {
		path string
		want bool
	}{
		{modulePath + "/shared/aliyun", true},
		{modulePath + "/shared/albnlb", true},
		{modulePath + "/shared/tlsprobe", true},
		{"github.com/aliyun/alibaba-cloud-sdk-go/services/cas", true},
		{"github.com/aliyun/aliyun-oss-go-sdk/oss", true},
		{modulePath + "/shared/clb", false},
		{modulePath + "/shared/inventory", false},
		{modulePath + "/shared/aliyunish", false},
		{"context", false},
	} {
		if got := forbiddenDep(tt.path); got != tt.want {
			t.Errorf("forbiddenDep(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// TestViolationsFollowModulePackages: a forbidden import reached through
// another package of the module is found, with its chain; the domain
// packages and the standard library are not.
func TestViolationsFollowModulePackages(t *testing.T) {
	g := &importGraph{imports: map[string][]string{
		"shared/expiry":    {"context", modulePath + "/shared/clb", modulePath + "/shared/rotation"},
		"shared/rotation":  {modulePath + "/shared/clb", modulePath + "/shared/tlsprobe"},
		"shared/clb":       {"time"},
		"shared/inventory": {modulePath + "/shared/clb", "github.com/aliyun/alibaba-cloud-sdk-go/sdk"},
	}}
	got := g.violations(t, "shared/expiry")
	want := []string{"shared/expiry -> shared/rotation -> " + modulePath + "/shared/tlsprobe"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations(shared/expiry) = %q, want %q", got, want)
	}
	if got := g.violations(t, "shared/inventory"); len(got) != 1 || !strings.HasSuffix(got[0], "github.com/aliyun/alibaba-cloud-sdk-go/sdk") {
		t.Errorf("violations(shared/inventory) = %q, want the SDK import", got)
	}
	if got := g.violations(t, "shared/clb"); len(got) != 0 {
		t.Errorf("violations(shared/clb) = %q, want none", got)
	}
}
