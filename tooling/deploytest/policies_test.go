package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicies checks that every function has a least-privilege RAM policy:
// explicit actions only (no wildcards), actions of knownServices only.
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
				for _, r := range s.Resource {
					if problem := templateResourceProblem(r); problem != "" {
						t.Errorf("resource %q: %s", r, problem)
					}
				}
				for _, a := range s.Action {
					if strings.Contains(a, "*") {
						t.Errorf("wildcard action %q", a)
					}
					if service, _, _ := strings.Cut(a, ":"); !knownServices[service] {
						t.Errorf("unexpected action %q", a)
					}
				}
			}
		})
	}
}

// knownServices are the RAM services a policy may grant actions of.
var knownServices = map[string]bool{"slb": true, "alb": true, "nlb": true, "yundun-cert": true, "oss": true, "log": true, "alidns": true}

// templateResourceProblem says what is wrong with a Resource of a policy
// template: each names the deployment's account, SLB and SLS resources its
// regions (tooling/policies substitutes them), OSS resources the bucket.
func templateResourceProblem(r string) string {
	p := strings.SplitN(r, ":", 5)
	if len(p) != 5 || p[0] != "acs" {
		return "not an acs:<service>:<region>:<account>:<resource> ARN"
	}
	if p[3] != "${ALIYUN_ACCOUNT_ID}" {
		return "the account field must be ${ALIYUN_ACCOUNT_ID}"
	}
	switch p[1] {
	case "slb", "alb", "nlb":
		if p[2] != "${REGIONS}" || p[4] != "*" {
			return "SLB, ALB and NLB resources must be limited to ${REGIONS}"
		}
	case "yundun-cert":
		// CAS lives in its own region (cn-hangzhou or ap-southeast-1), not
		// the load balancers': the account's certificates.
		if p[2] != "*" || p[4] != "*" {
			return "CAS resources are the account's certificates (acs:yundun-cert:*:${ALIYUN_ACCOUNT_ID}:*): its CAS region depends on the load balancer's"
		}
	case "log":
		if p[2] != "${REGION}" || p[4] != "project/${SLS_PROJECT}/logstore/${SLS_LOGSTORE}" {
			return "the logstore must be project/${SLS_PROJECT}/logstore/${SLS_LOGSTORE} in ${REGION}"
		}
	case "oss":
		if p[4] != "${CERT_BUCKET}" && !strings.HasPrefix(p[4], "${CERT_BUCKET}/") {
			return "OSS resources must be in ${CERT_BUCKET}"
		}
	case "alidns":
		if !strings.HasPrefix(p[4], "domain/") {
			return "Alibaba Cloud DNS resources must be domain/<name>"
		}
	}
	return ""
}
