package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

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
