package rotation_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// TestHonestOutcomes: a rotation never reports better than what the fleet
// serves. A target left not serving the new certificate fails the rotation
// and comes first in the result; a mix of served and not served is partial;
// a transient failure on the way is failed, never rotated.
func TestHonestOutcomes(t *testing.T) {
	refuseRollback := func(w *world) {
		var sets atomic.Int32
		w.slb.Fail = func(action string) error {
			if action == "SetLoadBalancerHTTPSListenerAttribute" && sets.Add(1) > 1 {
				return apierr.ErrAccessDenied // the switch passes, the rollback is refused
			}
			return nil
		}
	}
	tests := []struct {
		name       string
		setup      func(t *testing.T, w *world) string
		wantStatus rotation.Status
		wantErr    error // nil: no error
		wantFirst  string
		wantReason string
	}{
		{
			name: "rollback refused",
			setup: func(t *testing.T, w *world) string {
				old := issue(t, "www.example.com")
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", old, false))
				w.prober.Stale = map[string]string{"127.0.0.2:443": old.FingerprintSHA1}
				refuseRollback(w)
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			wantStatus: rotation.StatusFailed, wantErr: rotation.ErrNotServed,
			wantFirst: rotation.StateNotServed, wantReason: "cn-zhangjiakou/lb-1:443: not-served",
		},
		{
			name: "no previous certificate to roll back to",
			setup: func(t *testing.T, w *world) string {
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, "")
				w.prober.Stale = map[string]string{"127.0.0.2:443": issue(t, "www.example.com").FingerprintSHA1}
				w.objs.Put(bucket, "certs/www/deploy.yaml", []byte("targets:\n  - {region: cn-zhangjiakou, loadBalancerId: lb-1, listenerPort: 443}\n"))
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			wantStatus: rotation.StatusFailed, wantErr: rotation.ErrNotServed,
			wantFirst: rotation.StateNotServed, wantReason: "cn-zhangjiakou/lb-1:443: not-served",
		},
		{
			name: "already on the new certificate but not served",
			setup: func(t *testing.T, w *world) string {
				old, p := issue(t, "www.example.com"), issue(t, "www.example.com")
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "new", p, true))
				w.prober.Stale = map[string]string{"127.0.0.2:443": old.FingerprintSHA1}
				w.putPair("www", p)
				return "certs/www/fullchain.pem"
			},
			wantStatus: rotation.StatusFailed, wantErr: rotation.ErrNotServed,
			wantFirst: rotation.StateNotServed, wantReason: "1 of 1 targets",
		},
		{
			name: "one target served, one rolled back",
			setup: func(t *testing.T, w *world) string {
				old := issue(t, "www.example.com")
				oldID := w.seedCert(t, zjk, "old", old, false)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.lb(zjk, "lb-2", "127.0.0.3")
				w.listener(zjk, "lb-1", 443, oldID)
				w.listener(zjk, "lb-2", 443, oldID)
				w.prober.Stale = map[string]string{"127.0.0.3:443": old.FingerprintSHA1}
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			wantStatus: rotation.StatusPartial,
			wantFirst:  rotation.StateRolledBack, wantReason: "first cn-zhangjiakou/lb-2:443: rolled-back",
		},
		{
			name: "transient failure while reading the pair",
			setup: func(t *testing.T, w *world) string {
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
				w.putPair("www", issue(t, "www.example.com"))
				w.objs.Err = errors.New("oss: 503 ServiceUnavailable: " + apierr.ErrTransient.Error())
				return "certs/www/fullchain.pem"
			},
			wantStatus: rotation.StatusFailed, wantErr: errors.New("any"),
		},
		{
			name: "transient failure while planning",
			setup: func(t *testing.T, w *world) string {
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
				w.putPair("www", issue(t, "www.example.com"))
				w.slb.Fail = func(action string) error {
					if action == "DescribeLoadBalancers" {
						return apierr.ErrTransient
					}
					return nil
				}
				return "certs/www/fullchain.pem"
			},
			wantStatus: rotation.StatusFailed, wantErr: apierr.ErrTransient,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			key := tt.setup(t, w)
			res, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Key: key})
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Rotate: %v", err)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("Rotate: nil error, want one (status %s)", res.Status)
			case tt.wantErr != nil && tt.wantErr.Error() != "any" && !errors.Is(err, tt.wantErr):
				t.Errorf("Rotate error %v; want one that Is %v", err, tt.wantErr)
			}
			if res.Status != tt.wantStatus || res.Status.Success() != (tt.wantStatus.Success()) {
				t.Fatalf("status %s (%s); want %s; targets %+v", res.Status, res.Reason, tt.wantStatus, res.Targets)
			}
			if tt.wantFirst != "" {
				first := res.Targets[0]
				if first.State != tt.wantFirst || first.Verified != "" {
					t.Errorf("first target %+v; want state %s, not verified", first, tt.wantFirst)
				}
			}
			if !strings.Contains(res.Reason, tt.wantReason) {
				t.Errorf("reason %q; want it to contain %q", res.Reason, tt.wantReason)
			}
			for _, tr := range res.Targets {
				if tr.State == "" || (tr.Verified != "") != (tr.State == rotation.StateServing) {
					t.Errorf("target %+v: verified must be set exactly when serving", tr)
				}
			}
		})
	}
}
