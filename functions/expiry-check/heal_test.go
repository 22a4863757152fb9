package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/localcloudtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// TestTimerHealsAPairThatNeverFiredAnEvent is level-triggered healing end
// to end on the local cloud: a pair lands in the bucket while no function
// listens to the bucket (the event is lost for good), the listener serves
// an older certificate that is nowhere near expiry, and the pair's
// deploy.yaml is broken at first. The built expiry-check, deployed from
// s.yaml's own resource (its timer and payload), runs from its timer: with
// the broken deploy.yaml nothing moves; once it is fixed, the next run
// rotates, and a real TLS handshake with the listener shows the pair's
// certificate. A further run finds nothing to do.
func TestTimerHealsAPairThatNeverFiredAnEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function binary")
	}
	const region = "cn-zhangjiakou"
	lc := localcloudtest.Start(t, localcloudtest.Options{Cloud: emulator.Options{Regions: []string{region}, BucketRegion: region, RetryBackoff: 50 * time.Millisecond}})
	cloud, bucket := lc.Cloud, lc.Bucket

	ca := certstest.NewCA(t, "Healing Test CA")
	start := time.Now().Add(-time.Hour)
	issue := func(days int) certstest.Pair {
		return ca.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, Chain: true, NotBefore: start, NotAfter: start.AddDate(0, 0, days)})
	}
	old, fresh := issue(200), issue(365) // old is far from any warning threshold
	_, lb := lc.SeedListener(t, region, "www-old", "web", 443, old)
	// No function has an OSS trigger: these puts fire nothing.
	lc.PutPair(t, "www", fresh)

	spec := expirySpec(t, cloud, region)
	if err := cloud.FC.Deploy(spec); err != nil {
		t.Fatal(err)
	}
	address := ""
	for _, l := range cloud.SLB.Dump().Regions[region].LoadBalancers {
		if l.ID == lb {
			address = l.Address
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if got := tlsprobe.Probe(ctx, address, 443, "www.example.com", 2*time.Second); got.FingerprintSHA1 != old.FingerprintSHA1 {
		t.Fatalf("before the timer the listener serves %s (%s); want the old certificate", got.FingerprintSHA1, got.Err)
	}

	// While its deploy.yaml is broken the pair is no candidate (the upload
	// would have been rejected for it): nothing moves.
	if err := cloud.OSS.PutObject(bucket, "certs/www/deploy.yaml", []byte("discover: maybe\n")); err != nil {
		t.Fatal(err)
	}
	res := fire(ctx, t, cloud, spec)
	if res.Status != outcome.OK || res.Report == nil || len(res.Report.Actions) != 0 {
		t.Fatalf("timer run with a broken deploy.yaml: %+v", res)
	}
	// The configuration is fixed (again without an event reaching any
	// function): the next run picks the pair up.
	if err := cloud.OSS.PutObject(bucket, "certs/www/deploy.yaml", []byte("discover: true\n")); err != nil {
		t.Fatal(err)
	}
	res = fire(ctx, t, cloud, spec)
	if res.Status != outcome.OK || res.Report == nil || len(res.Report.Actions) != 1 ||
		res.Report.Actions[0].Pair != "www" || res.Report.Actions[0].Status != outcome.Rotated || res.Report.Counts.OK != 1 {
		t.Fatalf("first timer run: %+v", res)
	}
	if got := tlsprobe.Probe(ctx, address, 443, "www.example.com", 2*time.Second); got.FingerprintSHA1 != fresh.FingerprintSHA1 {
		t.Fatalf("after the timer run the listener serves %s (%s); want the pair's %s", got.FingerprintSHA1, got.Err, fresh.FingerprintSHA1)
	}

	res = fire(ctx, t, cloud, spec)
	if res.Status != outcome.OK || res.Report == nil || len(res.Report.Actions) != 0 {
		t.Errorf("second timer run: %+v; want ok with nothing to do", res)
	}
}

// expirySpec is s.yaml's expiry-check resource pointed at the local cloud,
// with this package built as its binary.
func expirySpec(t *testing.T, cloud *emulator.Cloud, region string) fcrt.FunctionSpec {
	t.Helper()
	bucket, _ := cloud.Bucket()
	env := map[string]string{"SLB_ENDPOINT": cloud.SLBEndpoint(), "OSS_ENDPOINT": cloud.OSSEndpoint(), "OSS_REGION": region,
		"CERT_BUCKET": bucket, "REGION": region, "REGIONS": region, "PROBE_TIMEOUT": "2s"}
	specs, err := fcrt.LoadSYAML(filepath.Join("..", "..", "s.yaml"), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if s.Resource != "expiry-check" {
			continue
		}
		s.Binary = fcrttest.BuildFunction(t, ".")
		return s
	}
	t.Fatal("s.yaml has no expiry-check resource")
	return fcrt.FunctionSpec{}
}

// fire runs the function's timer trigger once and decodes its result.
func fire(ctx context.Context, t *testing.T, cloud *emulator.Cloud, spec fcrt.FunctionSpec) Result {
	t.Helper()
	var trigger string
	for _, tr := range spec.Triggers {
		if tr.Type == "timer" && tr.Timer.Enable {
			trigger = tr.Name
		}
	}
	body, errType, err := cloud.FC.FireTimer(ctx, spec.Name, trigger)
	if err != nil || errType != "" {
		t.Fatalf("timer %s: %v %s %s", trigger, err, errType, body)
	}
	var res Result
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("result %s: %v", body, err)
	}
	return res
}
