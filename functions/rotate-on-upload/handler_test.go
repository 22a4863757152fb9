package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/localcloudtest"
	ossemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify/notifytest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

func TestHandlerHappyPathAndDuplicateEvent(t *testing.T) {
	c := newCloud(t)
	old := c.issue("www.example.com")
	oldID := c.seedCert(zjk, "www-old", old, nil)
	lb := c.seedLB(zjk)
	c.seedListener(zjk, lb, 443, oldID)
	if got := c.served(zjk, lb, 443, "www.example.com"); got != old.FingerprintSHA1 {
		t.Fatalf("before: served %s", got)
	}
	p := c.issue("www.example.com")
	c.putPair("www", p)

	res := c.rotate("certs/www/privkey.pem")
	if res.Status != rotation.StatusRotated || res.Fingerprint != p.FingerprintSHA1 {
		t.Fatalf("status %s fp %s reason %q errors %v", res.Status, res.Fingerprint, res.Reason, res.Errors)
	}
	if len(res.Targets) != 1 || res.Targets[0].Verified != rotation.VerifiedTLS || res.Targets[0].From != oldID {
		t.Errorf("targets %+v", res.Targets)
	}
	if got := c.served(zjk, lb, 443, "www.example.com"); got != p.FingerprintSHA1 {
		t.Errorf("after: served %s; want %s", got, p.FingerprintSHA1)
	}
	newID := c.listenerCert(zjk, lb, 443)
	if newID != res.Regions[zjk].ServerCertificateID {
		t.Errorf("listener on %s; result says %s", newID, res.Regions[zjk].ServerCertificateID)
	}
	for _, cert := range c.slb.Dump().Regions[zjk].Certificates {
		if cert.ID == newID && (!cert.Ours() || !strings.HasPrefix(cert.Name, "www-")) {
			t.Errorf("uploaded certificate not marked as ours: %+v", cert)
		}
	}

	// The other half's event, and FC delivering it twice: same end state.
	for i := 0; i < 2; i++ {
		again := c.rotate("certs/www/fullchain.pem")
		if again.Status != rotation.StatusUnchanged || again.Regions[zjk].ServerCertificateID != newID || !again.Regions[zjk].Reused {
			t.Errorf("repeat %d: status %s regions %+v", i, again.Status, again.Regions)
		}
	}
	if n := c.count("UploadServerCertificate"); n != 1 {
		t.Errorf("%d uploads; want 1", n)
	}
	// One log line per invocation, with the request id and the outcome.
	lines := c.logLines()
	if len(lines) != 3 {
		t.Fatalf("%d log lines; want 3:\n%s", len(lines), c.logs.String())
	}
	if lines[0]["status"] != "rotated" || lines[0]["fingerprint"] != p.FingerprintSHA1 || lines[0]["request_id"] == nil || lines[0]["switched"] != float64(1) {
		t.Errorf("log line %v", lines[0])
	}
}

