package config

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"CERT_BUCKET": "my-certs", "FC_REGION": "cn-hangzhou"}))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		CertBucket: "my-certs", CertPrefix: "certs/", Regions: []string{"cn-hangzhou"}, FunctionRegion: "cn-hangzhou",
		MinValidDays: 7, KeepSuperseded: 1, ProbeTimeout: 5 * time.Second, Concurrency: 5, ProbeConcurrency: 32,
		LogLevel: slog.LevelInfo, OSSRegion: "cn-hangzhou", OSSSignature: "v4", Products: []string{"clb", "alb", "nlb"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load() =\n%+v\nwant\n%+v", c, want)
	}
	if !c.OSSV4() {
		t.Error("OSSV4() = false by default, want true")
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"CERT_BUCKET": "b-1", "CERT_PREFIX": "tls/x/", "REGIONS": " cn-shanghai, cn-zhangjiakou ,cn-shanghai",
		"MIN_VALID_DAYS": "0", "KEEP_SUPERSEDED": "3", "DRY_RUN": "TRUE", "PROBE_TIMEOUT": "1500ms",
		"CONCURRENCY": "50", "PROBE_CONCURRENCY": "64", "NOTIFY_URL": "https://hooks.example.com/x?token=abc", "NOTIFY_KIND": "Slack",
		"NOTIFY_SECRET": "s3cr3t-value", "LOG_LEVEL": "debug", "SLB_ENDPOINT": "http://127.0.0.1:9000",
		"OSS_ENDPOINT": "https://oss-{region}.aliyuncs.com", "OSS_REGION": "cn-beijing", "OSS_SIGNATURE": "v1",
		"ALB_ENDPOINT": "alb.{region}.aliyuncs.com", "NLB_ENDPOINT": "http://127.0.0.1:9001", "CAS_ENDPOINT": "https://cas.aliyuncs.com",
		"PROBE_RESOLVER": "127.0.0.1:5353",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Regions, []string{"cn-shanghai", "cn-zhangjiakou"}) {
		t.Errorf("Regions = %q", c.Regions)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"CertPrefix", c.CertPrefix, "tls/x/"},
		{"MinValidDays", c.MinValidDays, 0},
		{"KeepSuperseded", c.KeepSuperseded, 3},
		{"DryRun", c.DryRun, true},
		{"ProbeTimeout", c.ProbeTimeout, 1500 * time.Millisecond},
		{"Concurrency", c.Concurrency, 50},
		{"ProbeConcurrency", c.ProbeConcurrency, 64},
		{"NotifyKind", c.NotifyKind, "slack"},
		{"LogLevel", c.LogLevel, slog.LevelDebug},
		{"OSSRegion", c.OSSRegion, "cn-beijing"},
		{"OSSSignature", c.OSSSignature, "v1"},
		{"SLBEndpoint", c.SLBEndpoint, "http://127.0.0.1:9000"},
		{"ALBEndpoint", c.ALBEndpoint, "alb.{region}.aliyuncs.com"},
		{"NLBEndpoint", c.NLBEndpoint, "http://127.0.0.1:9001"},
		{"CASEndpoint", c.CASEndpoint, "https://cas.aliyuncs.com"},
		{"ProbeResolver", c.ProbeResolver, "127.0.0.1:5353"},
	}
	for _, ck := range checks {
		if ck.got != ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	// no secret in any rendering
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), c.LogValue().String()} {
		if strings.Contains(s, "s3cr3t-value") || strings.Contains(s, "token=abc") {
			t.Errorf("rendering leaks a secret: %s", s)
		}
	}
}

