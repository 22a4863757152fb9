package expiry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation/rotationtest"
)

var handoffCA = certstest.NewCA(nil, "Handoff Test CA")

// TestSweepHandsItsInventoryToAutoRotation pins the API calls of a sweep
// that auto-rotates N pairs over a region of M load balancers: the
// rotations discover through the sweep's snapshot and read again, under
// their lock, only the load balancers and listeners that hold their
// places: 114 calls, where listing the whole region again for each pair
// took 181.
func TestSweepHandsItsInventoryToAutoRotation(t *testing.T) {
	const (
		region, bucket = "cn-hangzhou", "certs-bucket"
		pairs, lbs     = 3, 30
	)
	now := time.Now()
	fake := &clbtest.SLB{}
	objs := &rotationtest.Objects{}
	fresh := make([]certstest.Pair, pairs)
	old := make([]string, pairs)
	for k := range pairs {
		domain := fmt.Sprintf("site%d.example.com", k)
		fresh[k] = handoffCA.Issue(t, certstest.Options{Domains: []string{domain}, NotAfter: now.Add(90 * 24 * time.Hour), Chain: true})
		objs.Put(bucket, fmt.Sprintf("certs/site%d/fullchain.pem", k), fresh[k].CertPEM)
		objs.Put(bucket, fmt.Sprintf("certs/site%d/privkey.pem", k), fresh[k].KeyPEM)
		o := handoffCA.Issue(t, certstest.Options{Domains: []string{domain}, NotAfter: now.Add(5 * 24 * time.Hour)})
		c, err := clbtest.CertificateFromPEM(region, fmt.Sprintf("site%d-old", k), string(o.CertPEM))
		if err != nil {
			t.Fatal(err)
		}
		c.Tags = map[string]string{}
		old[k] = fake.AddCertificate(c)
	}
	// Load balancer i serves pair i%3's old certificate; the first one
	// also serves pair 1's domain through a domain extension.
	for i := range lbs {
		id := fmt.Sprintf("lb-%02d", i)
		fake.AddLoadBalancer(clb.LoadBalancer{ID: id, Region: region, Address: fmt.Sprintf("127.0.9.%d", i+1)})
		fake.AddListener(clb.Listener{Region: region, LoadBalancerID: id, Port: 443, ServerCertificateID: old[i%pairs]})
	}
	fake.AddExtension(clb.DomainExtension{Region: region, LoadBalancerID: "lb-00", ListenerPort: 443, Domain: "site1.example.com", ServerCertificateID: old[1]})

	rot := &rotation.Rotator{
		Config:  rotation.Config{Bucket: bucket, Prefix: "certs/", Regions: []string{region}, MinValidDays: 7, Keep: 1, ProbeRetryDelay: time.Millisecond},
		Objects: objs, SLB: fake, Prober: &rotationtest.Prober{SLB: fake},
	}
	s := &expiry.Sweeper{
		Inventory: inventory.CLB{API: fake},
		Pairs:     expiry.BucketPairs{Objects: objs, Bucket: bucket, Prefix: "certs/", MinValidDays: 7},
		Rotator:   expiry.PairRotator{Rotator: rot, Bucket: bucket},
	}
	rep, err := s.Sweep(context.Background(), now, expiry.Request{Regions: []string{region}, AutoRotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Actions) != pairs || len(rep.Errors) != 0 {
		t.Fatalf("actions %+v errors %+v, want %d rotations and no error", rep.Actions, rep.Errors, pairs)
	}
	for _, a := range rep.Actions {
		if a.Status != "rotated" {
			t.Errorf("pair %s ended %s: %s", a.Pair, a.Status, a.Detail)
		}
	}
	byFP := map[string]string{}
	for _, c := range fake.Certificates(region) {
		byFP[c.Fingerprint] = c.ID
	}
	for i := range lbs {
		if got, want := fake.ListenerCertificate(region, fmt.Sprintf("lb-%02d", i), 443), byFP[fresh[i%pairs].FingerprintSHA1]; got != want || want == "" {
			t.Errorf("lb-%02d serves %s, want %s (pair site%d)", i, got, want, i%pairs)
		}
	}
	// The sweep: 1 certificate listing, 1 load balancer listing, 3 listener
	// listings (10 load balancers each), 30 extension listings. Each pair,
	// under its lock: 1 certificate listing (and 1 after its upload), the
	// listeners of the load balancers the snapshot shows holding its places
	// (10 of them; 11 for site1, the extension's too: 2 listings) and their
	// extensions, then 1 listener read-back (site1: 1 extension read-back).
	// On the code before the hand-over, each pair listed the whole region
	// again: 181 calls (4 DescribeLoadBalancers, 15 listener and 121
	// extension listings) for the same sweep.
	want := map[string]int{
		"DescribeServerCertificates":            1 + pairs*2,
		"DescribeLoadBalancers":                 1,
		"DescribeLoadBalancerListeners":         3 + (1 + 2 + 1) + pairs,
		"DescribeDomainExtensions":              30 + (10 + 11 + 10) + 1,
		"UploadServerCertificate":               pairs,
		"SetLoadBalancerHTTPSListenerAttribute": lbs,
		"SetDomainExtensionAttribute":           1,
	}
	calls := fake.CallCounts()
	total := 0
	for _, n := range calls {
		total += n
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) || total != 114 {
		t.Errorf("%d API calls %v, want 114: %v", total, calls, want)
	}
}