func TestHandlerScenarios(t *testing.T) {
	tests := []struct {
		name    string
		regions []string
		run     func(t *testing.T, c *cloud)
	}{
		{name: "reuse existing certificate", run: func(t *testing.T, c *cloud) {
			lb := c.seedLB(zjk)
			c.seedListener(zjk, lb, 443, c.seedCert(zjk, "old", c.issue("www.example.com"), nil))
			p := c.issue("www.example.com")
			reuse := c.seedCert(zjk, "uploaded-by-hand", p, nil)
			c.putPair("www", p)
			res := c.rotate("certs/www/fullchain.pem")
			if res.Status != rotation.StatusRotated || !res.Regions[zjk].Reused || res.Regions[zjk].ServerCertificateID != reuse || c.count("UploadServerCertificate") != 0 {
				t.Errorf("status %s regions %+v uploads %d", res.Status, res.Regions, c.count("UploadServerCertificate"))
			}
			if got := c.served(zjk, lb, 443, "www.example.com"); got != p.FingerprintSHA1 {
				t.Errorf("served %s", got)
			}
		}},
		{name: "SNI extension", run: func(t *testing.T, c *cloud) {
			lb := c.seedLB(zjk)
			www := c.issue("www.example.com")
			c.seedListener(zjk, lb, 443, c.seedCert(zjk, "www", www, nil))
			oldAPI := c.seedCert(zjk, "api", c.issue("api.example.com"), nil)
			extID, err := c.slb.SeedDomainExtension(zjk, lb, 443, "api.example.com", oldAPI)
			if err != nil {
				t.Fatal(err)
			}
			p := c.issue("api.example.com")
			c.putPair("api", p)
			res := c.rotate("certs/api/fullchain.pem")
			if res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].Domain != "api.example.com" || res.Targets[0].Verified != rotation.VerifiedTLS {
				t.Fatalf("status %s targets %+v errors %v", res.Status, res.Targets, res.Errors)
			}
			if got := c.served(zjk, lb, 443, "api.example.com"); got != p.FingerprintSHA1 {
				t.Errorf("SNI api.example.com served %s", got)
			}
			if got := c.served(zjk, lb, 443, "www.example.com"); got != www.FingerprintSHA1 {
				t.Errorf("default certificate changed: %s", got)
			}
			_ = extID
		}},
		{name: "wildcard edge cases", run: func(t *testing.T, c *cloud) {
			lb := c.seedLB(zjk)
			c.seedListener(zjk, lb, 443, c.seedCert(zjk, "a", c.issue("a.example.com"), nil))
			apex := c.seedCert(zjk, "apex", c.issue("example.com"), nil)
			deep := c.seedCert(zjk, "deep", c.issue("a.b.example.com"), nil)
			c.seedListener(zjk, lb, 8443, apex)
			c.seedListener(zjk, lb, 9443, deep)
			p := c.issue("*.example.com")
			c.putPair("wild", p)
			res := c.rotate("certs/wild/privkey.pem")
			if res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].ListenerPort != 443 || res.Targets[0].Verified != rotation.VerifiedTLS {
				t.Fatalf("status %s targets %+v errors %v", res.Status, res.Targets, res.Errors)
			}
			if c.listenerCert(zjk, lb, 8443) != apex || c.listenerCert(zjk, lb, 9443) != deep {
				t.Errorf("apex or deeper name touched")
			}
		}},
		{name: "two regions", regions: []string{zjk, hz}, run: func(t *testing.T, c *cloud) {
			old := c.issue("www.example.com")
			a, b := c.seedLB(zjk), c.seedLB(hz)
			c.seedListener(zjk, a, 443, c.seedCert(zjk, "old", old, nil))
			c.seedListener(hz, b, 443, c.seedCert(hz, "old", old, nil))
			p := c.issue("www.example.com")
			c.putPair("www", p)
			res := c.rotate("certs/www/fullchain.pem")
			if res.Status != rotation.StatusRotated || len(res.Regions) != 2 || c.count("UploadServerCertificate") != 2 {
				t.Fatalf("status %s regions %+v uploads %d", res.Status, res.Regions, c.count("UploadServerCertificate"))
			}
			if c.served(zjk, a, 443, "www.example.com") != p.FingerprintSHA1 || c.served(hz, b, 443, "www.example.com") != p.FingerprintSHA1 {
				t.Errorf("not served in both regions")
			}
			for _, r := range c.slb.Requests() {
				if r.Action == "UploadServerCertificate" && r.Region != zjk && r.Region != hz {
					t.Errorf("upload in region %q", r.Region)
				}
			}
		}},
		{name: "explicit target missing", run: func(t *testing.T, c *cloud) {
			lb := c.seedLB(zjk)
			c.seedListener(zjk, lb, 443, c.seedCert(zjk, "old", c.issue("www.example.com"), nil))
			c.putPair("www", c.issue("www.example.com"))
			c.put("certs/www/deploy.yaml", []byte(fmt.Sprintf("targets:\n  - region: %s\n    loadBalancerId: %s\n    listenerPort: 8443\n", zjk, lb)))
			res := c.rotate("certs/www/fullchain.pem")
			want := fmt.Sprintf("%s/%s:8443", zjk, lb)
			if res.Status != rotation.StatusRejected || !strings.Contains(res.Reason, want) {
				t.Errorf("status %s reason %q; want rejected naming %s", res.Status, res.Reason, want)
			}
			if c.count("UploadServerCertificate")+c.count("SetLoadBalancerHTTPSListenerAttribute") != 0 {
				t.Errorf("writes happened")
			}
		}},
		{name: "throttling then success", run: func(t *testing.T, c *cloud) {
			lb := c.seedLB(zjk)
			c.seedListener(zjk, lb, 443, c.seedCert(zjk, "old", c.issue("www.example.com"), nil))
			p := c.issue("www.example.com")
			c.putPair("www", p)
			// Every switch is throttled: the adapter waits for its slot until
			// the invocation's deadline (3 s here, like a short function
			// timeout), then the invocation fails so that FC retries it.
			c.inj.Set(faults.Rule{Action: "SetLoadBalancerHTTPSListenerAttribute", ThrottleRate: 1})
			wire(c.h, fastRetry)
			short, cancel := context.WithTimeout(c.ctx("req-throttled"), 3*time.Second)
			defer cancel()
			_, err := c.h.Handle(short, event("ObjectCreated:PutObject", bucket, "certs/www/fullchain.pem"))
			if err == nil {
				t.Fatal("persistent throttling: want an error for FC to retry")
			}
			c.mu.Lock()
			c.results = append(c.results, err.Error()) // scanned for secrets like every result
			c.mu.Unlock()
			// Throttling half of the time: retried inside the invocation.
			c.inj.Set(faults.Rule{Action: "SetLoadBalancerHTTPSListenerAttribute", ThrottleRate: 0.5})
			c.inj.Set(faults.Rule{Action: "DescribeServerCertificates", ThrottleRate: 0.5})
			res := c.rotate("certs/www/fullchain.pem")
			if res.Status != rotation.StatusRotated || c.count("UploadServerCertificate") != 1 {
				t.Errorf("status %s uploads %d errors %v", res.Status, c.count("UploadServerCertificate"), res.Errors)
			}
			throttled := 0
			for _, r := range c.slb.Requests() {
				if r.Code == "Throttling" || strings.Contains(r.Code, "Throttling") {
					throttled++
				}
			}
			if throttled == 0 {
				t.Errorf("no throttled request in the log")
			}
			if c.served(zjk, lb, 443, "www.example.com") != p.FingerprintSHA1 {
				t.Errorf("not served after retries")
			}
		}},
		{name: "rollback when the frontend serves the wrong certificate", run: func(t *testing.T, c *cloud) {
			old := c.issue("www.example.com")
			oldID := c.seedCert(zjk, "old", old, nil)
			lb := c.seedLB(zjk)
			c.seedListener(zjk, lb, 443, oldID)
			c.slb.SetStaleFrontend(lb, 443, true)
			c.putPair("www", c.issue("www.example.com"))
			res := c.rotate("certs/www/fullchain.pem")
			if len(res.Targets) != 1 || !res.Targets[0].RolledBack || res.Status == rotation.StatusRotated {
				t.Fatalf("status %s targets %+v", res.Status, res.Targets)
			}
			if got := c.listenerCert(zjk, lb, 443); got != oldID {
				t.Errorf("listener on %s; want rolled back to %s", got, oldID)
			}
			if got := c.count("SetLoadBalancerHTTPSListenerAttribute"); got != 2 {
				t.Errorf("%d switches; want 2 (switch and roll back)", got)
			}
		}},
		{name: "cleanup keeps foreign certificates", run: func(t *testing.T, c *cloud) {
			c.h.Config.KeepSuperseded = 0
			lb := c.seedLB(zjk)
			ours := map[string]string{clb.OwnerTagKey: clb.OwnerTagValue}
			prev := c.issue("www.example.com")
			prevID := c.seedCert(zjk, "www-20260101-0a0b0c0d", prev, ours)
			foreign := c.seedCert(zjk, "www-by-hand", c.issue("www.example.com"), nil)
			lookalike := c.seedCert(zjk, "www-20250101-01020304", c.issue("www.example.com"), map[string]string{"team": "web"})
			c.seedListener(zjk, lb, 443, prevID)
			c.putPair("www", c.issue("www.example.com"))
			res := c.rotate("certs/www/fullchain.pem")
			if res.Status != rotation.StatusRotated || len(res.Deleted) != 1 || res.Deleted[0].ServerCertificateID != prevID {
				t.Fatalf("status %s deleted %+v errors %v", res.Status, res.Deleted, res.Errors)
			}
			left := map[string]bool{}
			for _, cert := range c.slb.Dump().Regions[zjk].Certificates {
				left[cert.ID] = true
			}
			if !left[foreign] || !left[lookalike] || left[prevID] {
				t.Errorf("certificates left %v", left)
			}
		}},
		{name: "keys with spaces and non-ASCII", run: func(t *testing.T, c *cloud) {
			lb := c.seedLB(zjk)
			c.seedListener(zjk, lb, 443, c.seedCert(zjk, "old", c.issue("shop.example.com"), nil))
			p := c.issue("shop.example.com")
			c.putPair("shop ünïcode 证书", p)
			payload, err := os.ReadFile("../../events/oss-unicode-key.json")
			if err != nil {
				payload = event("ObjectCreated:PutObject", bucket, "certs/shop ünïcode 证书/fullchain.pem")
			}
			res, err := c.invoke(payload)
			if err != nil || res.Status != rotation.StatusRotated || res.Name != "shop ünïcode 证书" {
				t.Fatalf("status %s name %q err %v reason %q", res.Status, res.Name, err, res.Reason)
			}
			if c.served(zjk, lb, 443, "shop.example.com") != p.FingerprintSHA1 {
				t.Errorf("not served")
			}
		}},
		{name: "bundle layout", run: func(t *testing.T, c *cloud) {
			lb := c.seedLB(zjk)
			c.seedListener(zjk, lb, 443, c.seedCert(zjk, "old", c.issue("www.example.com"), nil))
			p := c.issue("www.example.com")
			c.put("certs/www.pem", p.Bundle())
			res := c.rotate("certs/www.pem")
			if res.Status != rotation.StatusRotated || c.served(zjk, lb, 443, "www.example.com") != p.FingerprintSHA1 {
				t.Errorf("status %s reason %q", res.Status, res.Reason)
			}
		}},
		{name: "dry run invoke", run: func(t *testing.T, c *cloud) {
			lb := c.seedLB(zjk)
			oldID := c.seedCert(zjk, "old", c.issue("www.example.com"), nil)
			c.seedListener(zjk, lb, 443, oldID)
			c.putPair("www", c.issue("www.example.com"))
			res, err := c.invoke([]byte(`{"name":"www","dryRun":true}`))
			if err != nil || res.Status != rotation.StatusPlanned || len(res.Targets) != 1 || res.Targets[0].From != oldID {
				t.Fatalf("status %s targets %+v err %v", res.Status, res.Targets, err)
			}
			if c.count("UploadServerCertificate")+c.count("SetLoadBalancerHTTPSListenerAttribute") != 0 || c.listenerCert(zjk, lb, 443) != oldID {
				t.Errorf("dry run wrote")
			}
		}},
		{name: "waiting for the other half", run: func(t *testing.T, c *cloud) {
			c.put("certs/www/fullchain.pem", c.issue("www.example.com").CertPEM)
			res := c.rotate("certs/www/fullchain.pem")
			if res.Status != rotation.StatusWaiting {
				t.Errorf("status %s reason %q", res.Status, res.Reason)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCloud(t, tt.regions...)
			tt.run(t, c)
		})
	}
}

