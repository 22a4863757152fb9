package main

import (
	"context"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// TestLocalCloudAutoRotatesALBAndNLB: the sweep as the function wires it
// (app.Root.Sweeper with LB_PRODUCTS clb,alb,nlb) finds an ALB and an NLB
// listener whose certificates the bucket holds later pairs for, rotates
// those pairs, and the listeners then serve them (TLS handshake through
// the instances' DNS names).
func TestLocalCloudAutoRotatesALBAndNLB(t *testing.T) {
	const region = "cn-zhangjiakou"
	lc, fleet := fleetCloud(t, region, 50*time.Millisecond, 1)
	cloud := lc.Cloud
	bucket, _ := cloud.Bucket()
	want := map[string]string{} // DNS name -> fingerprint of the pair for its domain
	for _, m := range fleet {
		p := certstest.SelfSigned(t, certstest.Options{Domains: []string{m.Domain}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(300 * 24 * time.Hour)})
		for key, data := range map[string][]byte{"fullchain.pem": p.CertPEM, "privkey.pem": p.KeyPEM} {
			if err := cloud.OSS.PutObject(bucket, "certs/"+m.Kind+"/"+key, data); err != nil {
				t.Fatal(err)
			}
		}
		want[m.DNSName+" "+m.Domain] = certs.FingerprintSHA1(p.Leaf.Raw)
	}
	sw := wiredSweeper(t, lc, config.Config{CertBucket: bucket, CertPrefix: "certs/", Regions: []string{region}, FunctionRegion: region,
		MinValidDays: 7, ProbeTimeout: 2 * time.Second, Concurrency: 4, Products: []string{"clb", "alb", "nlb"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := sw.Sweep(ctx, time.Now(), expiry.Request{Regions: []string{region}, AutoRotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	rotated := map[string]string{}
	for _, a := range rep.Actions {
		rotated[a.Pair] = string(a.Status)
	}
	if len(rep.Actions) != 2 || rotated["alb"] != "rotated" || rotated["nlb"] != "rotated" {
		t.Fatalf("actions %+v, want the alb and nlb pairs rotated", rep.Actions)
	}
	p := tlsprobe.Prober{Resolver: cloud.DNSAddr()}
	for _, m := range fleet {
		r := p.Probe(ctx, m.DNSName, 443, m.Domain, 2*time.Second)
		if !r.Reachable || certs.NormalizeFingerprint(r.FingerprintSHA1) != want[m.DNSName+" "+m.Domain] {
			t.Errorf("%s %s (%s) serves %s (%s), want the %s pair", m.Kind, m.ListenerID, m.Domain, r.FingerprintSHA1, r.Err, m.Kind)
		}
	}
}
