package pairs

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

func TestParseKey(t *testing.T) {
	tests := []struct {
		key  string
		want KeyRef
		ok   bool
	}{
		{"certs/www/fullchain.pem", KeyRef{Name: "www", Layout: LayoutDir, File: "fullchain.pem"}, true},
		{"certs/www/privkey.pem", KeyRef{Name: "www", Layout: LayoutDir, File: "privkey.pem"}, true},
		{"certs/www/cert.pem", KeyRef{Name: "www", Layout: LayoutDir, File: "cert.pem"}, true},
		{"certs/www/key.pem", KeyRef{Name: "www", Layout: LayoutDir, File: "key.pem"}, true},
		{"certs/www/www.crt", KeyRef{Name: "www", Layout: LayoutDir, File: "www.crt"}, true},
		{"certs/www/www.key", KeyRef{Name: "www", Layout: LayoutDir, File: "www.key"}, true},
		{"certs/www/deploy.yaml", KeyRef{Name: "www", Layout: LayoutDir, File: "deploy.yaml"}, true},
		{"certs/www.pem", KeyRef{Name: "www", Layout: LayoutBundle}, true},
		{"certs/my site/fullchain.pem", KeyRef{Name: "my site", Layout: LayoutDir, File: "fullchain.pem"}, true},
		{"certs/网站 一/privkey.pem", KeyRef{Name: "网站 一", Layout: LayoutDir, File: "privkey.pem"}, true},
		{"certs/证书.pem", KeyRef{Name: "证书", Layout: LayoutBundle}, true},
		{"certs/www/chain.pem", KeyRef{}, false},
		{"certs/www/other.crt", KeyRef{}, false},
		{"certs/www/sub/fullchain.pem", KeyRef{}, false},
		{"certs/.pem", KeyRef{}, false},
		{"certs//fullchain.pem", KeyRef{}, false},
		{"certs/../fullchain.pem", KeyRef{}, false},
		{"certs/readme.txt", KeyRef{}, false},
		{"other/www/fullchain.pem", KeyRef{}, false},
		{"certsx/www.pem", KeyRef{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			got, ok := ParseKey("certs/", tt.key)
			if ok != tt.ok || got != tt.want {
				t.Errorf("ParseKey(%q) = %+v, %v; want %+v, %v", tt.key, got, ok, tt.want, tt.ok)
			}
		})
	}
}

type listOnly []string

func (l listOnly) Get(context.Context, string, string, int64) ([]byte, error) {
	return nil, errors.New("not used")
}
func (l listOnly) ListKeys(context.Context, string, string) ([]string, error) { return l, nil }

func TestList(t *testing.T) {
	store := listOnly{
		"certs/a/fullchain.pem", "certs/a/privkey.pem", "certs/a/deploy.yaml",
		"certs/b.pem",
		"certs/c/cert.pem",
		"certs/d/deploy.yaml",
		"certs/e/e.crt", "certs/e/e.key", "certs/e.pem",
		"certs/x y/key.pem", "certs/x y/fullchain.pem",
		"certs/readme.txt",
	}
	got, err := List(context.Background(), store, "bkt", "certs/")
	if err != nil {
		t.Fatal(err)
	}
	want := []Ref{
		{Name: "a", Layout: LayoutDir, CertKey: "certs/a/fullchain.pem", KeyKey: "certs/a/privkey.pem", DeployKey: "certs/a/deploy.yaml"},
		{Name: "b", Layout: LayoutBundle, CertKey: "certs/b.pem", KeyKey: "certs/b.pem"},
		{Name: "c", Layout: LayoutDir, CertKey: "certs/c/cert.pem"},
		{Name: "e", Layout: LayoutDir, CertKey: "certs/e/e.crt", KeyKey: "certs/e/e.key"},
		{Name: "x y", Layout: LayoutDir, CertKey: "certs/x y/fullchain.pem", KeyKey: "certs/x y/key.pem"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("List =\n%+v\nwant\n%+v", got, want)
	}
	if got[2].Complete() || !got[0].Complete() {
		t.Errorf("Complete: c=%v a=%v", got[2].Complete(), got[0].Complete())
	}
}

func TestParseDeploy(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		wantErr  string // substring; "" = no error
		targets  int
		discover bool
		force    bool
	}{
		{name: "empty", yaml: "", discover: true},
		{name: "targets", yaml: "targets:\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 443\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 443\n    domain: api.example.com\n", targets: 2, discover: false},
		{name: "targets and discover", yaml: "discover: true\ntargets:\n  - {region: r, loadBalancerId: lb, listenerPort: 1}\n", targets: 1, discover: true},
		{name: "discover off", yaml: "discover: false\n", discover: false},
		{name: "unknown field", yaml: "target:\n  - region: r\n", wantErr: "field target not found"},
		{name: "unknown target field", yaml: "targets:\n  - region: r\n    loadBalancer: lb\n    listenerPort: 443\n", wantErr: "field loadBalancer not found"},
		{name: "missing region", yaml: "targets:\n  - loadBalancerId: lb\n    listenerPort: 443\n", wantErr: "targets[0].region is missing"},
		{name: "missing lb", yaml: "targets:\n  - region: r\n    listenerPort: 443\n", wantErr: "targets[0].loadBalancerId is missing"},
		{name: "bad port", yaml: "targets:\n  - region: r\n    loadBalancerId: lb\n    listenerPort: 70000\n", wantErr: "targets[0].listenerPort 70000"},
		{name: "negative keep", yaml: "keep: -1\n", wantErr: "keep is -1"},
		{name: "force", yaml: "force: true\n", discover: true, force: true},
		{name: "force is a boolean", yaml: "force: maybe\n", wantErr: "into bool"},
		{name: "force misspelt", yaml: "forced: true\n", wantErr: "field forced not found"},
		{name: "not yaml", yaml: "targets: [\n", wantErr: "not valid deploy YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ParseDeploy("certs/www/deploy.yaml", []byte(tt.yaml))
			if tt.wantErr != "" {
				var pe *certs.Error
				if !errors.As(err, &pe) || pe.File != "certs/www/deploy.yaml" || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want a certs.Error naming the file and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Targets) != tt.targets || d.DiscoverEnabled() != tt.discover || d.Force != tt.force {
				t.Errorf("targets=%d discover=%v; want %d %v", len(d.Targets), d.DiscoverEnabled(), tt.targets, tt.discover)
			}
		})
	}
}

func TestFileKeysAreParsed(t *testing.T) {
	keys := FileKeys("certs/", "example.com")
	want := []string{
		"certs/example.com/fullchain.pem", "certs/example.com/cert.pem", "certs/example.com/example.com.crt",
		"certs/example.com/privkey.pem", "certs/example.com/key.pem", "certs/example.com/example.com.key",
		"certs/example.com.pem",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("FileKeys = %q, want %q", keys, want)
	}
	for _, k := range keys {
		if ref, ok := ParseKey("certs/", k); !ok || ref.Name != "example.com" {
			t.Errorf("ParseKey(%q) = %+v, %v", k, ref, ok)
		}
	}
}