func TestHandlerBothHalvesConcurrently(t *testing.T) {
	c := newCloud(t)
	lb := c.seedLB(zjk)
	c.seedListener(zjk, lb, 443, c.seedCert(zjk, "old", c.issue("www.example.com"), nil))
	p := c.issue("www.example.com")
	c.putPair("www", p)
	keys := []string{"certs/www/fullchain.pem", "certs/www/privkey.pem", "certs/www/privkey.pem", "certs/www/fullchain.pem"}
	var wg sync.WaitGroup
	errs := make([]error, len(keys))
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.invoke(event("ObjectCreated:PutObject", bucket, k))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := c.count("UploadServerCertificate"); n != 1 {
		t.Errorf("%d uploads; want exactly 1", n)
	}
	n := 0
	for _, cert := range c.slb.Dump().Regions[zjk].Certificates {
		if cert.Fingerprint == p.FingerprintSHA1 {
			n++
		}
	}
	if n != 1 || c.served(zjk, lb, 443, "www.example.com") != p.FingerprintSHA1 {
		t.Errorf("%d certificates with the fingerprint", n)
	}
}

func TestHandlerEventsNotRead(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		status  rotation.Status
		reason  string
	}{
		{"other bucket", event("ObjectCreated:PutObject", "someone-else", "certs/www/fullchain.pem"), rotation.StatusIgnored, "outside CERT_BUCKET"},
		{"other prefix", event("ObjectCreated:PutObject", bucket, "incoming/www/fullchain.pem"), rotation.StatusIgnored, "outside CERT_BUCKET"},
		{"delete event", event("ObjectRemoved:DeleteObject", bucket, "certs/www/fullchain.pem"), rotation.StatusIgnored, "not handled"},
		{"upload part", event("ObjectCreated:UploadPart", bucket, "certs/www/fullchain.pem"), rotation.StatusIgnored, "not handled"},
		{"unrelated file", event("ObjectCreated:PutObject", bucket, "certs/www/chain.pem"), rotation.StatusIgnored, "not a file"},
		{"empty payload", nil, rotation.StatusRejected, "empty payload"},
		{"null", []byte("null"), rotation.StatusRejected, "empty payload"},
		{"not JSON", []byte("{"), rotation.StatusRejected, "not a JSON object"},
		{"no records", []byte(`{"events":[]}`), rotation.StatusRejected, "without records"},
		{"null record", []byte(`{"events":[null]}`), rotation.StatusRejected, "events[0]"},
		{"no event name", []byte(`{"events":[{"oss":{}}]}`), rotation.StatusRejected, "eventName"},
		{"no oss", []byte(`{"events":[{"eventName":"ObjectCreated:PutObject"}]}`), rotation.StatusRejected, "events[0].oss is missing"},
		{"no bucket", []byte(`{"events":[{"eventName":"ObjectCreated:PutObject","oss":{"object":{"key":"certs/a.pem"}}}]}`), rotation.StatusRejected, "oss.bucket.name"},
		{"no key", []byte(`{"events":[{"eventName":"ObjectCreated:PutObject","oss":{"bucket":{"name":"slb-cert-drop"},"object":{}}}]}`), rotation.StatusRejected, "oss.object.key"},
		{"invoke without name", []byte(`{"dryRun":true}`), rotation.StatusRejected, "without a name"},
		{"invoke with unknown field", []byte(`{"name":"www","dry":true}`), rotation.StatusRejected, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCloud(t)
			res, err := c.invoke(tt.payload)
			if err != nil {
				t.Fatalf("err %v", err)
			}
			if res.Status != tt.status || !strings.Contains(res.Reason, tt.reason) {
				t.Errorf("status %s reason %q; want %s with %q", res.Status, res.Reason, tt.status, tt.reason)
			}
			for _, r := range c.oss.Requests() {
				t.Errorf("OSS was called: %+v", r)
			}
			if n := len(c.slb.Requests()); n != 0 {
				t.Errorf("%d SLB requests", n)
			}
			if lines := c.logLines(); len(lines) != 1 {
				t.Errorf("%d log lines; want 1", len(lines))
			}
		})
	}
}

