package provisioning

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mutate decodes the seed payload, lets fn change it and encodes it again.
func mutate(t *testing.T, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFixture(t, "seed.json"), &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lbOf(m map[string]any) map[string]any { return m["loadBalancer"].(map[string]any) }
func backend(m map[string]any, i int) map[string]any {
	return m["backends"].([]any)[i].(map[string]any)
}
func listener(m map[string]any, i int) map[string]any {
	return m["listeners"].([]any)[i].(map[string]any)
}

func TestParseSeed(t *testing.T) {
	d, err := Parse(readFixture(t, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != ActionApply || d.Region != "cn-zhangjiakou" || d.LoadBalancer.Name != "SLB1" ||
		d.LoadBalancer.Spec != "slb.s1.small" || d.LoadBalancer.MasterZoneID != "cn-zhangjiakou-a" ||
		d.LoadBalancer.SlaveZoneID != "cn-zhangjiakou-b" || d.LoadBalancer.PayType != "PayOnDemand" {
		t.Errorf("instance = %+v", d)
	}
	if len(d.Backends) != 2 || d.Backends[0].EffectiveWeight() != 100 || d.Backends[1].Type != "ecs" {
		t.Errorf("backends = %+v", d.Backends)
	}
	l := d.Listeners[0]
	if l.FrontendPort != 80 || l.BackendPort != 443 || *l.Bandwidth != 6 || l.HealthCheck != "off" || l.StickySession != "off" || l.Certificate != "example.com" {
		t.Errorf("listener = %+v", l)
	}
}

func TestParseDefaults(t *testing.T) {
	b := mutate(t, func(m map[string]any) {
		delete(m, "action")
		delete(lbOf(m), "payType")
		delete(lbOf(m), "addressType")
		delete(backend(m, 0), "weight")
		delete(listener(m, 0), "protocol")
		delete(listener(m, 0), "healthCheck")
		delete(listener(m, 0), "stickySession")
	})
	d, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	l := d.Listeners[0]
	got := []string{d.Action, d.LoadBalancer.PayType, d.LoadBalancer.AddressType, l.Protocol, l.HealthCheck, l.StickySession}
	want := []string{"apply", "PayOnDemand", "internet", "https", "off", "off"}
	if !reflect.DeepEqual(got, want) || d.Backends[0].EffectiveWeight() != 100 {
		t.Errorf("defaults = %v weight %d, want %v weight 100", got, d.Backends[0].EffectiveWeight(), want)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name    string
		payload func(t *testing.T) []byte
		// paths are the JSON paths of all expected problems (order free).
		paths []string
		// contains is a fragment of the message of the first listed path.
		contains string
	}{
		{"empty payload", func(*testing.T) []byte { return []byte("  ") }, []string{"$"}, "empty"},
		{"not JSON", func(*testing.T) []byte { return []byte("{oops") }, []string{"$"}, "not valid JSON"},
		{"array at root", func(*testing.T) []byte { return []byte("[]") }, []string{"$"}, "must be an object"},
		{"unknown top-level field", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["colour"] = "blue" })
		}, []string{"colour"}, "unknown field"},
		{"unknown nested field", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["listenerPort"] = 80 })
		}, []string{"listeners[0].listenerPort"}, "unknown field"},
		{"bad action", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["action"] = "create" })
		}, []string{"action"}, `"create" is not one of apply, plan, destroy`},
		{"missing region", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { delete(m, "region") })
		}, []string{"region"}, "missing"},
		{"unknown region", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["region"] = "cn-atlantis" })
		}, []string{"region"}, "unknown region"},
		{"unknown zone for the region", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { lbOf(m)["masterZoneId"] = "cn-hangzhou-b" })
		}, []string{"loadBalancer.masterZoneId"}, `unknown zone "cn-hangzhou-b" for region cn-zhangjiakou`},
		{"same zones", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { lbOf(m)["slaveZoneId"] = "cn-zhangjiakou-a" })
		}, []string{"loadBalancer.slaveZoneId"}, "same as masterZoneId"},
		{"missing instance name", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { delete(lbOf(m), "name") })
		}, []string{"loadBalancer.name"}, "missing"},
		{"bad instance name", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { lbOf(m)["name"] = "1-bad name" })
		}, []string{"loadBalancer.name"}, "not a valid instance name"},
		{"missing spec", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { delete(lbOf(m), "spec") })
		}, []string{"loadBalancer.spec"}, "missing"},
		{"bad spec", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { lbOf(m)["spec"] = "slb.s9.huge" })
		}, []string{"loadBalancer.spec"}, "not one of"},
		{"bad pay type", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { lbOf(m)["payType"] = "PrePay" })
		}, []string{"loadBalancer.payType"}, "not one of PayOnDemand"},
		{"bad address type", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { lbOf(m)["addressType"] = "public" })
		}, []string{"loadBalancer.addressType"}, "not one of"},
		{"instance bandwidth out of range", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { lbOf(m)["bandwidth"] = 9000 })
		}, []string{"loadBalancer.bandwidth"}, "out of range 1..5120"},
		{"missing backends", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { delete(m, "backends") })
		}, []string{"backends"}, "at least one backend"},
		{"weight above 100", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { backend(m, 1)["weight"] = 101 })
		}, []string{"backends[1].weight"}, "101 is out of range 0..100"},
		{"negative weight", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { backend(m, 0)["weight"] = -1 })
		}, []string{"backends[0].weight"}, "out of range 0..100"},
		{"weight not an integer", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { backend(m, 0)["weight"] = 50.5 })
		}, []string{"backends[0].weight"}, "must be an integer"},
		{"weight as a string", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { backend(m, 0)["weight"] = "100" })
		}, []string{"backends[0].weight"}, "must be an integer, got a string"},
		{"duplicate backend", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { backend(m, 1)["serverId"] = backend(m, 0)["serverId"] })
		}, []string{"backends[1].serverId"}, "duplicate of backends[0]"},
		{"bad server id", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { backend(m, 0)["serverId"] = "web-1" })
		}, []string{"backends[0].serverId"}, "not an ECS or ENI id"},
		{"bad backend type", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { backend(m, 0)["type"] = "eci" })
		}, []string{"backends[0].type"}, "not one of ecs, eni"},
		{"frontend port zero", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["frontendPort"] = 0 })
		}, []string{"listeners[0].frontendPort"}, "missing"},
		{"backend port too big", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["backendPort"] = 70000 })
		}, []string{"listeners[0].backendPort"}, "70000 is out of range 1..65535"},
		{"bandwidth out of range", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["bandwidth"] = 6000 })
		}, []string{"listeners[0].bandwidth"}, "6000 is out of range 1..5120 (or -1)"},
		{"bandwidth zero", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["bandwidth"] = 0 })
		}, []string{"listeners[0].bandwidth"}, "out of range"},
		{"bandwidth missing", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { delete(listener(m, 0), "bandwidth") })
		}, []string{"listeners[0].bandwidth"}, "missing"},
		{"protocol http", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["protocol"] = "http" })
		}, []string{"listeners[0].protocol"}, "not supported"},
		{"health check as boolean", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["healthCheck"] = false })
		}, []string{"listeners[0].healthCheck"}, "must be a string, got a boolean"},
		{"health check bad value", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["healthCheck"] = "yes" })
		}, []string{"listeners[0].healthCheck"}, "not one of on, off"},
		{"sticky session on", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["stickySession"] = "on" })
		}, []string{"listeners[0].stickySession"}, "not supported"},
		{"missing certificate", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { delete(listener(m, 0), "certificate") })
		}, []string{"listeners[0].certificate"}, "missing"},
		{"certificate path escape", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { listener(m, 0)["certificate"] = "../secret" })
		}, []string{"listeners[0].certificate"}, "not a valid pair name"},
		{"duplicate ports", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) {
				m["listeners"] = append(m["listeners"].([]any), listener(m, 0))
			})
		}, []string{"listeners[1].frontendPort"}, "already used by listeners[0]"},
		{"domain extension problems", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) {
				listener(m, 0)["domainExtensions"] = []any{
					map[string]any{"domain": "api.example.com", "certificate": "api"},
					map[string]any{"domain": "API.example.com", "certificate": "api"},
					map[string]any{"domain": "not a domain", "certificate": ""},
				}
			})
		}, []string{"listeners[0].domainExtensions[1].domain", "listeners[0].domainExtensions[2].domain", "listeners[0].domainExtensions[2].certificate"}, "duplicate"},
		{"listeners not an array", func(t *testing.T) []byte {
			return mutate(t, func(m map[string]any) { m["listeners"] = map[string]any{"frontendPort": 80} })
		}, []string{"listeners"}, "must be an array, got an object"},
		{"every problem at once", func(t *testing.T) []byte { return readFixture(t, "many-problems.json") },
			[]string{"colour", "backends[1].wieght", "loadBalancer.masterZoneId", "backends[0].weight",
				"listeners[0].backendPort", "listeners[0].bandwidth", "listeners[1].frontendPort"}, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.payload(t))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if !errors.Is(err, apierr.ErrInvalid) || !apierr.Permanent(err) {
				t.Errorf("validation error is not permanent/invalid")
			}
			var got []string
			for _, p := range ve.Problems {
				got = append(got, p.Path)
			}
			want := append([]string(nil), tt.paths...)
			sort.Strings(got)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("problem paths = %v, want %v\n%s", got, want, err)
			}
			var first Problem
			for _, p := range ve.Problems {
				if p.Path == tt.paths[0] {
					first = p
					break
				}
			}
			if !strings.Contains(first.Message, tt.contains) {
				t.Errorf("%s: message %q does not contain %q", first.Path, first.Message, tt.contains)
			}
			if !strings.Contains(err.Error(), tt.paths[0]+": ") {
				t.Errorf("error text %q does not name %s", err, tt.paths[0])
			}
		})
	}
}

