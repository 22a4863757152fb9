package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// TestSweepHandsALBAndNLBInventoryToAutoRotation pins the ALB, NLB and CAS
// calls of one sweep (as the function wires it) that auto-rotates three
// pairs over a fleet of 6 ALB and 6 NLB instances: an ALB SNI certificate
// (shop-1), an ALB default (alb-2) and an NLB default (nlb-3). The sweep
// reads each listener once and hands its ALB and NLB snapshots to each
// rotation, which under its lock lists the certificates and the region's
// listeners and reads again only the listeners holding a place the pair
// may take (one per pair here), never the whole fleet. Job reads (one per
// poll while a job runs) are bounded, not pinned. Before the hand-over the
// same sweep made 142 of these calls (every rotation listed both products'
// instances and read every listener, ALB's twice, and cleanup listed the
// CAS lane it had not planned again); now 52.
func TestSweepHandsALBAndNLBInventoryToAutoRotation(t *testing.T) {
	const region = "cn-zhangjiakou"
	lc, fleet := fleetCloud(t, region, 20*time.Millisecond, 6)
	cloud := lc.Cloud
	bucket, _ := cloud.Bucket()
	served := map[string]string{} // "<DNS name> <SNI>" -> the pair's fingerprint
	for i, m := range fleet {
		domain := ""
		switch {
		case m.Kind == "alb" && m.Domain == "alb-1.fleet.example.com":
			domain = "shop-1.fleet.example.com"
		case m.Kind == "alb" && m.Domain == "alb-2.fleet.example.com", m.Kind == "nlb" && m.Domain == "nlb-3.fleet.example.com":
			domain = m.Domain
		default:
			continue
		}
		p := certstest.SelfSigned(t, certstest.Options{Domains: []string{domain}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Duration(300+i) * 24 * time.Hour)})
		for key, data := range map[string][]byte{"fullchain.pem": p.CertPEM, "privkey.pem": p.KeyPEM} {
			if err := cloud.OSS.PutObject(bucket, "certs/"+m.Kind+fmt.Sprint(i)+"/"+key, data); err != nil {
				t.Fatal(err)
			}
		}
		served[m.DNSName+" "+domain] = certs.FingerprintSHA1(p.Leaf.Raw)
	}
	sw := wiredSweeper(t, lc, config.Config{CertBucket: bucket, CertPrefix: "certs/", Regions: []string{region}, FunctionRegion: region,
		MinValidDays: 7, ProbeTimeout: 2 * time.Second, Concurrency: 4, Products: []string{"clb", "alb", "nlb"}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before := map[string]int{"alb": len(cloud.ALB.Requests()), "nlb": len(cloud.NLB.Requests()), "cas": len(cloud.CAS.Requests())}
	rep, err := sw.Sweep(ctx, time.Now(), expiry.Request{Regions: []string{region}, AutoRotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	if len(rep.Actions) != 3 {
		t.Fatalf("actions %+v, want the three pairs", rep.Actions)
	}
	for _, a := range rep.Actions {
		if a.Status != "rotated" {
			t.Errorf("pair %s: %s (%s)", a.Pair, a.Status, a.Detail)
		}
	}
	p := tlsprobe.Prober{Resolver: cloud.DNSAddr()}
	for k, want := range served {
		var name, sni string
		fmt.Sscan(k, &name, &sni)
		if r := p.Probe(ctx, name, 443, sni, 2*time.Second); certs.NormalizeFingerprint(r.FingerprintSHA1) != want {
			t.Errorf("%s serves %s (%s), want the pair %s", k, r.FingerprintSHA1, r.Err, want)
		}
	}

	got := map[string]int{}
	for product, recs := range map[string][]rpc.Record{"alb": cloud.ALB.Requests(), "nlb": cloud.NLB.Requests(), "cas": cloud.CAS.Requests()} {
		for _, r := range recs[before[product]:] {
			got[product+":"+r.Action]++
		}
	}
	jobReads := got["alb:ListAsynJobs"] + got["nlb:GetJobStatus"]
	delete(got, "alb:ListAsynJobs")
	delete(got, "nlb:GetJobStatus")
	want := map[string]int{
		// The sweep: one listing of instances and of listeners, one read
		// per listener (6 each), one CAS listing. Each rotation, under its
		// lock: both lanes' certificates (CAS), the listeners of a lane
		// whose snapshot shows a candidate (1) and that listener's read (1),
		// the switch (a default: whether the pair was an additional one, 1
		// read) and its read-back (a default: the listeners again and the
		// listener's read; an SNI certificate: the listener's read).
		"alb:ListLoadBalancers": 1, "alb:ListListeners": 1 + 1 + 2, "alb:ListListenerCertificates": 6 + 2 + 3,
		"alb:GetListenerAttribute": 3, "alb:UpdateListenerAttribute": 1,
		"alb:AssociateAdditionalCertificatesWithListener": 1, "alb:DissociateAdditionalCertificatesFromListener": 1,
		"nlb:ListLoadBalancers": 1, "nlb:ListListeners": 1 + 2, "nlb:ListListenerCertificates": 6 + 2,
		"nlb:GetListenerAttribute": 1, "nlb:UpdateListenerAttribute": 1,
		"cas:ListUserCertificateOrder": 13, "cas:UploadUserCertificate": 3,
	}
	total, wantTotal := 0, 0
	for k, n := range got {
		total += n
		if n != want[k] {
			t.Errorf("%s: %d calls, pinned at %d", k, n, want[k])
		}
	}
	for k, n := range want {
		wantTotal += n
		if _, ok := got[k]; !ok {
			t.Errorf("%s: no call, pinned at %d", k, n)
		}
	}
	t.Logf("calls %v (%d, pinned %d), %d job reads", got, total, wantTotal, jobReads)
	if jobReads < 3 || jobReads > 3*20 {
		t.Errorf("%d job reads, want 3..60 (one write per pair)", jobReads)
	}
}