func TestHandlerSampleEvents(t *testing.T) {
	for _, f := range []string{"oss-fullchain.json", "oss-privkey.json", "oss-bundle.json", "oss-multipart.json"} {
		t.Run(f, func(t *testing.T) {
			payload, err := os.ReadFile("../../events/" + f)
			if err != nil {
				t.Skipf("sample event missing: %v", err)
			}
			c := newCloud(t)
			// No pair stored: a complete-upload event of the pair is read and waits.
			res, err := c.invoke(payload)
			if err != nil || res.Status != rotation.StatusWaiting {
				t.Errorf("status %s reason %q err %v", res.Status, res.Reason, err)
			}
		})
	}
}

// TestHandlerOnLocalCloud runs the handler against emulator.Start, the
// composed local cloud. Its frontends are off (emulator.Options has no
// address base, and 127.0.0.2:443 may be taken by another package's local
// cloud running at the same time), so the handshake is reported skipped.
func TestHandlerOnLocalCloud(t *testing.T) {
	lc := localcloudtest.Start(t, localcloudtest.Options{Cloud: emulator.Options{Seed: 3, NoFrontends: true, Bucket: bucket, Regions: []string{zjk}}})
	cl := lc.Cloud
	ak, secret, token := cl.STSCredentials()
	old := testCA.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, NotAfter: time.Now().Add(30 * 24 * time.Hour)})
	p := testCA.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, Chain: true})
	lc.SeedListener(t, zjk, "old", "SLB1", 443, old)
	lc.PutPair(t, "www", p)
	var logs fcrttest.Log
	h := &Handler{
		Config: config.Config{CertBucket: bucket, CertPrefix: "certs/", Regions: []string{zjk}, MinValidDays: 7, KeepSuperseded: 1,
			ProbeTimeout: time.Second, Concurrency: 5, SLBEndpoint: cl.SLBEndpoint(), OSSEndpoint: cl.OSSEndpoint(), OSSRegion: zjk, OSSSignature: "v4"},
		Log: fclog.New(&logs, slog.LevelInfo),
	}
	wire(h, func(r *app.Root) {
		r.Prober = rotation.ProbeFunc(func(context.Context, string, int, string, time.Duration) rotation.ProbeResult {
			return rotation.ProbeResult{Err: "frontends off"}
		})
	})
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "req-local",
		Credentials: fccontext.Credentials{AccessKeyId: ak, AccessKeySecret: secret, SecurityToken: token}})
	res, err := h.Handle(ctx, event("ObjectCreated:CompleteMultipartUpload", bucket, "certs/www/fullchain.pem"))
	if err != nil || res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].Verified != rotation.VerifiedProbeSkipped {
		t.Fatalf("status %s targets %+v err %v reason %q", res.Status, res.Targets, err, res.Reason)
	}
	uploads := 0
	for _, r := range cl.RequestLog().SLB {
		if r.Action == "UploadServerCertificate" && r.Status == 200 {
			uploads++
		}
	}
	if uploads != 1 {
		t.Errorf("%d uploads", uploads)
	}
	out, _ := json.Marshal(res)
	for _, s := range []string{secret, token, "PRIVATE KEY"} {
		if strings.Contains(logs.String(), s) || strings.Contains(string(out), s) {
			t.Errorf("secret in logs or result")
		}
	}
}