func TestProblemsCarryFixes(t *testing.T) {
	_, err := Parse(readFixture(t, "many-problems.json"))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	for _, p := range ve.Problems {
		if p.Fix == "" {
			t.Errorf("%s: %s has no fix", p.Path, p.Message)
		}
	}
	if !strings.Contains(ve.Error(), "listeners[0].bandwidth: 6000 is out of range 1..5120 (or -1); fix: ") {
		t.Errorf("error text = %s", ve)
	}
}

func TestParseDestroyNeedsOnlyIdentity(t *testing.T) {
	d, err := Parse([]byte(`{"action":"destroy","region":"cn-zhangjiakou","loadBalancer":{"name":"SLB1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != ActionDestroy || d.LoadBalancer.Name != "SLB1" {
		t.Errorf("d = %+v", d)
	}
	_, err = Parse([]byte(`{"action":"destroy","region":"cn-zhangjiakou","loadBalancer":{}}`))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Path != "loadBalancer.name" {
		t.Errorf("err = %v, want only loadBalancer.name missing", err)
	}
}

func TestEventsFilesParse(t *testing.T) {
	for _, name := range []string{"provision-apply.json", "provision-plan.json", "provision-destroy.json", "provision.json"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
			if err != nil {
				t.Skipf("events/%s not present: %v", name, err)
			}
			d, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.TrimSuffix(strings.TrimPrefix(name, "provision-"), ".json")
			if name == "provision.json" {
				want = ActionApply
			}
			if d.Action != want {
				t.Errorf("action = %s, want %s", d.Action, want)
			}
		})
	}
}
