package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// TestMultiInstanceBothHalvesUploadOnce runs the built function on the local
// FC with up to 3 instances at once, like FC scaling out for asynchronous
// OSS events: both halves of a pair land in the bucket at the same moment,
// every event is delivered twice and out of order. The invocations overlap
// on different instances (different processes, so the in-process lock cannot
// serialise them); the lease lock in the bucket must: exactly one
// UploadServerCertificate, no duplicate to delete, the listener serves the
// new certificate, and no lock object is left behind.
func TestMultiInstanceBothHalvesUploadOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function binary")
	}
	c := newCloud(t)
	bin := fcrttest.BuildFunction(t, ".")
	lb := c.seedLB(zjk)
	c.seedListener(zjk, lb, 443, c.seedCert(zjk, "old", c.issue("www.example.com"), nil))
	p := c.issue("www.example.com")

	var fnLogs fcrttest.Log
	rt := fcrt.New(fcrt.Options{
		Credentials:  fcrt.Credentials{AccessKeyID: c.sts.AccessKeyID, AccessKeySecret: c.sts.AccessKeySecret, SecurityToken: c.sts.SecurityToken},
		Logs:         &fnLogs,
		Region:       zjk,
		RetryBackoff: 50 * time.Millisecond,
		OSS:          fcrt.OSSDelivery{Duplicate: true, Reorder: 40 * time.Millisecond},
		Seed:         11,
		Env: map[string]string{
			"CERT_BUCKET": bucket, "CERT_PREFIX": "certs/", "REGIONS": zjk, "OSS_REGION": zjk, "OSS_SIGNATURE": "v4",
			"SLB_ENDPOINT": c.h.Config.SLBEndpoint, "OSS_ENDPOINT": c.h.Config.OSSEndpoint, "PROBE_TIMEOUT": "2s", "LOG_LEVEL": "info",
			"LB_PRODUCTS": "clb", // this cloud runs SLB and OSS only
		},
	})
	t.Cleanup(func() { rt.Close() })
	rt.AttachOSS(c.oss)
	err := rt.Deploy(fcrt.FunctionSpec{Name: "rotate-on-upload", Binary: bin, Timeout: 60 * time.Second, MaxInstances: 3, AsyncRetries: 2,
		Triggers: []fcrt.TriggerSpec{{Name: "oss-cert-upload", Type: "oss", OSS: fcrt.OSSTrigger{BucketName: bucket,
			Events: []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:PostObject", "oss:ObjectCreated:CompleteMultipartUpload", "oss:ObjectCreated:CopyObject"},
			Prefix: "certs/", Suffix: ".pem"}}}})
	if err != nil {
		t.Fatal(err)
	}
	// Both halves at the same moment: four deliveries, reordered.
	c.putPair("www", p)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	recs := rt.AsyncResults()
	if len(recs) != 4 {
		t.Fatalf("%d deliveries; want 4 (two halves, each twice)", len(recs))
	}
	instances := map[string]bool{}
	statuses := map[rotation.Status]int{}
	for _, r := range recs {
		if r.Status != "succeeded" {
			t.Errorf("invocation %s: %s %s %s", r.RequestID, r.Status, r.ErrorType, r.Result)
			continue
		}
		instances[r.InstanceID] = true
		var res rotation.Result
		if err := json.Unmarshal(r.Result, &res); err != nil {
			t.Fatalf("result %s: %v", r.Result, err)
		}
		statuses[res.Status]++
		c.mu.Lock()
		c.results = append(c.results, string(r.Result))
		c.mu.Unlock()
	}
	if len(instances) < 2 {
		t.Errorf("the invocations ran on %d instance(s) %v: they did not overlap", len(instances), instances)
	}
	if statuses[rotation.StatusRotated] != 1 || statuses[rotation.StatusRotated]+statuses[rotation.StatusUnchanged]+statuses[rotation.StatusWaiting] != 4 {
		t.Errorf("statuses %v; want one rotated, the rest unchanged or waiting", statuses)
	}
	if n := c.count("UploadServerCertificate"); n != 1 {
		t.Errorf("%d uploads; want exactly 1", n)
	}
	if n := c.count("DeleteServerCertificate"); n != 0 {
		t.Errorf("%d certificate deletions: a duplicate was uploaded and removed", n)
	}
	n := 0
	for _, cert := range c.slb.Dump().Regions[zjk].Certificates {
		if cert.Fingerprint == p.FingerprintSHA1 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d certificates with the new fingerprint; want 1", n)
	}
	if got := c.served(zjk, lb, 443, "www.example.com"); got != p.FingerprintSHA1 {
		t.Errorf("listener serves %s; want %s", got, p.FingerprintSHA1)
	}
	lockPuts, contended := 0, 0
	for _, r := range c.oss.Requests() {
		if r.Action == "oss:PutObject" && strings.HasPrefix(r.Key, "locks/") {
			lockPuts++
			if r.Status == 409 {
				contended++
			}
		}
	}
	if lockPuts == 0 {
		t.Error("no lock was taken")
	}
	t.Logf("instances %d, statuses %v, lock puts %d (%d found it held)", len(instances), statuses, lockPuts, contended)
	// The lock is left free: only its last generation and that
	// generation's release marker remain (older ones are collected).
	var left []string
	for _, b := range c.oss.Dump() {
		for _, o := range b.Objects {
			if strings.HasPrefix(o.Key, "locks/") {
				left = append(left, o.Key)
			}
		}
	}
	g, released, ok := lease.ParseKey(lease.Dir("", "www"), left[len(left)-1])
	if len(left) != 2 || !ok || !released || left[0]+".released" != left[1] || g == 0 {
		t.Errorf("lock objects left %v; want one generation and its release marker", left)
	}
	c.mu.Lock()
	c.results = append(c.results, fnLogs.String())
	c.mu.Unlock()
	if t.Failed() {
		t.Logf("function logs:\n%s", fnLogs.String())
	}
}
