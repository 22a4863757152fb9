package aliyun

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

func certIDs(list []ListenerCertificate) map[string]string {
	out := map[string]string{}
	for _, c := range list {
		state := c.Status
		if c.Default {
			state = "default"
		}
		out[c.ID] = state
	}
	return out
}

// TestListenerCertificatesLifecycle: list, switch the default, add and
// remove an SNI certificate, each write waited out to the end of its job.
func TestListenerCertificatesLifecycle(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{Configuring: 50 * time.Millisecond})
			a := p.api(c, lbTestOptions)
			ctx := context.Background()
			old := c.casCert(t, "old", certstest.ECDSA, "a.example.com")
			user := c.casCert(t, "user-sni", certstest.ECDSA, "u.example.com")
			lbID, lid := p.seedListener(t, c, old)
			if err := p.seedSNI(c, lbRegion, lid, user); err != nil {
				t.Fatal(err)
			}
			cs := c.newCAS(lbTestOptions)
			pair := certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}, KeyType: certstest.ECDSA})
			nw, err := cs.UploadCertificate(ctx, lbRegion, "site", string(pair.CertPEM), string(pair.KeyPEM))
			if err != nil {
				t.Fatal(err)
			}
			sni := certstest.SelfSigned(t, certstest.Options{Domains: []string{"b.example.com"}})
			extra, err := cs.UploadCertificate(ctx, lbRegion, "b", string(sni.CertPEM), string(sni.KeyPEM))
			if err != nil {
				t.Fatal(err)
			}

			lbs, err := a.ListLoadBalancers(ctx, lbRegion)
			if err != nil || len(lbs) != 1 || lbs[0].ID != lbID || lbs[0].DNSName == "" || lbs[0].Product != p.name {
				t.Fatalf("ListLoadBalancers = %+v, %v", lbs, err)
			}
			ls, err := a.ListListeners(ctx, lbRegion)
			if err != nil || len(ls) != 1 || ls[0].ID != lid || ls[0].LoadBalancerID != lbID || ls[0].Port != 443 {
				t.Fatalf("ListListeners = %+v, %v", ls, err)
			}

			start := time.Now()
			if err := a.SetDefaultCertificate(ctx, lbRegion, lid, nw.Identity); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); took < 50*time.Millisecond {
				t.Errorf("SetDefaultCertificate returned after %v, before its job was due", took)
			}
			l, err := a.GetListener(ctx, lbRegion, lid)
			if err != nil || l.DefaultCertificate != nw.Identity || l.Status != "Running" {
				t.Fatalf("after the switch: %+v, %v; want default %s, Running", l, err, nw.Identity)
			}
			if err := a.AssociateAdditionalCertificate(ctx, lbRegion, lid, extra.Identity); err != nil {
				t.Fatal(err)
			}
			list, err := a.ListListenerCertificates(ctx, lbRegion, lid)
			want := map[string]string{nw.Identity: "default", user: "Associated", extra.Identity: "Associated"}
			if got := certIDs(list); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("certificates = %v, %v; want %v", got, err, want)
			}
			if err := a.DissociateAdditionalCertificate(ctx, lbRegion, lid, extra.Identity); err != nil {
				t.Fatal(err)
			}
			list, _ = a.ListListenerCertificates(ctx, lbRegion, lid)
			want = map[string]string{nw.Identity: "default", user: "Associated"}
			if got := certIDs(list); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("after removal: %v; want %v (the user's SNI certificate untouched)", got, want)
			}
			// Every certificate reference sent is <CertId>-<casRegion>.
			for _, r := range p.requests(c) {
				for k, v := range r.Params {
					if strings.Contains(k, "ertificateId") && !strings.HasSuffix(v, "-cn-hangzhou") {
						t.Errorf("%s sent %s=%q", r.Action, k, v)
					}
				}
			}
		})
	}
}

// TestSetDefaultAlreadyInEffectWritesNothing: the same default again is a
// read, not a write (no job, no Configuring time).
func TestSetDefaultAlreadyInEffectWritesNothing(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			a := p.api(c, lbTestOptions)
			cur := c.casCert(t, "cur", certstest.ECDSA, "a.example.com")
			_, lid := p.seedListener(t, c, cur)
			if err := a.SetDefaultCertificate(context.Background(), lbRegion, lid, cur); err != nil {
				t.Fatal(err)
			}
			if got := actions(p.requests(c), 0); !slices.Equal(got, []string{"GetListenerAttribute"}) {
				t.Errorf("calls = %v, want only GetListenerAttribute", got)
			}
		})
	}
}

// TestListenerWriteCallsPinned pins the API calls of switching the default
// certificate of one ALB and one NLB listener, and of adding and removing
// one SNI certificate (each job due on the next call).
func TestListenerWriteCallsPinned(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			a := p.api(c, lbTestOptions)
			_, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			nw := c.casCert(t, "new", certstest.ECDSA, "a.example.com")
			if err := a.SetDefaultCertificate(context.Background(), lbRegion, lid, nw); err != nil {
				t.Fatal(err)
			}
			want := []string{"GetListenerAttribute", "UpdateListenerAttribute", p.job}
			if got := actions(p.requests(c), 0); !slices.Equal(got, want) {
				t.Errorf("calls = %v, want %v", got, want)
			}
			// and one SNI certificate added, then removed
			sni := c.casCert(t, "sni", certstest.ECDSA, "b.example.com")
			from := len(p.requests(c))
			if err := a.AssociateAdditionalCertificate(context.Background(), lbRegion, lid, sni); err != nil {
				t.Fatal(err)
			}
			if err := a.DissociateAdditionalCertificate(context.Background(), lbRegion, lid, sni); err != nil {
				t.Fatal(err)
			}
			want = []string{"GetListenerAttribute", "AssociateAdditionalCertificatesWithListener", p.job,
				"GetListenerAttribute", p.removal, p.job}
			if got := actions(p.requests(c), from); !slices.Equal(got, want) {
				t.Errorf("SNI calls = %v, want %v", got, want)
			}
		})
	}
}

