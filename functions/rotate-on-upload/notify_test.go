package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify/notifytest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

func TestMessage(t *testing.T) {
	notAfter := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	rotated := rotation.Result{Status: rotation.StatusRotated, Name: "www", Fingerprint: "aa:bb", NotAfter: &notAfter,
		Targets: []rotation.TargetResult{
			{Region: "cn-zhangjiakou", LoadBalancerID: "lb-1", ListenerPort: 443, From: "c-old", To: "c-new", Verified: rotation.VerifiedTLS, State: rotation.StateServing},
			{Region: "cn-zhangjiakou", LoadBalancerID: "lb-1", ListenerPort: 443, Domain: "api.example.com", From: "c-old2", To: "c-new", RolledBack: true, State: rotation.StateRolledBack},
		},
		Deleted: []rotation.DeletedCertificate{{Region: "cn-zhangjiakou", ServerCertificateID: "c-old"}},
	}
	notServed := rotation.Result{Status: rotation.StatusFailed, Name: "www", Reason: "1 of 1 targets do not serve the new certificate; first cn-zhangjiakou/lb-1:443: not-served",
		Targets: []rotation.TargetResult{{Region: "cn-zhangjiakou", LoadBalancerID: "lb-1", ListenerPort: 443, From: "c-old", To: "c-new", State: rotation.StateNotServed}}}
	partial := rotation.Result{Status: rotation.StatusPartial, Name: "www",
		Targets: []rotation.TargetResult{
			{Region: "cn-zhangjiakou", LoadBalancerID: "lb-2", ListenerPort: 443, From: "c-old", To: "c-new", RolledBack: true, State: rotation.StateRolledBack},
			{Region: "cn-zhangjiakou", LoadBalancerID: "lb-1", ListenerPort: 443, From: "c-old", To: "c-new", Verified: rotation.VerifiedTLS, State: rotation.StateServing},
		}}
	tests := []struct {
		name         string
		res          rotation.Result
		err          error
		wantSend     bool
		wantSeverity string
		wantTitle    string
		wantLines    []string
		notLines     []string
	}{
		{name: "rotated with a rollback", res: rotated, wantSend: true, wantSeverity: "warning",
			wantTitle: "certificate www: rotated on 1 of 2 targets",
			wantLines: []string{"cn-zhangjiakou/lb-1:443: c-old -> c-new (verified: tls)", "cn-zhangjiakou/lb-1:443 (SNI api.example.com): rolled back to c-old2", "1 superseded certificate(s) deleted"}},
		{name: "rejected", res: rotation.Result{Status: rotation.StatusRejected, Name: "www", Reason: "certs/www/privkey.pem: ECDSA; fix: RSA"},
			wantSend: true, wantSeverity: "warning", wantTitle: "certificate www: rejected"},
		{name: "transient failure", res: rotation.Result{Status: rotation.StatusRotated, Name: "www"}, err: errors.New("slb: Throttling"),
			wantSend: true, wantSeverity: "critical", wantTitle: "certificate www: rotation failed, Function Compute will retry"},
		{name: "rollback failed: the target not served comes first", res: notServed, err: fmt.Errorf("rotation: %w", rotation.ErrNotServed),
			wantSend: true, wantSeverity: "critical",
			wantTitle: "certificate www: FAILED: cn-zhangjiakou/lb-1:443 is not-served, 0 of 1 targets serve the new certificate, Function Compute will retry",
			wantLines: []string{"cn-zhangjiakou/lb-1:443: NOT SERVED"}, notLines: []string{"verified"}},
		{name: "partial: the rolled-back target comes first", res: partial, wantSend: true, wantSeverity: "warning",
			wantTitle: "certificate www: PARTIAL: cn-zhangjiakou/lb-2:443 is rolled-back, 1 of 2 targets serve the new certificate",
			wantLines: []string{"lb-2:443: rolled back to c-old", "lb-1:443: c-old -> c-new (verified: tls)"}},
		{name: "waiting is silent", res: rotation.Result{Status: rotation.StatusWaiting, Name: "www"}},
		{name: "unchanged is silent", res: rotation.Result{Status: rotation.StatusUnchanged, Name: "www"}},
		{name: "ignored is silent", res: rotation.Result{Status: rotation.StatusIgnored}},
		{name: "dry run is silent", res: rotation.Result{Status: rotation.StatusPlanned, Name: "www"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := message(tc.res, tc.err)
			if ok != tc.wantSend {
				t.Fatalf("message() send = %v, want %v", ok, tc.wantSend)
			}
			if !ok {
				return
			}
			if m.Severity != tc.wantSeverity || m.Title != tc.wantTitle {
				t.Errorf("message() = %q (%s), want %q (%s)", m.Title, m.Severity, tc.wantTitle, tc.wantSeverity)
			}
			all := m.Summary + "\n" + strings.Join(m.Lines, "\n")
			for _, want := range tc.wantLines {
				if !strings.Contains(all, want) {
					t.Errorf("message() lacks %q in:\n%s", want, all)
				}
			}
			for _, bad := range tc.notLines {
				if strings.Contains(all, bad) {
					t.Errorf("message() says %q in:\n%s", bad, all)
				}
			}
		})
	}
}

