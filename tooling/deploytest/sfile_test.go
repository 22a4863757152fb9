package deploytest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// functionDirs lists functions/<name> folders that hold Go code.
func functionDirs(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatalf("read functions/: %v", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		gofiles, _ := filepath.Glob(filepath.Join(root, "functions", e.Name(), "*.go"))
		if len(gofiles) > 0 {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestSYAMLProjectChecks(t *testing.T) {
	root := repoRoot(t)
	f := loadSYAML(t, filepath.Join(root, "s.yaml"))
	for _, want := range []string{"rotate-on-upload", "expiry-check", "provision"} {
		if _, ok := f.Resources[want]; !ok {
			t.Errorf("s.yaml has no resource %s", want)
		}
	}
	dirs := functionDirs(t, root)
	for _, problem := range checkSFile(f, dirs) {
		t.Error(problem)
	}
}

// TestChecksCatchMistakes proves the checks above can fail: a deliberately
// broken s.yaml must produce each expected complaint.
func TestChecksCatchMistakes(t *testing.T) {
	f := loadSYAML(t, filepath.Join("testdata", "bad-s.yaml"))
	problems := checkSFile(f, []string{"rotate-on-upload", "expiry-check", "provision"})
	joined := strings.Join(problems, "\n")
	tests := []struct {
		name string
		want string
	}{
		{"edition", `edition is "2.0.0"`},
		{"pre-deploy build", "does not run `make build`"},
		{"missing env var", "vars.env lacks REGIONS"},
		{"env value not string", "vars.env.MIN_VALID_DAYS is int"},
		{"reserved FC_ prefix", "vars.env.FC_SECRET: FC reserves"},
		{"unread env var", "vars.env.FC_SECRET: no function reads it"},
		{"component", `rotate-on-upload: component is "fc3"`},
		{"handler", "rotate-on-upload: handler is main"},
		{"code path", "rotate-on-upload: code is ./build/rotate"},
		{"timeout type", "rotate-on-upload: timeout missing or not an integer"},
		{"async retries", "rotate-on-upload: asyncInvokeConfig.maxAsyncRetryAttempts"},
		{"wildcard event", `event "oss:ObjectCreated:*"`},
		{"missing events", "events lack oss:ObjectCreated:PutObject"},
		{"misspelt filter key", `unknown filter.key key "suffixx"`},
		{"prefix", "filter.key is prefix incoming/"},
		{"accepted name fires no trigger", "certs/example.com/example.com.crt (a name the bucket layout accepts) fires no OSS trigger"},
		{"useless trigger", "OSS trigger t (prefix \"incoming/\", suffix \"\") fires for no accepted pair file name"},
		{"trigger on the functions' own writes", "OSS trigger t-locks fires for locks/example.com.lock"},
		{"two triggers for one name", "certs/example.com/fullchain.pem fires 2 OSS triggers (t-pem, t-fullchain)"},
		{"runtime", "expiry-check: runtime is custom"},
		{"misspelt trigger key", `unknown key "trigerConfig"`},
		{"cron timezone", `cronExpression "0 0 3 * * *"`},
		{"timer enable", "enable missing"},
		{"timer payload", "payload is not a JSON object"},
		{"resource without folder", "resource orphan has no functions/orphan folder"},
		{"folder without resource", "functions/provision has no resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(joined, tc.want) {
				t.Errorf("no problem mentions %q; got:\n%s", tc.want, joined)
			}
		})
	}
}

// TestCodePathsAfterBuild checks that each resource's code path holds the
// executable bootstrap that `make build` writes (and its zip).
func TestCodePathsAfterBuild(t *testing.T) {
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "dist")); err != nil {
		t.Skip("dist/ absent: run `make build` first (make test does); code-path existence not checked")
	}
	f := loadSYAML(t, filepath.Join(root, "s.yaml"))
	for name, r := range f.Resources {
		t.Run(name, func(t *testing.T) {
			code, _ := r.Props["code"].(string)
			bin := filepath.Join(root, code, "bootstrap")
			info, err := os.Stat(bin)
			if err != nil {
				t.Fatalf("code %s: %v", code, err)
			}
			if info.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s is not executable (mode %v)", bin, info.Mode())
			}
			if _, err := os.Stat(filepath.Join(root, code) + ".zip"); err != nil {
				t.Errorf("zip for %s: %v", code, err)
			}
		})
	}
}
