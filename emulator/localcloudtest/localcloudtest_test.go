package localcloudtest

import (
	"context"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// TestRotationOverTheHarness: a seeded listener, a pair put in the bucket,
// and the wired rotation switches the listener to the pair, which the
// frontend then serves.
func TestRotationOverTheHarness(t *testing.T) {
	const region = "cn-zhangjiakou"
	e := Start(t, Options{Cloud: emulator.Options{Regions: []string{region}}})
	now := time.Now()
	old := certstest.SelfSigned(t, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-80 * 24 * time.Hour), NotAfter: now.Add(5 * 24 * time.Hour)})
	fresh := certstest.SelfSigned(t, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)})
	lbs := e.SeedListeners(t, region, "old-www", "web", 1, 2, old)
	e.PutPair(t, "www", fresh)

	r := e.Rotator(rotation.Config{Regions: []string{region}, MinValidDays: 7, ProbeTimeout: 2 * time.Second}, nil)
	res, err := r.RotateName(context.Background(), now, e.Bucket, "www")
	if err != nil || res.Status != rotation.StatusRotated || len(res.Targets) != 2 {
		t.Fatalf("rotation: status %s, %d targets, %v; want rotated on both listeners", res.Status, len(res.Targets), err)
	}
	lb, _, err := e.SLB.DescribeLoadBalancer(context.Background(), region, lbs[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range []int{443, 444} {
		if p := Prober("").Probe(context.Background(), lb.Address, port, "www.example.com", 2*time.Second); p.FingerprintSHA1 != fresh.FingerprintSHA1 {
			t.Errorf("%s:%d serves %q (%s), want the new pair %s", lb.Address, port, p.FingerprintSHA1, p.Err, fresh.FingerprintSHA1)
		}
	}
}

// TestConfigureAndFleetHelpers: Configure points every endpoint at the
// cloud and keeps the rest; Getenv answers the cloud's access key; Member
// and ListenerCerts read the seeded fleet through the adapters.
func TestConfigureAndFleetHelpers(t *testing.T) {
	e := Start(t, Options{})
	cfg := e.Configure(config.Config{CertBucket: "b", OSSSignature: "v4"})
	if cfg.CertBucket != "b" || cfg.OSSSignature != "v4" || cfg.SLBEndpoint != e.Cloud.SLBEndpoint() || cfg.OSSEndpoint != e.Cloud.OSSEndpoint() ||
		cfg.OSSRegion != e.Region || cfg.ALBEndpoint != e.Cloud.ALBEndpoint() || cfg.NLBEndpoint != e.Cloud.NLBEndpoint() ||
		cfg.CASEndpoint != e.Cloud.CASEndpoint() || cfg.ProbeResolver != e.Cloud.DNSAddr() {
		t.Errorf("Configure = %+v", cfg)
	}
	if ak, _ := e.Cloud.Credentials(); e.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID") != ak || e.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") == "" || e.Getenv("PATH") != "" {
		t.Error("Getenv does not answer the cloud's access key only")
	}
	fleet, err := e.Cloud.SeedLBFleet(e.Region, 1)
	if err != nil {
		t.Fatal(err)
	}
	m := Member(t, fleet, "nlb")
	if def, extra := ListenerCerts(t, e.NLB(), e.Region, m.ListenerID); m.Kind != "nlb" || def != m.CertID || len(extra) != 0 {
		t.Errorf("nlb member %+v: default %s, additional %v", m, def, extra)
	}
}
