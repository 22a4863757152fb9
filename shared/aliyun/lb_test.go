package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
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

func countCode(recs []rpc.Record, code string) int {
	n := 0
	for _, r := range recs {
		if r.Code == code {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// busyOnce answers the first write of action with IncorrectStatus.Listener
// (the listener turned Configuring between the adapter's read and its
// write), as the service words it.
func busyOnce(action string, refused *atomic.Int32) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err == nil && r.Form.Get("Action") == action && refused.Add(1) == 1 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"RequestId":"busy-1","Code":%q,"Message":"The status of the listener [Configuring] is incorrect."}`, codeListenerBusy)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestIncorrectStatusWaitedAndRetried: a write refused with
// IncorrectStatus.Listener is retried once the listener is idle.
func TestIncorrectStatusWaitedAndRetried(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			var refused atomic.Int32
			c := newLBCloud(t, lbCloudOptions{Wrap: busyOnce("UpdateListenerAttribute", &refused)})
			a := p.api(c, lbTestOptions)
			_, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			nw := c.casCert(t, "new", certstest.ECDSA, "a.example.com")
			if err := a.SetDefaultCertificate(context.Background(), lbRegion, lid, nw); err != nil {
				t.Fatalf("SetDefaultCertificate after one IncorrectStatus.Listener: %v", err)
			}
			if refused.Load() != 2 {
				t.Errorf("UpdateListenerAttribute sent %d times, want 2 (refused, then retried)", refused.Load())
			}
			if l, _ := a.GetListener(context.Background(), lbRegion, lid); l.DefaultCertificate != nw {
				t.Errorf("default = %q, want %q", l.DefaultCertificate, nw)
			}
		})
	}
}

// TestIncorrectStatusUntilDeadlineIsTransient: a listener that stays
// Configuring past the ctx deadline ends the write with a transient error.
func TestIncorrectStatusUntilDeadlineIsTransient(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{Configuring: time.Hour})
			a := p.api(c, lbTestOptions)
			_, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			ctx, stop := context.WithCancel(context.Background())
			t.Cleanup(stop)
			// a first write leaves the listener Configuring for an hour
			other := c.casCert(t, "x", certstest.ECDSA, "a.example.com")
			go func() { _ = a.SetDefaultCertificate(ctx, lbRegion, lid, other) }()
			waitFor(t, func() bool { return count(p.requests(c), "UpdateListenerAttribute", "-") == 1 })
			short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			err := a.AssociateAdditionalCertificate(short, lbRegion, lid, c.casCert(t, "y", certstest.ECDSA, "b.example.com"))
			if !errors.Is(err, apierr.ErrTransient) || !strings.Contains(err.Error(), lid) {
				t.Errorf("err = %v; want a transient error naming %s", err, lid)
			}
		})
	}
}

// TestFailedJobNamesTheTarget: a job that ends Failed is an error naming
// the load balancer, the listener and the certificate; nothing changed.
func TestFailedJobNamesTheTarget(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			a := p.api(c, lbTestOptions)
			old := c.casCert(t, "old", certstest.ECDSA, "a.example.com")
			lbID, lid := p.seedListener(t, c, old)
			nw := c.casCert(t, "new", certstest.ECDSA, "a.example.com")
			c.jobs.Set(faults.JobRule{Action: "UpdateListenerAttribute", Next: 1})
			err := a.SetDefaultCertificate(context.Background(), lbRegion, lid, nw)
			var je *JobError
			if !errors.As(err, &je) || je.Status != "Failed" || je.LoadBalancerID != lbID || je.ListenerID != lid || je.CertificateID != nw {
				t.Fatalf("err = %#v; want a *JobError Failed naming %s, %s, %s", err, lbID, lid, nw)
			}
			for _, s := range []string{lbID, lid, nw, "Failed"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%q does not name %s", err, s)
				}
			}
			if !errors.Is(err, apierr.ErrTransient) {
				t.Errorf("a failed job should be transient (rolled back): %v", err)
			}
			if l, _ := a.GetListener(context.Background(), lbRegion, lid); l.DefaultCertificate != old {
				t.Errorf("default = %q after a failed job, want %q", l.DefaultCertificate, old)
			}
		})
	}
}

// TestQuotaRefusalIsErrQuota: an instance's additional certificate quota
// is reported as apierr.ErrQuota, for the use case to decide.
func TestQuotaRefusalIsErrQuota(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{ALBQuotas: map[string]int{"Standard": 1}, NLBQuota: 1})
			a := p.api(c, lbTestOptions)
			_, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			ctx := context.Background()
			if err := a.AssociateAdditionalCertificate(ctx, lbRegion, lid, c.casCert(t, "b", certstest.ECDSA, "b.example.com")); err != nil {
				t.Fatal(err)
			}
			err := a.AssociateAdditionalCertificate(ctx, lbRegion, lid, c.casCert(t, "c", certstest.ECDSA, "c.example.com"))
			if !errors.Is(err, apierr.ErrQuota) {
				t.Errorf("over the quota: %v, want ErrQuota", err)
			}
		})
	}
}

// TestBareCertificateIDNeverSent: a certificate reference without its
// -<casRegion> suffix is refused before any call.
func TestBareCertificateIDNeverSent(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			a := p.api(c, lbTestOptions)
			cur := c.casCert(t, "cur", certstest.ECDSA, "a.example.com")
			_, lid := p.seedListener(t, c, cur)
			bare, _, _ := strings.Cut(cur, "-")
			ctx := context.Background()
			for name, write := range map[string]func() error{
				"default":    func() error { return a.SetDefaultCertificate(ctx, lbRegion, lid, bare) },
				"associate":  func() error { return a.AssociateAdditionalCertificate(ctx, lbRegion, lid, bare) },
				"dissociate": func() error { return a.DissociateAdditionalCertificate(ctx, lbRegion, lid, bare) },
				"no region":  func() error { return a.SetDefaultCertificate(ctx, lbRegion, lid, bare+"-") },
			} {
				if err := write(); !errors.Is(err, apierr.ErrInvalid) || !errors.Is(err, ErrBareCertificateID) {
					t.Errorf("%s with %q: %v, want ErrInvalid and ErrBareCertificateID", name, bare, err)
				}
			}
			if n := len(p.requests(c)); n != 0 {
				t.Errorf("%d calls made with a bare id: %v", n, actions(p.requests(c), 0))
			}
		})
	}
}

// TestLostWriteAnswerNotRepeated: a listener write whose answer is lost
// after it took effect is found in effect (once the listener is idle) and
// not sent again.
func TestLostWriteAnswerNotRepeated(t *testing.T) {
	for _, p := range products {
		for _, action := range []string{"UpdateListenerAttribute", "AssociateAdditionalCertificatesWithListener", "remove"} {
			if action == "remove" {
				action = p.removal
			}
			t.Run(p.name+"/"+action, func(t *testing.T) {
				c := newLBCloud(t, lbCloudOptions{Configuring: 30 * time.Millisecond})
				opts := lbTestOptions
				opts.Timeout = 300 * time.Millisecond // a held answer is given up quickly
				a := p.api(c, opts)
				ctx := context.Background()
				sni := c.casCert(t, "sni", certstest.ECDSA, "b.example.com")
				_, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
				if action == p.removal {
					if err := p.seedSNI(c, lbRegion, lid, sni); err != nil {
						t.Fatal(err)
					}
				}
				nw := c.casCert(t, "new", certstest.ECDSA, "a.example.com")
				c.inj.Set(faults.Rule{Action: action, LostRate: 1})
				var err error
				switch action {
				case "UpdateListenerAttribute":
					err = a.SetDefaultCertificate(ctx, lbRegion, lid, nw)
				case p.removal:
					err = a.DissociateAdditionalCertificate(ctx, lbRegion, lid, sni)
				default:
					err = a.AssociateAdditionalCertificate(ctx, lbRegion, lid, sni)
				}
				if err != nil {
					t.Fatalf("%s with its answer lost: %v", action, err)
				}
				// A held (timed-out) answer is logged only once the emulator
				// sees the client gone, which may come after the adapter's
				// retry found the write in effect: wait for it, then count.
				waitFor(t, func() bool { return count(p.requests(c), action, "-") >= 1 })
				if n := count(p.requests(c), action, "-"); n != 1 {
					t.Errorf("%s sent %d times, want once", action, n)
				}
				list, _ := a.ListListenerCertificates(ctx, lbRegion, lid)
				got := certIDs(list)
				switch action {
				case "UpdateListenerAttribute":
					if got[nw] != "default" {
						t.Errorf("certificates = %v, want %s default", got, nw)
					}
				case p.removal:
					if _, ok := got[sni]; ok {
						t.Errorf("certificates = %v, want %s gone", got, sni)
					}
				default:
					if got[sni] != "Associated" {
						t.Errorf("certificates = %v, want %s Associated", got, sni)
					}
				}
			})
		}
	}
}

// TestListingsPage: every listing follows NextToken with small pages.
func TestListingsPage(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			opts := lbTestOptions
			opts.PageSize = 2
			a := p.api(c, opts)
			ctx := context.Background()
			def := c.casCert(t, "def", certstest.ECDSA, "a.example.com")
			var lid string
			for range 5 {
				_, lid = p.seedListener(t, c, def)
			}
			var extra []string
			for i := range 4 {
				extra = append(extra, c.casCert(t, fmt.Sprintf("sni%d", i), certstest.ECDSA, fmt.Sprintf("s%d.example.com", i)))
			}
			if err := p.seedSNI(c, lbRegion, lid, extra...); err != nil {
				t.Fatal(err)
			}
			lbs, err := a.ListLoadBalancers(ctx, lbRegion)
			if err != nil || len(lbs) != 5 {
				t.Errorf("ListLoadBalancers: %d, %v; want 5", len(lbs), err)
			}
			ls, err := a.ListListeners(ctx, lbRegion)
			if err != nil || len(ls) != 5 {
				t.Errorf("ListListeners: %d, %v; want 5", len(ls), err)
			}
			certs, err := a.ListListenerCertificates(ctx, lbRegion, lid)
			if err != nil || len(certs) != 5 {
				t.Errorf("ListListenerCertificates: %+v, %v; want 5", certs, err)
			}
			recs := p.requests(c)
			for action, want := range map[string]int{"ListLoadBalancers": 3, "ListListeners": 3, "ListListenerCertificates": 3} {
				if n := count(recs, action, "-"); n != want {
					t.Errorf("%s called %d times for pages of 2, want %d", action, n, want)
				}
			}
		})
	}
}

// TestListingOnlyCertificateListeners: ALB lists HTTPS and QUIC, NLB
// TCPSSL; plain HTTP, TCP and UDP listeners carry no certificate.
func TestListingOnlyCertificateListeners(t *testing.T) {
	c := newLBCloud(t, lbCloudOptions{})
	ctx := context.Background()
	def := c.casCert(t, "def", certstest.ECDSA, "a.example.com")
	albLB, _ := c.alb.SeedLoadBalancer(lbRegion, "a", "")
	for port, proto := range map[int]string{80: "HTTP", 443: "HTTPS", 444: "QUIC"} {
		cert := def
		if proto == "HTTP" {
			cert = ""
		}
		if _, err := c.alb.SeedListener(lbRegion, albLB, port, proto, cert); err != nil {
			t.Fatal(err)
		}
	}
	nlbLB, _ := c.nlb.SeedLoadBalancer(lbRegion, "n")
	for port, proto := range map[int]string{80: "TCP", 443: "TCPSSL", 53: "UDP"} {
		cert := def
		if proto != "TCPSSL" {
			cert = ""
		}
		if _, err := c.nlb.SeedListener(lbRegion, nlbLB, port, proto, cert); err != nil {
			t.Fatal(err)
		}
	}
	for name, a := range map[string]listenerAPI{"alb": c.newALB(lbTestOptions), "nlb": c.newNLB(lbTestOptions)} {
		ls, err := a.ListListeners(ctx, lbRegion)
		var protos []string
		for _, l := range ls {
			protos = append(protos, l.Protocol)
		}
		slices.Sort(protos)
		want := map[string]string{"alb": "[HTTPS QUIC]", "nlb": "[TCPSSL]"}[name]
		if err != nil || fmt.Sprint(protos) != want {
			t.Errorf("%s ListListeners protocols = %v, %v; want %s", name, protos, err, want)
		}
	}
}

// TestThrottlingRetried: throttled listings and writes are retried until
// they pass.
func TestThrottlingRetried(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			a := p.api(c, lbTestOptions)
			ctx := context.Background()
			_, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			nw := c.casCert(t, "new", certstest.ECDSA, "a.example.com")
			c.inj.Set(faults.Rule{ThrottleRate: 0.5})
			for range 5 {
				if _, err := a.ListListeners(ctx, lbRegion); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.SetDefaultCertificate(ctx, lbRegion, lid, nw); err != nil {
				t.Fatal(err)
			}
			throttled := countCode(p.requests(c), "Throttling")
			if throttled == 0 {
				t.Fatal("nothing was throttled: the test proves nothing")
			}
			c.inj.Clear()
			if l, err := a.GetListener(ctx, lbRegion, lid); err != nil || l.DefaultCertificate != nw {
				t.Errorf("after %d throttled calls: %+v, %v", throttled, l, err)
			}
		})
	}
}

// TestEndpointOverrideAndOfficialHosts: "{region}" in an override, the
// official hosts otherwise.
func TestEndpointOverrideAndOfficialHosts(t *testing.T) {
	a := NewALB(stsCreds(), RPCOptions{})
	n := NewNLB(stsCreds(), RPCOptions{})
	cs := NewCAS(stsCreds(), RPCOptions{})
	for got, want := range map[string]string{
		a.api.official("cn-zhangjiakou"):     "alb.cn-zhangjiakou.aliyuncs.com",
		n.api.official("ap-southeast-1"):     "nlb.ap-southeast-1.aliyuncs.com",
		cs.api.official(CASChinaRegion):      "cas.aliyuncs.com",
		cs.api.official(CASIntlRegion):       "cas.ap-southeast-1.aliyuncs.com",
		CASRegion("cn-zhangjiakou"):          "cn-hangzhou",
		CASRegion("ap-northeast-1"):          "ap-southeast-1",
		CASRegion("eu-central-1"):            "ap-southeast-1",
		CASIdentity(24664588, "cn-hangzhou"): "24664588-cn-hangzhou",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	bad := NewALB(stsCreds(), RPCOptions{Endpoint: "ftp://x"})
	if _, err := bad.ListLoadBalancers(context.Background(), lbRegion); !errors.Is(err, apierr.ErrInvalid) {
		t.Errorf("unusable endpoint: %v, want ErrInvalid", err)
	}
}

// TestJobStillRunningAtDeadlineNamesTheTarget: a job not ended when the
// ctx ends is a transient *JobError naming the target and the job.
func TestJobStillRunningAtDeadlineNamesTheTarget(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{Configuring: time.Hour})
			a := p.api(c, lbTestOptions)
			lbID, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			nw := c.casCert(t, "new", certstest.ECDSA, "a.example.com")
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			err := a.SetDefaultCertificate(ctx, lbRegion, lid, nw)
			var je *JobError
			if !errors.As(err, &je) || je.Status != "Processing" || je.JobID == "" || je.LoadBalancerID != lbID ||
				!errors.Is(err, apierr.ErrTransient) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v; want a transient *JobError still Processing naming %s", err, lbID)
			}
			if !strings.Contains(err.Error(), "still Processing") || !strings.Contains(err.Error(), nw) {
				t.Errorf("message %q", err)
			}
		})
	}
}

// TestClassifyLoadBalancerAndCASCodes: the ALB, NLB and CAS refusals the
// use cases decide on answer the right apierr kind.
func TestClassifyLoadBalancerAndCASCodes(t *testing.T) {
	for _, tc := range []struct {
		code   string
		status int
		want   error
	}{
		{"QuotaExceeded.LoadBalancerCertificatesNum", 400, apierr.ErrQuota},
		{"ResourceNotFound.Certificate", 400, apierr.ErrNotFound},
		{"ResourceNotFound.listener", 404, apierr.ErrNotFound},
		{"CertificateNotFound", 400, apierr.ErrNotFound},
		{"ResourceAlreadyAssociated.Certificate", 400, apierr.ErrConflict},
		{"ResourceAlreadyExist.Listener", 400, apierr.ErrConflict},
		{"Conflict.Port", 400, apierr.ErrConflict},
		{"CertificateInUse", 400, apierr.ErrConflict},
		{"NameRepeat", 400, apierr.ErrConflict},
		{"ResourceNotAssociated.Certificate", 400, apierr.ErrInvalid},
		{"InvalidParameter", 400, apierr.ErrInvalid},
		{"Throttling.User", 400, apierr.ErrTransient},
		{"ServiceUnavailable", 503, apierr.ErrTransient},
	} {
		if got := classify(tc.code, "", tc.status); got != tc.want {
			t.Errorf("%s (%d): %v, want %v", tc.code, tc.status, got, tc.want)
		}
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