// TestWriteWaitsOutConfiguring: a listener Configuring (another writer's
// job) is waited out before the write is sent: the service never refuses
// it with IncorrectStatus.Listener.
func TestWriteWaitsOutConfiguring(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			const configuring = 300 * time.Millisecond
			c := newLBCloud(t, lbCloudOptions{Configuring: configuring})
			a := p.api(c, lbTestOptions)
			ctx := context.Background()
			_, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			other, sni := c.casCert(t, "other", certstest.ECDSA, "a.example.com"), c.casCert(t, "sni", certstest.ECDSA, "b.example.com")
			done := make(chan error, 1)
			go func() { done <- a.SetDefaultCertificate(ctx, lbRegion, lid, other) }()
			waitFor(t, func() bool { return count(p.requests(c), "UpdateListenerAttribute", "-") == 1 })
			start := time.Now()
			if err := a.AssociateAdditionalCertificate(ctx, lbRegion, lid, sni); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			recs := p.requests(c)
			if n := countCode(recs, codeListenerBusy); n != 0 {
				t.Errorf("%d writes refused with %s: the status was not read first", n, codeListenerBusy)
			}
			if took := time.Since(start); took < configuring/2 {
				t.Errorf("the association returned after %v: it did not wait for the running job", took)
			}
			list, _ := a.ListListenerCertificates(ctx, lbRegion, lid)
			if got := certIDs(list); got[other] != "default" || got[sni] != "Associated" {
				t.Errorf("certificates = %v; want %s default and %s Associated", got, other, sni)
			}
		})
	}
}

// TestSwitchIsServed: once the adapter returns, the instance's live TLS
// frontend serves the new default certificate, and the new SNI
// certificate for its name, while the user's SNI certificate still serves
// its own.
func TestSwitchIsServed(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{Frontends: true, Configuring: 50 * time.Millisecond})
			a := p.api(c, lbTestOptions)
			cs := c.newCAS(lbTestOptions)
			ctx := context.Background()
			userPair := certstest.SelfSigned(t, certstest.Options{Domains: []string{"u.example.com"}, KeyType: certstest.ECDSA})
			user := upload(t, cs, lbRegion, "user", userPair)
			lbID, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			if err := p.seedSNI(c, lbRegion, lid, user.Identity); err != nil {
				t.Fatal(err)
			}
			def := upload(t, cs, lbRegion, "a", certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}}))
			sni := upload(t, cs, lbRegion, "b", certstest.SelfSigned(t, certstest.Options{Domains: []string{"b.example.com"}, KeyType: certstest.ECDSA}))
			if err := a.SetDefaultCertificate(ctx, lbRegion, lid, def.Identity); err != nil {
				t.Fatal(err)
			}
			if err := a.AssociateAdditionalCertificate(ctx, lbRegion, lid, sni.Identity); err != nil {
				t.Fatal(err)
			}
			addr := p.address(t, c, lbID)
			for name, want := range map[string]string{"a.example.com": def.Fingerprint, "b.example.com": sni.Fingerprint, "u.example.com": user.Fingerprint} {
				got := tlsprobe.Probe(ctx, addr, 443, name, 2*time.Second)
				if got.FingerprintSHA1 != want {
					t.Errorf("%s served %q (%s), want %q", name, got.FingerprintSHA1, got.Err, want)
				}
			}
		})
	}
}

// TestAlreadyAssociatedBelievedOnlyOnceRead: associating a certificate
// that is already an additional one is done; associating the default
// certificate as an additional one is refused (ErrConflict), not reported
// as done.
func TestAlreadyAssociatedBelievedOnlyOnceRead(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			a := p.api(c, lbTestOptions)
			ctx := context.Background()
			def, sni := c.casCert(t, "def", certstest.ECDSA, "a.example.com"), c.casCert(t, "sni", certstest.ECDSA, "b.example.com")
			_, lid := p.seedListener(t, c, def)
			if err := p.seedSNI(c, lbRegion, lid, sni); err != nil {
				t.Fatal(err)
			}
			if err := a.AssociateAdditionalCertificate(ctx, lbRegion, lid, sni); err != nil {
				t.Errorf("associating an associated certificate: %v, want done", err)
			}
			if err := a.AssociateAdditionalCertificate(ctx, lbRegion, lid, def); !errors.Is(err, apierr.ErrConflict) {
				t.Errorf("associating the default as additional: %v, want ErrConflict", err)
			}
			if n := count(p.requests(c), "AssociateAdditionalCertificatesWithListener", "ResourceAlreadyAssociated.Certificate"); n != 2 {
				t.Errorf("%d refusals seen, want 2 (the test must take that path)", n)
			}
		})
	}
}
