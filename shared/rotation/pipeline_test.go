package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// orderedSLB makes calls wait for events of the rotation, so that a test
// can require an overlap: a call that waits for an event that, without the
// overlap, only comes after it, times out (and says so).
type orderedSLB struct {
	*clbtest.SLB
	mu       sync.Mutex
	switched chan struct{} // closed at the first accepted switch
	verified chan struct{} // closed at the first verification listing
	lists    int           // ListHTTPSListeners calls (the first is discovery)
	timeouts []string
	// holdExt: the extension listing of this port waits for a switch;
	// failExt then fails it (transient).
	holdExt int
	failExt bool
	// holdSet: the switch of this load balancer waits for a verification
	// listing.
	holdSet string
}

func newOrderedSLB(s *clbtest.SLB) *orderedSLB {
	return &orderedSLB{SLB: s, switched: make(chan struct{}), verified: make(chan struct{})}
}

func (o *orderedSLB) wait(ch chan struct{}, what string) {
	select {
	case <-ch:
	case <-time.After(3 * time.Second):
		o.mu.Lock()
		o.timeouts = append(o.timeouts, what)
		o.mu.Unlock()
	}
}

func (o *orderedSLB) ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error) {
	if port == o.holdExt {
		o.wait(o.switched, fmt.Sprintf("extension listing of %s:%d waited for a switch", lbID, port))
		if o.failExt {
			return nil, fmt.Errorf("fake: connection reset: %w", apierr.ErrTransient)
		}
	}
	return o.SLB.ListDomainExtensions(ctx, region, lbID, port)
}

func (o *orderedSLB) ListHTTPSListeners(ctx context.Context, region string, lbIDs []string) ([]clb.Listener, error) {
	o.mu.Lock()
	o.lists++
	if o.lists == 2 {
		close(o.verified)
	}
	o.mu.Unlock()
	return o.SLB.ListHTTPSListeners(ctx, region, lbIDs)
}

func (o *orderedSLB) SetListenerCertificate(ctx context.Context, region, lbID string, port int, certID string) error {
	if lbID == o.holdSet {
		o.wait(o.verified, "switch of "+lbID+" waited for a verification listing")
	}
	err := o.SLB.SetListenerCertificate(ctx, region, lbID, port, certID)
	if err == nil {
		o.mu.Lock()
		select {
		case <-o.switched:
		default:
			close(o.switched)
		}
		o.mu.Unlock()
	}
	return err
}

func (o *orderedSLB) timedOut() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.timeouts...)
}

// TestPipelineOverlaps: a listener default target is switched while the
// extension listing of another listener is still running, and the
// verification of the first 10 load balancers runs while a later load
// balancer is still to be switched. Both waits time out (and the test
// fails) when the phases run one after the other.
func TestPipelineOverlaps(t *testing.T) {
	tests := []struct {
		name    string
		lbs     int
		ports   int
		holdExt int
		holdSet string
	}{
		{name: "default targets do not wait for extension discovery", lbs: 1, ports: 3, holdExt: 445},
		{name: "verification of early targets overlaps later switches", lbs: 12, ports: 1, holdSet: "lb-11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			o := newOrderedSLB(w.slb)
			o.holdExt, o.holdSet = tt.holdExt, tt.holdSet
			w.r.SLB = o
			old := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
			for i := range tt.lbs {
				lb := fmt.Sprintf("lb-%02d", i)
				if tt.lbs == 1 {
					lb = "lb-1"
				}
				w.lb(zjk, lb, fmt.Sprintf("127.0.0.%d", 2+i))
				for p := range tt.ports {
					w.listener(zjk, lb, 443+p, old)
				}
			}
			w.putPair("www", issue(t, "www.example.com"))
			res := w.rotate(t, "certs/www/fullchain.pem")
			if res.Status != rotation.StatusRotated || len(res.Targets) != tt.lbs*tt.ports {
				t.Fatalf("status %s reason %q targets %d errors %v", res.Status, res.Reason, len(res.Targets), res.Errors)
			}
			if to := o.timedOut(); len(to) > 0 {
				t.Errorf("phases did not overlap: %v", to)
			}
		})
	}
}

