package docscheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The sections checked: every "## Where each ..." or "### Where each ..."
// heading, up to the next heading of the same or a higher level.
const sectionPrefix = "Where each "

var (
	spanRE  = regexp.MustCompile("`([^`]+)`")
	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\(\))?$`)
	pathRE  = regexp.MustCompile(`^[a-z][a-z0-9_.*-]*(/[A-Za-z0-9_.*-]+)+/?$`)
)

// topDirs are the repository's top-level folders a path may start with.
var topDirs = []string{"shared", "emulator", "functions", "tooling", "bench", "reliability", "events", "docs", "policies"}

// repo is what the check knows of the repository: its root and, by package
// directory, the names each declares (lazily parsed).
type repo struct {
	root   string
	byName map[string][]string // last path element -> package directories
	decls  map[string]*pkgDecls
}

// pkgDecls: top-level names, and the members (methods, fields, interface
// methods, embedded types) of each named type.
type pkgDecls struct {
	names   map[string]bool
	types   map[string]bool
	members map[string]map[string]bool
	any     map[string]bool // every member of every type
}

func newRepo(t *testing.T, root string) *repo {
	t.Helper()
	r := &repo{root: root, byName: map[string][]string{}, decls: map[string]*pkgDecls{}}
	for _, top := range topDirs {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() || d.Name() == "testdata" {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if gos, _ := filepath.Glob(filepath.Join(p, "*.go")); len(gos) > 0 {
				rel, _ := filepath.Rel(root, p)
				rel = filepath.ToSlash(rel)
				r.byName[filepath.Base(p)] = append(r.byName[filepath.Base(p)], rel)
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatalf("walking %s: %v", top, err)
		}
	}
	return r
}

// pkg parses the package directory dir (relative to the root), tests included.
func (r *repo) pkg(dir string) (*pkgDecls, error) {
	if d, ok := r.decls[dir]; ok {
		return d, nil
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(r.root, dir, "*.go"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", dir)
	}
	d := &pkgDecls{names: map[string]bool{}, types: map[string]bool{}, members: map[string]map[string]bool{}, any: map[string]bool{}}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", f, err)
		}
		for _, decl := range file.Decls {
			d.add(decl)
		}
	}
	r.decls[dir] = d
	return d, nil
}

func (d *pkgDecls) member(typ, name string) {
	if d.members[typ] == nil {
		d.members[typ] = map[string]bool{}
	}
	d.members[typ][name] = true
	d.any[name] = true
}

func (d *pkgDecls) add(decl ast.Decl) {
	switch decl := decl.(type) {
	case *ast.FuncDecl:
		if decl.Recv == nil || len(decl.Recv.List) == 0 {
			d.names[decl.Name.Name] = true
			return
		}
		d.member(recvType(decl.Recv.List[0].Type), decl.Name.Name)
	case *ast.GenDecl:
		for _, spec := range decl.Specs {
			switch spec := spec.(type) {
			case *ast.TypeSpec:
				d.names[spec.Name.Name] = true
				d.types[spec.Name.Name] = true
				d.typeMembers(spec.Name.Name, spec.Type)
			case *ast.ValueSpec:
				for _, n := range spec.Names {
					d.names[n.Name] = true
				}
			}
		}
	}
}

func (d *pkgDecls) typeMembers(typ string, expr ast.Expr) {
	var fields *ast.FieldList
	switch e := expr.(type) {
	case *ast.StructType:
		fields = e.Fields
	case *ast.InterfaceType:
		fields = e.Methods
	default:
		return
	}
	for _, f := range fields.List {
		if len(f.Names) == 0 {
			d.member(typ, recvType(f.Type))
		}
		for _, n := range f.Names {
			d.member(typ, n.Name)
		}
	}
}

// recvType is the type name of a receiver or an embedded field.
func recvType(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return recvType(e.X)
	case *ast.IndexExpr:
		return recvType(e.X)
	case *ast.IndexListExpr:
		return recvType(e.X)
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.Ident:
		return e.Name
	}
	return ""
}

// has reports whether the package declares the dotted name: Name,
// Type.Member, or (bare) a member of any of its types.
func (d *pkgDecls) has(name string) bool {
	parts := strings.Split(name, ".")
	switch len(parts) {
	case 1:
		return d.names[parts[0]] || d.any[parts[0]]
	case 2:
		if d.members[parts[0]][parts[1]] {
			return true
		}
		// A package-level value's field or method (a var of a named type):
		// accept when the variable is declared and some type has the member.
		return d.names[parts[0]] && !d.types[parts[0]] && d.any[parts[1]]
	}
	return false
}

// stdPackages are standard-library packages a row may name in passing.
var stdPackages = map[string]bool{"errors": true, "os": true, "time": true, "context": true, "slog": true, "fmt": true, "http": true, "tls": true, "x509": true, "sync": true, "testing": true}

// sections returns the lines of every "Where each ..." section of a
// markdown document, each with its line number.
func sections(doc string) []numbered {
	var out []numbered
	level := 0 // the heading level of the section being read; 0 = none
	for i, line := range strings.Split(doc, "\n") {
		if h := headingLevel(line); h > 0 {
			title := strings.TrimSpace(strings.TrimLeft(line, "#"))
			switch {
			case strings.HasPrefix(title, sectionPrefix):
				level = h
				continue
			case level > 0 && h <= level:
				level = 0
			}
		}
		if level > 0 && strings.TrimSpace(line) != "" {
			out = append(out, numbered{i + 1, line})
		}
	}
	return out
}

type numbered struct {
	n    int
	text string
}

func headingLevel(line string) int {
	n := len(line) - len(strings.TrimLeft(line, "#"))
	if n == 0 || n >= len(line) || line[n] != ' ' {
		return 0
	}
	return n
}

// rows counts the table rows among lines (header and separator excluded).
func rows(lines []numbered) int {
	n := 0
	for i, l := range lines {
		t := strings.TrimSpace(l.text)
		if !strings.HasPrefix(t, "|") || strings.HasPrefix(t, "| ---") || strings.HasPrefix(t, "|---") {
			continue
		}
		if i+1 < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i+1].text), "| ---") {
			continue // a header
		}
		n++
	}
	return n
}

// check returns one problem per backticked name of the lines that names no
// path of the repository or no declaration of the package it names. A table
// row is checked on its own; the lines of a prose paragraph together.
func (r *repo) check(lines []numbered) []string {
	var problems []string
	for _, u := range units(lines) {
		for _, p := range r.checkLine(u.text) {
			problems = append(problems, fmt.Sprintf("docs/internals.md:%d: %s", u.n, p))
		}
	}
	return problems
}

// units joins consecutive prose lines (a paragraph) into one, numbered by
// its first line; table rows and headings stay single.
func units(lines []numbered) []numbered {
	var out []numbered
	prose := false
	for i, l := range lines {
		t := strings.TrimSpace(l.text)
		isProse := !strings.HasPrefix(t, "|") && !strings.HasPrefix(t, "#")
		if isProse && prose && lines[i-1].n == l.n-1 {
			out[len(out)-1].text += " " + t
			continue
		}
		out = append(out, l)
		prose = isProse
	}
	return out
}

// checkLine checks one line's spans: first its paths and package-qualified
// names, which name the packages of the line, then its bare names and file
// names, each of which must be declared in (or be a file of) one of them.
func (r *repo) checkLine(line string) []string {
	var problems []string
	var named []string // package directories the line names
	spans := spanRE.FindAllStringSubmatch(line, -1)
	report := func(span, problem string) {
		if problem != "" {
			problems = append(problems, fmt.Sprintf("`%s`: %s", span, problem))
		}
	}
	var bare []string
	for _, m := range spans {
		span := strings.TrimSuffix(m[1], "()")
		var problem string
		switch {
		case isPath(span):
			problem, named = r.checkPath(span, named)
		case identRE.MatchString(span) && !strings.HasSuffix(span, ".go") && r.isPackageRef(span):
			problem, named = r.checkPackageRef(span, named)
		case identRE.MatchString(span):
			bare = append(bare, m[1])
		}
		report(m[1], problem)
	}
	for _, span := range bare {
		name := strings.TrimSuffix(span, "()")
		if strings.HasSuffix(name, ".go") {
			report(span, r.checkFileName(name, named))
		} else {
			report(span, r.checkBare(name, named))
		}
	}
	return problems
}

func isPath(s string) bool {
	if !pathRE.MatchString(s) {
		return false
	}
	first, _, _ := strings.Cut(s, "/")
	for _, t := range topDirs {
		if first == t {
			return true
		}
	}
	return false
}

// checkPath: the path (a glob allowed) exists, or it is a package path
// followed by an identifier (shared/clb/clbtest.SLB) the package declares.
func (r *repo) checkPath(span string, named []string) (string, []string) {
	p := strings.TrimSuffix(span, "/")
	matches, _ := filepath.Glob(filepath.Join(r.root, filepath.FromSlash(p)))
	if len(matches) > 0 {
		if strings.Contains(p, "*") {
			for _, m := range matches {
				if st, err := os.Stat(m); err == nil && !st.IsDir() {
					m = filepath.Dir(m)
				}
				if gos, _ := filepath.Glob(filepath.Join(m, "*.go")); len(gos) > 0 {
					rel, _ := filepath.Rel(r.root, m)
					named = append(named, filepath.ToSlash(rel))
				}
			}
			return "", named
		}
		if st, err := os.Stat(matches[0]); err == nil && !st.IsDir() {
			p = filepath.ToSlash(filepath.Dir(p))
		}
		if gos, _ := filepath.Glob(filepath.Join(r.root, p, "*.go")); len(gos) > 0 {
			named = append(named, p)
		}
		return "", named
	}
	dir, last := p[:strings.LastIndex(p, "/")], p[strings.LastIndex(p, "/")+1:]
	if name, ident, ok := strings.Cut(last, "."); ok && !strings.HasSuffix(p, ".go") {
		pkgDir := dir + "/" + name
		d, err := r.pkg(pkgDir)
		if err != nil {
			return fmt.Sprintf("no such path or package %s", pkgDir), named
		}
		if !d.has(ident) {
			return fmt.Sprintf("package %s declares no %s", pkgDir, ident), named
		}
		return "", append(named, pkgDir)
	}
	return "no such path in the repository", named
}

// checkFileName: a bare file name is a file of a package the line named.
func (r *repo) checkFileName(name string, named []string) string {
	if len(named) == 0 {
		return "a file name with no package named before it on the line"
	}
	for _, dir := range named {
		if _, err := os.Stat(filepath.Join(r.root, dir, name)); err == nil {
			return ""
		}
	}
	return fmt.Sprintf("no such file in %s", strings.Join(dedup(named), ", "))
}

// isPackageRef: pkg.Name[.Member] with pkg a package of the module (or a
// lower-case prefix that names no type: a package that is gone).
func (r *repo) isPackageRef(span string) bool {
	first, _, dotted := strings.Cut(span, ".")
	if !dotted || !isLower(first) {
		return false
	}
	_, ok := r.byName[first]
	return ok || !stdPackages[first] && !r.declaredAnywhere(first)
}

// declaredAnywhere: a lower-case prefix such as rpcAPI is an unexported type.
func (r *repo) declaredAnywhere(name string) bool {
	for _, dirs := range r.byName {
		for _, dir := range dirs {
			if d, err := r.pkg(dir); err == nil && d.names[name] {
				return true
			}
		}
	}
	return false
}

// checkPackageRef: pkg.Name[.Member] must be declared in a package named pkg.
func (r *repo) checkPackageRef(span string, named []string) (string, []string) {
	first, rest, _ := strings.Cut(span, ".")
	dirs, ok := r.byName[first]
	if !ok {
		return fmt.Sprintf("%s is no package of the module", first), named
	}
	for _, dir := range dirs {
		if d, err := r.pkg(dir); err == nil && d.has(rest) {
			return "", append(named, dir)
		}
	}
	return fmt.Sprintf("no package named %s (%s) declares %s", first, strings.Join(dirs, ", "), rest), named
}

// checkBare: a bare Name[.Member] must be declared in a package the line
// names (with none named, it is not checked); a bare package name must be one.
func (r *repo) checkBare(span string, named []string) string {
	if _, ok := r.byName[span]; ok || vocabulary[span] || len(named) == 0 {
		return ""
	}
	for _, dir := range named {
		if d, err := r.pkg(dir); err == nil && d.has(span) {
			return ""
		}
	}
	return fmt.Sprintf("not declared in %s", strings.Join(dedup(named), ", "))
}

func dedup(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func isLower(s string) bool { return s != "" && s[0] >= 'a' && s[0] <= 'z' }

// vocabulary: words the tables quote that are values, not declarations.
var vocabulary = map[string]bool{"clb": true, "alb": true, "nlb": true}

// outcomeWords adds the status values of shared/outcome (their string
// constants) to the vocabulary, so a status named in a row is not taken for
// an identifier.
func outcomeWords(t *testing.T, root string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "shared", "outcome", "*.go"))
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					vocabulary[s] = true
				}
			}
			return true
		})
	}
}

// repoRoot is the directory holding go.mod, above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func TestInternalsWhereEachBehaviourLives(t *testing.T) {
	root := repoRoot(t)
	doc, err := os.ReadFile(filepath.Join(root, "docs", "internals.md"))
	if err != nil {
		t.Fatal(err)
	}
	outcomeWords(t, root)
	lines := sections(string(doc))
	if n := rows(lines); n < 100 {
		t.Fatalf("docs/internals.md: %d rows in its \"Where each ...\" tables, want at least 100 (a heading renamed?)", n)
	}
	for _, p := range newRepo(t, root).check(lines) {
		t.Error(p)
	}
}

// The check itself can fail: each wrong row below must be reported, naming
// the span, and a true row must not.
func TestCheckReportsWrongRows(t *testing.T) {
	root := repoRoot(t)
	r := newRepo(t, root)
	tests := []struct {
		name, row, want string
	}{
		{"true row", "| x | `shared/rotation/plan.go`: `planner.backwards` |", ""},
		{"removed package path", "| x | `shared/compose/compose.go`: `New` |", "`shared/compose/compose.go`: no such path"},
		{"removed package name", "| x | `compose.New` |", "`compose.New`: compose is no package of the module"},
		{"renamed function", "| x | `shared/rotation/load.go`: `LoadPair` |", "`LoadPair`: not declared in shared/rotation"},
		{"method of the wrong type", "| x | `shared/rotation/switch.go`: `Rotator.verify` |", "`Rotator.verify`: not declared in shared/rotation"},
		{"qualified name gone", "| x | `rotation.AdaptObjects` |", "`rotation.AdaptObjects`: no package named rotation"},
		{"path-qualified name gone", "| x | `shared/rotation/rotationtest.SLBFake` |", "package shared/rotation/rotationtest declares no SLBFake"},
		{"file not in the package", "| x | `shared/expiry`: `inventory.go`, `lbinventory2.go` |", "`lbinventory2.go`: no such file in shared/expiry"},
		{"file name without a package", "| x | `provisioner.go` |", "`provisioner.go`: a file name with no package named"},
		{"glob matching nothing", "| x | `functions/*/handler2.go` |", "no such path"},
		{"paragraph: true across lines", "The fake (`shared/clb/clbtest`) has\n`SLB.FailOn` and `slb.go`.", ""},
		{"paragraph: wrong across lines", "The fake (`shared/clb/clbtest`) has\n`SLB.FailNever`.", "`SLB.FailNever`: not declared in shared/clb/clbtest"},
		{"rows are not joined", "| x | `shared/clb/clbtest` |\n| y | `SLB.FailNever` |", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lines []numbered
			for i, l := range strings.Split(tt.row, "\n") {
				lines = append(lines, numbered{i + 1, l})
			}
			got := strings.Join(r.check(lines), "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("a true row reported: %s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

// sections finds every "Where each ..." section and nothing else, and rows
// counts table rows only.
func TestSectionsAndRows(t *testing.T) {
	doc := strings.Join([]string{
		"## Intro", "| a | b |", "| --- | --- |", "| `not/checked` | x |",
		"## Where each behaviour lives", "prose", "### Sub", "| behaviour | place |", "| --- | --- |", "| r1 | p |", "| r2 | p |",
		"## Next", "| `not/checked` | x |",
		"### Where each default lives", "| v | d |", "| --- | --- |", "| r3 | p |",
		"## End",
	}, "\n")
	lines := sections(doc)
	if n := rows(lines); n != 3 {
		t.Errorf("rows = %d, want 3", n)
	}
	for _, l := range lines {
		if strings.Contains(l.text, "not/checked") {
			t.Errorf("line %d outside the sections was taken: %q", l.n, l.text)
		}
	}
}
