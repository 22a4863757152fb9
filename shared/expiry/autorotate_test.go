package expiry_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/localcloudtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify/notifytest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// TestLocalCloudAutoRotation runs the sweep with the real rotation against
// the local SLB and OSS: the expiring listener is switched to the newer
// pair found in the bucket, verified by a handshake, and the report lands
// in the bucket.
func TestLocalCloudAutoRotation(t *testing.T) {
	const region, bucket = "cn-zhangjiakou", "certs-bucket"
	ctx := context.Background()
	now := time.Now()
	lc := localcloudtest.Start(t, localcloudtest.Options{Cloud: emulator.Options{Regions: []string{region}, Bucket: bucket, BucketRegion: region},
		Retry: aliyun.RetryPolicy{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, Seed: 7}})
	srv, adapter, ossSrv, store := lc.Cloud.SLB, lc.SLB, lc.Cloud.OSS, lc.OSS

	old := pair(t, now.Add(5*24*time.Hour), "www.example.com")
	fresh := pair(t, now.Add(90*24*time.Hour), "www.example.com")
	other := pair(t, now.Add(300*24*time.Hour), "other.example.com")
	oldID, err := srv.SeedServerCertificate(region, "www-old", string(old.CertPEM), string(old.KeyPEM), nil)
	must(t, err)
	lb, err := srv.SeedLoadBalancer(region, "web")
	must(t, err)
	must(t, srv.SeedHTTPSListener(region, lb, 443, oldID, true))
	must(t, ossSrv.PutObject(bucket, "certs/www/fullchain.pem", fresh.CertPEM))
	must(t, ossSrv.PutObject(bucket, "certs/www/privkey.pem", fresh.KeyPEM))
	must(t, ossSrv.PutObject(bucket, "certs/other/fullchain.pem", other.CertPEM))
	must(t, ossSrv.PutObject(bucket, "certs/other/privkey.pem", other.KeyPEM))
	must(t, ossSrv.PutObject(bucket, "certs/half/fullchain.pem", other.CertPEM))

	rot := &rotation.Rotator{
		Config:  rotation.Config{Bucket: bucket, Prefix: "certs/", Regions: []string{region}, MinValidDays: 7, Keep: 1, ProbeTimeout: 2 * time.Second},
		Objects: store,
		SLB:     adapter,
		Prober:  app.TLSProber(""),
	}
	msgs := &notifytest.Recorder{}
	s := &expiry.Sweeper{
		Inventory: inventory.CLB{API: adapter}, Objects: store, Bucket: bucket,
		Pairs:    expiry.BucketPairs{Objects: store, Bucket: bucket, Prefix: "certs/", MinValidDays: 7},
		Rotator:  expiry.PairRotator{Rotator: rot, Bucket: bucket},
		Prober:   app.TLSProber(""),
		Notifier: msgs,
	}
	req := expiry.Request{Regions: []string{region}, AutoRotate: true, Probe: true}
	rep, err := s.Sweep(ctx, now, req)
	must(t, err)
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	if len(rep.Actions) != 1 || rep.Actions[0].Pair != "www" || rep.Actions[0].Status != "rotated" || rep.Actions[0].Replaces[0] != region+"/"+oldID {
		t.Fatalf("actions = %+v", rep.Actions)
	}
	if rep.Counts.Critical != 1 || rep.Certificates[0].Replacement != "www" {
		t.Errorf("the report must show the state found (critical) and the replacement: %+v", rep.Certificates)
	}
	lbs, err := adapter.ListLoadBalancers(ctx, region)
	must(t, err)
	served := app.TLSProber("").Probe(ctx, lbs[0].Address, 443, "", 2*time.Second)
	if served.FingerprintSHA1 != fresh.FingerprintSHA1 {
		t.Errorf("after the sweep the listener serves %s, want the fresh pair %s (%s)", served.FingerprintSHA1, fresh.FingerprintSHA1, served.Err)
	}
	raw, ok := ossSrv.Object(bucket, rep.ReportKey)
	if !ok {
		t.Fatalf("report %s not in the bucket", rep.ReportKey)
	}
	var stored expiry.Report
	must(t, json.Unmarshal(raw, &stored))
	if len(stored.Actions) != 1 || stored.Counts != rep.Counts {
		t.Errorf("stored report differs: %+v", stored)
	}
	if msgs.Len() != 1 {
		t.Errorf("notifications = %d, want 1", msgs.Len())
	}

	// The next run finds the fresh certificate: nothing to do, nothing to say.
	rep, err = s.Sweep(ctx, now.Add(time.Hour), req)
	must(t, err)
	if len(rep.Actions) != 0 || rep.Counts.OK != 1 || rep.Probes.Matched != 1 || msgs.Len() != 1 {
		t.Errorf("second run: actions %+v counts %+v probes %+v notifications %d", rep.Actions, rep.Counts, rep.Probes, msgs.Len())
	}
}
