package main

import (
	"context"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// rotatorFunc adapts a function to expiry.Rotator.
type rotatorFunc func(ctx context.Context, now time.Time, name string, pinned []clb.Target, snaps rotation.Snapshots) (expiry.RotationOutcome, error)

func (f rotatorFunc) RotateName(ctx context.Context, now time.Time, name string, pinned []clb.Target, snaps rotation.Snapshots) (expiry.RotationOutcome, error) {
	return f(ctx, now, name, pinned, snaps)
}

// TestALBHandOverDecidedUnderTheLock: the sweep's ALB snapshot shows the
// fleet's shop-1 certificate (90 days) on alb-1's SNI, which a pair of 300
// days covers; between the sweep's inventory and the rotation the user
// replaces it with a certificate of 400 days. The rotation takes the load
// balancers from the snapshot (no second listing of instances) but decides
// on its read of the listener under the lock: the pair would rotate the
// place backwards, so it is left alone and keeps serving the user's.
func TestALBHandOverDecidedUnderTheLock(t *testing.T) {
	const region = "cn-zhangjiakou"
	lc, fleet := fleetCloud(t, region, 20*time.Millisecond, 1)
	cloud := lc.Cloud
	alb1 := fleet[0]
	const shop = "shop-1.fleet.example.com"
	bucket, _ := cloud.Bucket()
	pair := certstest.SelfSigned(t, certstest.Options{Domains: []string{shop}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(300 * 24 * time.Hour)})
	for key, data := range map[string][]byte{"fullchain.pem": pair.CertPEM, "privkey.pem": pair.KeyPEM} {
		if err := cloud.OSS.PutObject(bucket, "certs/shop/"+key, data); err != nil {
			t.Fatal(err)
		}
	}
	later := certstest.SelfSigned(t, certstest.Options{Domains: []string{shop}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(400 * 24 * time.Hour)})
	laterID, err := cloud.CAS.Seed(region, "users-later", string(later.CertPEM), string(later.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	sw := wiredSweeper(t, lc, config.Config{CertBucket: bucket, CertPrefix: "certs/", Regions: []string{region}, FunctionRegion: region,
		MinValidDays: 7, ProbeTimeout: 2 * time.Second, Concurrency: 4, Products: []string{"clb", "alb", "nlb"}})
	api := lc.ALB()
	inner := sw.Rotator
	var handed *rotation.Snapshots
	listedBefore := 0
	sw.Rotator = rotatorFunc(func(ctx context.Context, now time.Time, name string, pinned []clb.Target, snaps rotation.Snapshots) (expiry.RotationOutcome, error) {
		handed = &snaps
		old := ""
		for _, e := range snaps[rotation.SnapshotKey(clb.ProductALB, region)].SNI[snapKey(snaps, region, alb1.ListenerID)] {
			if !e.Default {
				old = e.CertificateID
			}
		}
		if old == "" {
			t.Errorf("the ALB snapshot handed over holds no SNI certificate on %s", alb1.ListenerID)
		}
		if err := api.AssociateAdditionalCertificate(ctx, region, alb1.ListenerID, laterID); err != nil {
			t.Fatal(err)
		}
		if err := api.DissociateAdditionalCertificate(ctx, region, alb1.ListenerID, old); err != nil {
			t.Fatal(err)
		}
		listedBefore = countAction(cloud.ALB.Requests(), "ListLoadBalancers")
		return inner.RotateName(ctx, now, name, pinned, snaps)
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := sw.Sweep(ctx, time.Now(), expiry.Request{Regions: []string{region}, AutoRotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if handed == nil || len(rep.Actions) != 1 || rep.Actions[0].Pair != "shop" || rep.Actions[0].Error != "" {
		t.Fatalf("actions %+v: want the shop pair run once over the hand-over", rep.Actions)
	}
	if n := countAction(cloud.ALB.Requests(), "ListLoadBalancers"); n != listedBefore {
		t.Errorf("the rotation listed the ALB instances again (%d listings): the snapshot was not used", n-listedBefore)
	}
	if r := (tlsprobe.Prober{Resolver: cloud.DNSAddr()}).Probe(ctx, alb1.DNSName, 443, shop, 2*time.Second); certs.NormalizeFingerprint(r.FingerprintSHA1) != certs.FingerprintSHA1(later.Leaf.Raw) {
		t.Errorf("%s serves %s (%s), want the user's later certificate: the pair rotated it backwards", shop, r.FingerprintSHA1, r.Err)
	}
	for _, rec := range cloud.ALB.Requests() {
		if rec.Action == "AssociateAdditionalCertificatesWithListener" && rec.Params["Certificates.1.CertificateId"] != laterID {
			t.Errorf("the rotation associated %s: decided on the snapshot, not on its read under the lock", rec.Params["Certificates.1.CertificateId"])
		}
	}
}

// snapKey is the key of listener id's entry in the ALB snapshot of region.
func snapKey(snaps rotation.Snapshots, region, id string) string {
	s := snaps[rotation.SnapshotKey(clb.ProductALB, region)]
	if s == nil {
		return ""
	}
	for _, l := range s.Listeners {
		if l.ID == id {
			return l.Key()
		}
	}
	return ""
}

func countAction(recs []rpc.Record, action string) int {
	n := 0
	for _, r := range recs {
		if r.Action == action {
			n++
		}
	}
	return n
}
