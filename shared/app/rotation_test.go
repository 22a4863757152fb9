package app

import (
	"reflect"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

func TestRotationConfig(t *testing.T) {
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			config.EnvCertBucket: "my-certs", config.EnvCertPrefix: "tls/", config.EnvRegions: "cn-hangzhou,cn-shanghai",
			config.EnvMinValidDays: "10", config.EnvKeepSuperseded: "2", config.EnvDryRun: "true",
			config.EnvProbeTimeout: "3s", config.EnvConcurrency: "7",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	want := rotation.Config{Bucket: "my-certs", Prefix: "tls/", Regions: []string{"cn-hangzhou", "cn-shanghai"},
		MinValidDays: 10, Keep: 2, DryRun: true, ProbeTimeout: 3 * time.Second, Concurrency: 7}
	if got := RotationConfig(cfg); !reflect.DeepEqual(got, want) {
		t.Errorf("RotationConfig = %+v\nwant %+v", got, want)
	}
}
