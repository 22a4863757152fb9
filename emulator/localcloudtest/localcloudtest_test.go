package localcloudtest

import (
	"context"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
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