// TestHandlerTransientIsNeverSuccess: an OSS 503 while the pair is listed
// (every retry) fails the invocation with a status that is not a success,
// in the result and in the log line, and changes nothing.
func TestHandlerTransientIsNeverSuccess(t *testing.T) {
	c := newCloud(t)
	lb := c.seedLB(zjk)
	old := c.seedCert(zjk, "old", c.issue("www.example.com"), nil)
	c.seedListener(zjk, lb, 443, old)
	c.putPair("www", c.issue("www.example.com"))
	unavailable := func(action string) ossemu.Fault {
		if action == "oss:ListObjectsV2" || action == "oss:ListObjects" {
			return ossemu.Fault{ServerError: true, Status: 503}
		}
		return ossemu.Fault{}
	}
	c.ossFault.Store(&unavailable)
	res, err := c.invoke(event("ObjectCreated:PutObject", bucket, "certs/www/fullchain.pem"))
	if err == nil {
		t.Fatalf("OSS 503: want an error for FC to retry; result %+v", res)
	}
	if res.Status != rotation.StatusFailed || res.Status.Success() {
		t.Errorf("status %s; want failed", res.Status)
	}
	lines := c.logLines()
	if len(lines) != 1 || lines[0]["status"] != string(rotation.StatusFailed) || lines[0]["level"] != "ERROR" {
		t.Errorf("log lines %v; want one ERROR line with status failed", lines)
	}
	if got := c.listenerCert(zjk, lb, 443); got != old || c.count("UploadServerCertificate") != 0 {
		t.Errorf("listener on %s (want %s), uploads %d", got, old, c.count("UploadServerCertificate"))
	}
}