// TestHandlerNotifies runs real rotations on the local cloud: one message
// for the rotation, none for the waiting half, and a failing webhook is
// reported in the result without failing the invocation.
func TestHandlerNotifies(t *testing.T) {
	c := newCloud(t, zjk)
	rec := &notifytest.Recorder{}
	c.h.Notifier = rec
	lb := c.seedLB(zjk)
	c.seedListener(zjk, lb, 443, c.seedCert(zjk, "old", c.issue("www.example.com"), nil))
	p := c.issue("www.example.com")

	c.put("certs/www/fullchain.pem", p.CertPEM)
	if res := c.rotate("certs/www/fullchain.pem"); res.Status != rotation.StatusWaiting {
		t.Fatalf("first half: status %s, want waiting", res.Status)
	}
	if rec.Len() != 0 {
		t.Fatalf("waiting sent %d notifications, want 0", rec.Len())
	}
	c.put("certs/www/privkey.pem", p.KeyPEM)
	if res := c.rotate("certs/www/privkey.pem"); res.Status != rotation.StatusRotated {
		t.Fatalf("second half: status %s, want rotated", res.Status)
	}
	if rec.Len() != 1 || !strings.Contains(rec.Messages()[0].Title, "rotated on 1 of 1 targets") ||
		!strings.Contains(rec.Messages()[0].Summary, p.FingerprintSHA1) {
		t.Fatalf("notifications = %+v, want one rotation message naming %s", rec.Messages(), p.FingerprintSHA1)
	}

	// A broken webhook: the next rotation still succeeds and says so.
	rec.FailWith(errors.New("dingtalk: errcode 310000"))
	p2 := c.issue("www.example.com")
	c.putPair("www", p2)
	res, err := c.invoke(event("ObjectCreated:PutObject", bucket, "certs/www/fullchain.pem"))
	if err != nil || res.Status != rotation.StatusRotated {
		t.Fatalf("with a failing notifier: status %s err %v, want rotated and no error", res.Status, err)
	}
	if got := strings.Join(res.Errors, "\n"); !strings.Contains(got, "notification: dingtalk: errcode 310000") {
		t.Errorf("result errors %q do not report the failed notification", got)
	}
	c.scanSecrets()
}

// TestHandlerConfigurationError: a bad environment rejects every invocation
// with the problems by name (no FC retry, no reads), instead of a crash loop.
func TestHandlerConfigurationError(t *testing.T) {
	var logs fcrttest.Log
	h := &Handler{
		ConfigErr: errors.New("config: CERT_BUCKET: not set; fix: set the bucket that holds the pairs"),
		Log:       fclog.New(&logs, slog.LevelInfo),
		NewRotator: func(context.Context) (Rotator, error) {
			t.Fatal("adapters built despite the configuration error")
			return nil, nil
		},
	}
	res, err := h.Handle(context.Background(), event("ObjectCreated:PutObject", bucket, "certs/www/fullchain.pem"))
	if err != nil || res.Status != rotation.StatusRejected || !strings.Contains(res.Reason, "CERT_BUCKET") {
		t.Fatalf("Handle = %+v, %v; want rejected naming CERT_BUCKET and no error", res, err)
	}
	if n := strings.Count(strings.TrimSpace(logs.String()), "\n") + 1; n != 1 || !strings.Contains(logs.String(), "CERT_BUCKET") {
		t.Errorf("log = %q, want one line naming CERT_BUCKET", logs.String())
	}
}