// TestNothingSwitchedBeforeEveryRegionIsReady: a region whose targets are
// all known at once still waits for the other region: an unknown explicit
// target there, or a quota refusal of the upload there, leaves every
// target untouched in both regions.
func TestNothingSwitchedBeforeEveryRegionIsReady(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, w *world)
		reason string
	}{
		{
			name: "unknown explicit target in the other region",
			setup: func(t *testing.T, w *world) {
				w.objs.Put(bucket, "certs/www/deploy.yaml", []byte("discover: true\ntargets:\n  - {region: cn-hangzhou, loadBalancerId: lb-h, listenerPort: 8443}\n"))
			},
			reason: "cn-hangzhou/lb-h:8443",
		},
		{
			name: "quota refusal in the other region",
			setup: func(t *testing.T, w *world) {
				w.slb.Quota = 2
				w.seedCert(t, hz, "unrelated", issue(t, "other.example.org"), false) // hangzhou is full
			},
			reason: "quota",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, zjk, hz)
			for _, reg := range []string{zjk, hz} {
				lb := map[string]string{zjk: "lb-z", hz: "lb-h"}[reg]
				w.lb(reg, lb, map[string]string{zjk: "127.0.0.2", hz: "127.0.0.3"}[reg])
				w.listener(reg, lb, 443, w.seedCert(t, reg, oldName("www"), issue(t, "www.example.com"), true))
			}
			tt.setup(t, w)
			w.putPair("www", issue(t, "www.example.com"))
			res := w.rotate(t, "certs/www/fullchain.pem")
			if res.Status != rotation.StatusRejected || !strings.Contains(res.Reason, tt.reason) || len(res.Targets) != 0 {
				t.Fatalf("status %s reason %q targets %+v; want rejected naming %q", res.Status, res.Reason, res.Targets, tt.reason)
			}
			if n := w.slb.Calls("SetLoadBalancerHTTPSListenerAttribute"); n != 0 {
				t.Errorf("%d switches; want none", n)
			}
			for _, reg := range []string{zjk, hz} {
				lb := map[string]string{zjk: "lb-z", hz: "lb-h"}[reg]
				if got := w.slb.ListenerCertificate(reg, lb, 443); !strings.HasPrefix(certName(w, reg, got), "www-2020") {
					t.Errorf("%s listener moved to %s", reg, got)
				}
			}
		})
	}
}

func certName(w *world, region, id string) string {
	for _, c := range w.slb.Certificates(region) {
		if c.ID == id {
			return c.Name
		}
	}
	return ""
}

// TestDiscoveryFailureAfterSwitchesIsPartial: an extension listing that
// fails after the first switches leaves a partial rotation that names the
// listing, returns a transient error, deletes nothing (the inventory is
// incomplete), and the retry completes it.
func TestDiscoveryFailureAfterSwitchesIsPartial(t *testing.T) {
	w := newWorld(t)
	w.r.Config.Keep = 0
	o := newOrderedSLB(w.slb)
	o.holdExt, o.failExt = 445, true
	w.r.SLB = o
	old := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
	w.lb(zjk, "lb-1", "127.0.0.2")
	for p := 443; p <= 445; p++ {
		w.listener(zjk, "lb-1", p, old)
	}
	w.slb.AddExtension(clb.DomainExtension{ID: "de-www", Region: zjk, LoadBalancerID: "lb-1", ListenerPort: 445, Domain: "www.example.com", ServerCertificateID: old})
	w.putPair("www", issue(t, "www.example.com"))

	res, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Key: "certs/www/fullchain.pem"})
	if !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err = %v; want transient (FC retries)", err)
	}
	if res.Status != rotation.StatusPartial || !strings.Contains(res.Reason, "discovery did not finish") || !strings.Contains(res.Reason, "lb-1:445") {
		t.Errorf("status %s reason %q; want partial naming the listing of lb-1:445", res.Status, res.Reason)
	}
	if len(res.Targets) != 3 || w.slb.ExtensionCertificate("de-www") != old {
		t.Errorf("targets %+v, extension on %s; want the 3 listeners switched, the extension untouched", res.Targets, w.slb.ExtensionCertificate("de-www"))
	}
	if len(res.Deleted) != 0 || w.slb.Calls("DeleteServerCertificate") != 0 {
		t.Errorf("deleted %+v with an incomplete inventory", res.Deleted)
	}
	if to := o.timedOut(); len(to) > 0 {
		t.Errorf("the failing listing did not come after a switch: %v", to)
	}

	o.holdExt = 0 // the retry
	res = w.rotate(t, "certs/www/fullchain.pem")
	if res.Status != rotation.StatusRotated || w.slb.ExtensionCertificate("de-www") != res.Regions[zjk].ServerCertificateID {
		t.Fatalf("retry: status %s reason %q targets %+v", res.Status, res.Reason, res.Targets)
	}
	if len(res.Deleted) != 1 {
		t.Errorf("retry deleted %+v; want the superseded certificate", res.Deleted)
	}
}