// TestHandlerFailedRollbackIsFailed: on the local cloud the frontend keeps
// serving the old certificate and every rollback call fails: the
// invocation fails (FC retries), the result and its log line say failed,
// the target comes first as not-served (not verified), and the
// notification says so in its title, before anything else.
func TestHandlerFailedRollbackIsFailed(t *testing.T) {
	c := newCloud(t)
	oldID := c.seedCert(zjk, "old", c.issue("www.example.com"), nil)
	lb := c.seedLB(zjk)
	c.seedListener(zjk, lb, 443, oldID)
	c.slb.SetStaleFrontend(lb, 443, true)
	c.putPair("www", c.issue("www.example.com"))
	// The switch goes through; once the handshake has seen the old
	// certificate, every further switch (the rollback) answers 503.
	wire(c.h, func(r *app.Root) {
		fastRetry(r)
		r.Prober = rotation.ProbeFunc(func(ctx context.Context, address string, port int, sni string, timeout time.Duration) rotation.ProbeResult {
			res := app.TLSProber("").Probe(ctx, address, port, sni, timeout)
			c.inj.Set(faults.Rule{Action: "SetLoadBalancerHTTPSListenerAttribute", ServerErrorRate: 1})
			return res
		})
	})
	rec := &notifytest.Recorder{}
	c.h.Notifier = rec
	res, err := c.invoke(event("ObjectCreated:PutObject", bucket, "certs/www/fullchain.pem"))
	if err == nil || !errors.Is(err, rotation.ErrNotServed) {
		t.Fatalf("err = %v; want a transient error so that FC retries", err)
	}
	if res.Status != rotation.StatusFailed || len(res.Targets) != 1 {
		t.Fatalf("status %s targets %+v; want failed", res.Status, res.Targets)
	}
	if tr := res.Targets[0]; tr.State != rotation.StateNotServed || tr.Verified != "" || tr.RolledBack {
		t.Errorf("target %+v; want not-served, unverified, not rolled back", tr)
	}
	if !strings.Contains(res.Reason, lb) || !strings.Contains(res.Reason, rotation.StateNotServed) {
		t.Errorf("reason %q does not name the target and its state", res.Reason)
	}
	if lines := c.logLines(); len(lines) != 1 || lines[0]["status"] != string(rotation.StatusFailed) {
		t.Errorf("log lines %v; want one with status failed", lines)
	}
	if rec.Len() != 1 {
		t.Fatalf("%d notifications; want 1", rec.Len())
	}
	m := rec.Messages()[0]
	if !strings.Contains(m.Title, "FAILED") || !strings.Contains(m.Title, lb) || !strings.Contains(m.Title, "not-served") || m.Severity != "critical" {
		t.Errorf("notification title %q (%s); want FAILED naming %s not-served", m.Title, m.Severity, lb)
	}
	all := m.Title + "\n" + m.Summary + "\n" + strings.Join(m.Lines, "\n")
	if strings.Contains(all, "verified: tls") || strings.Contains(all, "rotated on") {
		t.Errorf("notification claims success:\n%s", all)
	}
}
