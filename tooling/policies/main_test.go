package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRenderNarrowsEveryResource renders the repository's templates and
// checks that each resource names the deployment: account everywhere,
// region for SLB (one ARN per REGIONS entry) and SLS, the bucket for OSS;
// the only wildcards left are the ones the README explains.
func TestRenderNarrowsEveryResource(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	args := []string{"-in", filepath.Join("..", "..", "policies"), "-out", out, "-account", "5555666677778888",
		"-region", "cn-beijing", "-regions", "cn-beijing,cn-hangzhou", "-bucket", "my-drop", "-sls-project", "my-logs", "-sls-logstore", "fc"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.json"))
	templates, _ := filepath.Glob(filepath.Join("..", "..", "policies", "*.json"))
	if len(files) != len(templates) || len(files) < 4 {
		t.Fatalf("rendered %v, want one policy per template in policies/ (%d)", files, len(templates))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Statement []struct{ Resource []string } }
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, st := range doc.Statement {
			var slbRegions []string
			for _, r := range st.Resource {
				p := strings.SplitN(r, ":", 5)
				if len(p) != 5 || p[0] != "acs" || p[3] != "5555666677778888" {
					t.Errorf("%s: %s does not name the account", filepath.Base(f), r)
					continue
				}
				switch p[1] {
				case "slb", "alb", "nlb":
					slbRegions = append(slbRegions, p[2])
					if p[4] != "*" {
						t.Errorf("%s: %s", filepath.Base(f), r)
					}
				case "yundun-cert":
					if p[2] != "*" || p[4] != "*" {
						t.Errorf("%s: %s, want the account's CAS certificates", filepath.Base(f), r)
					}
				case "log":
					if p[2] != "cn-beijing" || p[4] != "project/my-logs/logstore/fc" {
						t.Errorf("%s: %s, want the function region's logstore", filepath.Base(f), r)
					}
				case "oss":
					ok := p[4] == "my-drop" || (strings.HasPrefix(p[4], "my-drop/") && strings.Count(p[4], "*") == 1 && strings.HasSuffix(p[4], "/*"))
					if p[2] != "*" || !ok {
						t.Errorf("%s: %s, want the bucket or a folder of it", filepath.Base(f), r)
					}
				case "alidns":
					if p[2] != "*" || p[4] != "domain/*" {
						t.Errorf("%s: %s, want the account's DNS domains", filepath.Base(f), r)
					}
				default:
					t.Errorf("%s: unexpected service in %s", filepath.Base(f), r)
				}
			}
			if slbRegions != nil && strings.Join(slbRegions, ",") != "cn-beijing,cn-hangzhou" {
				t.Errorf("%s: SLB regions %v, want one ARN per REGIONS entry", filepath.Base(f), slbRegions)
			}
		}
	}
}

func TestRenderRefusesBadValues(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{}, `-account "": want the numeric account id`},
		{[]string{"-account", "123456789012", "-regions", "cn-beijing,*"}, `region "*"`},
		{[]string{"-account", "123456789012", "-bucket", "a/b"}, `-bucket "a/b"`},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		args := append([]string{"-in", filepath.Join("..", "..", "policies"), "-out", t.TempDir()}, tt.args...)
		if code := run(args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
	if _, err := render([]byte(`{"Version":"1","Statement":[{"Resource":["acs:slb:${NOPE}:1:*"]}]}`), values{}); err == nil || !strings.Contains(err.Error(), "${NOPE}") {
		t.Errorf("unknown placeholder: %v", err)
	}
}