func TestLoadProblems(t *testing.T) {
	base := map[string]string{"CERT_BUCKET": "my-certs", "REGIONS": "cn-hangzhou"}
	tests := []struct {
		name     string
		set      map[string]string
		unset    []string
		wantVars []string
	}{
		{"missing bucket", nil, []string{"CERT_BUCKET"}, []string{"CERT_BUCKET"}},
		{"bad bucket", map[string]string{"CERT_BUCKET": "My_Bucket"}, nil, []string{"CERT_BUCKET"}},
		{"prefix without slash", map[string]string{"CERT_PREFIX": "certs"}, nil, []string{"CERT_PREFIX"}},
		{"prefix with leading slash", map[string]string{"CERT_PREFIX": "/certs/"}, nil, []string{"CERT_PREFIX"}},
		{"no region anywhere", nil, []string{"REGIONS"}, []string{"REGIONS"}},
		{"bad region", map[string]string{"REGIONS": "cn-hangzhou,Hangzhou"}, nil, []string{"REGIONS"}},
		{"negative days", map[string]string{"MIN_VALID_DAYS": "-1"}, nil, []string{"MIN_VALID_DAYS"}},
		{"days not a number", map[string]string{"MIN_VALID_DAYS": "seven"}, nil, []string{"MIN_VALID_DAYS"}},
		{"negative keep", map[string]string{"KEEP_SUPERSEDED": "-2"}, nil, []string{"KEEP_SUPERSEDED"}},
		{"dry run not bool", map[string]string{"DRY_RUN": "maybe"}, nil, []string{"DRY_RUN"}},
		{"probe timeout not duration", map[string]string{"PROBE_TIMEOUT": "5"}, nil, []string{"PROBE_TIMEOUT"}},
		{"probe timeout zero", map[string]string{"PROBE_TIMEOUT": "0s"}, nil, []string{"PROBE_TIMEOUT"}},
		{"concurrency zero", map[string]string{"CONCURRENCY": "0"}, nil, []string{"CONCURRENCY"}},
		{"concurrency too high", map[string]string{"CONCURRENCY": "51"}, nil, []string{"CONCURRENCY"}},
		{"probe concurrency zero", map[string]string{"PROBE_CONCURRENCY": "0"}, nil, []string{"PROBE_CONCURRENCY"}},
		{"probe concurrency not a number", map[string]string{"PROBE_CONCURRENCY": "lots"}, nil, []string{"PROBE_CONCURRENCY"}},
		{"notify url without kind", map[string]string{"NOTIFY_URL": "https://x.example.com/h"}, nil, []string{"NOTIFY_KIND"}},
		{"notify url not http", map[string]string{"NOTIFY_URL": "ftp://x", "NOTIFY_KIND": "webhook"}, nil, []string{"NOTIFY_URL"}},
		{"unknown notify kind", map[string]string{"NOTIFY_URL": "https://x.example.com", "NOTIFY_KIND": "teams"}, nil, []string{"NOTIFY_KIND"}},
		{"kind without url", map[string]string{"NOTIFY_KIND": "slack"}, nil, []string{"NOTIFY_URL"}},
		{"bad log level", map[string]string{"LOG_LEVEL": "loud"}, nil, []string{"LOG_LEVEL"}},
		{"bad slb endpoint", map[string]string{"SLB_ENDPOINT": "ftp://x"}, nil, []string{"SLB_ENDPOINT"}},
		{"bad alb nlb cas endpoints", map[string]string{"ALB_ENDPOINT": "ftp://x", "NLB_ENDPOINT": "http://", "CAS_ENDPOINT": "::"}, nil,
			[]string{"ALB_ENDPOINT", "NLB_ENDPOINT", "CAS_ENDPOINT"}},
		{"resolver without port", map[string]string{"PROBE_RESOLVER": "127.0.0.1"}, nil, []string{"PROBE_RESOLVER"}},
		{"resolver port out of range", map[string]string{"PROBE_RESOLVER": "127.0.0.1:70000"}, nil, []string{"PROBE_RESOLVER"}},
		{"resolver without host", map[string]string{"PROBE_RESOLVER": ":53"}, nil, []string{"PROBE_RESOLVER"}},
		{"bad oss signature", map[string]string{"OSS_SIGNATURE": "v2"}, nil, []string{"OSS_SIGNATURE"}},
		{"everything at once", map[string]string{"CERT_BUCKET": "", "MIN_VALID_DAYS": "x", "CONCURRENCY": "0", "LOG_LEVEL": "x"}, []string{"REGIONS"},
			[]string{"CERT_BUCKET", "REGIONS", "MIN_VALID_DAYS", "CONCURRENCY", "LOG_LEVEL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range base {
				m[k] = v
			}
			for _, k := range tc.unset {
				delete(m, k)
			}
			for k, v := range tc.set {
				m[k] = v
			}
			_, err := Load(env(m))
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load() error = %v, want *config.Error", err)
			}
			if !errors.Is(err, apierr.ErrInvalid) {
				t.Error("error does not answer apierr.ErrInvalid")
			}
			var got []string
			for _, p := range ce.Problems {
				got = append(got, p.Var)
				if p.Problem == "" || p.Fix == "" {
					t.Errorf("problem %+v lacks text or fix", p)
				}
			}
			if !reflect.DeepEqual(got, tc.wantVars) {
				t.Errorf("problem vars = %q, want %q (%v)", got, tc.wantVars, err)
			}
			for _, v := range tc.wantVars {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("error text does not name %s: %v", v, err)
				}
			}
		})
	}
}

func TestRegionFallbacks(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"FUNCTION_REGION first", map[string]string{"FUNCTION_REGION": "cn-beijing", "FC_REGION": "cn-hangzhou"}, "cn-beijing"},
		{"FC_REGION", map[string]string{"FC_REGION": "cn-hangzhou"}, "cn-hangzhou"},
		{"ALIBABA_CLOUD_REGION", map[string]string{"ALIBABA_CLOUD_REGION": "ap-southeast-1"}, "ap-southeast-1"},
		{"ALIBABA_CLOUD_REGION_ID", map[string]string{"ALIBABA_CLOUD_REGION_ID": "eu-central-1"}, "eu-central-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.env["CERT_BUCKET"] = "bkt"
			c, err := Load(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Regions) != 1 || c.Regions[0] != tc.want || c.OSSRegion != tc.want {
				t.Errorf("Regions = %q OSSRegion = %q, want %q", c.Regions, c.OSSRegion, tc.want)
			}
		})
	}
}

// A bad platform region is reported under the variable it came from, so
// the user knows which one to fix.
func TestBadRegionNamesItsVariable(t *testing.T) {
	for _, name := range []string{EnvFunctionRegion, EnvFCRegion, EnvAlibabaRegion, EnvAlibabaRegion2} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(env(map[string]string{"CERT_BUCKET": "bkt", "REGIONS": "cn-hangzhou", name: "Not A Region"}))
			var ce *Error
			if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Var != name {
				t.Fatalf("err = %v, want one problem for %s", err, name)
			}
		})
	}
}

// REGIONS listing nothing is reported along with the other problems, not
// only once they are fixed.
func TestEmptyRegionsReportedWithOtherProblems(t *testing.T) {
	_, err := Load(env(map[string]string{"REGIONS": " , ,"}))
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *Error", err)
	}
	var vars []string
	for _, p := range ce.Problems {
		vars = append(vars, p.Var)
	}
	if !reflect.DeepEqual(vars, []string{EnvCertBucket, EnvRegions}) {
		t.Errorf("problems for %q, want CERT_BUCKET and REGIONS", vars)
	}
}
