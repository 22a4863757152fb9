package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicies checks that every function has a least-privilege RAM policy:
// explicit actions only (no wildcards), SLB/OSS/SLS/Alidns actions only.
func TestPolicies(t *testing.T) {
	root := repoRoot(t)
	f := loadSYAML(t, filepath.Join(root, "s.yaml"))
	for name := range f.Resources {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, "policies", name+".json"))
			if err != nil {
				t.Fatalf("policy for %s: %v", name, err)
			}
			var doc struct {
				Version   string
				Statement []struct {
					Effect   string
					Action   []string
					Resource []string
				}
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("policies/%s.json: %v", name, err)
			}
			if doc.Version != "1" || len(doc.Statement) == 0 {
				t.Fatalf("version %q, %d statements", doc.Version, len(doc.Statement))
			}
			for _, s := range doc.Statement {
				if s.Effect != "Allow" || len(s.Resource) == 0 {
					t.Errorf("statement %+v", s)
				}
				for _, a := range s.Action {
					if strings.Contains(a, "*") {
						t.Errorf("wildcard action %q", a)
					}
					if !strings.HasPrefix(a, "slb:") && !strings.HasPrefix(a, "oss:") && !strings.HasPrefix(a, "log:") && !strings.HasPrefix(a, "alidns:") {
						t.Errorf("unexpected action %q", a)
					}
				}
			}
		})
	}
}
