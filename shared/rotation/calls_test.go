package rotation_test

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// TestRotateCallCounts pins the exact API calls per action of a rotation,
// so that a regression (a second inventory, a describe per target) fails.
// keep is 0 so that every case also deletes the superseded certificate.
//
// Before the batching (for the record): one listener 13 calls (3
// DescribeServerCertificates, 2 DescribeLoadBalancers, 2
// DescribeLoadBalancerListeners, 2 DescribeDomainExtensions, 1
// DescribeLoadBalancerHTTPSListenerAttribute, upload, set, delete); 50
// listeners on 5 load balancers 209 (100 DescribeDomainExtensions, 50
// DescribeLoadBalancerHTTPSListenerAttribute).
func TestRotateCallCounts(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, w *world) string // returns the pair name
		targets int
		want    map[string]int
	}{
		{
			name: "one listener",
			setup: func(t *testing.T, w *world) string {
				old := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, old)
				w.putPair("www", issue(t, "www.example.com"))
				return "www"
			},
			targets: 1,
			want: map[string]int{
				"DescribeServerCertificates":            2, // plan, after the upload (also cleanup's)
				"DescribeLoadBalancers":                 1,
				"DescribeLoadBalancerListeners":         2, // discovery, verification
				"DescribeDomainExtensions":              1, // discovery
				"UploadServerCertificate":               1,
				"SetLoadBalancerHTTPSListenerAttribute": 1,
				"DeleteServerCertificate":               1,
			},
		},
		{
			name: "50 listeners on 5 load balancers with discovery",
			setup: func(t *testing.T, w *world) string {
				old := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
				for i := range 5 {
					lb := fmt.Sprintf("lb-%d", i)
					w.lb(zjk, lb, fmt.Sprintf("127.0.0.%d", 2+i))
					for p := range 10 {
						w.listener(zjk, lb, 443+p, old)
					}
				}
				w.putPair("www", issue(t, "www.example.com"))
				return "www"
			},
			targets: 50,
			want: map[string]int{
				"DescribeServerCertificates":            2,
				"DescribeLoadBalancers":                 1,
				"DescribeLoadBalancerListeners":         2, // 5 ids: one call each for discovery and verification
				"DescribeDomainExtensions":              50,
				"UploadServerCertificate":               1,
				"SetLoadBalancerHTTPSListenerAttribute": 50,
				"DeleteServerCertificate":               1,
			},
		},
		{
			name: "12 load balancers: listener listings by 10 ids",
			setup: func(t *testing.T, w *world) string {
				old := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
				for i := range 12 {
					lb := fmt.Sprintf("lb-%02d", i)
					w.lb(zjk, lb, fmt.Sprintf("127.0.0.%d", 2+i))
					w.listener(zjk, lb, 443, old)
				}
				w.putPair("www", issue(t, "www.example.com"))
				return "www"
			},
			targets: 12,
			want: map[string]int{
				"DescribeServerCertificates":            2,
				"DescribeLoadBalancers":                 1,
				"DescribeLoadBalancerListeners":         4, // 2 for discovery, 2 for verification
				"DescribeDomainExtensions":              12,
				"UploadServerCertificate":               1,
				"SetLoadBalancerHTTPSListenerAttribute": 12,
				"DeleteServerCertificate":               1,
			},
		},
		{
			name: "SNI extension verified with one extension listing",
			setup: func(t *testing.T, w *world) string {
				www := w.seedCert(t, zjk, "www", issue(t, "www.example.com"), false)
				old := w.seedCert(t, zjk, oldName("api"), issue(t, "api.example.com"), true)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, www)
				w.slb.AddExtension(clb.DomainExtension{ID: "de-api", Region: zjk, LoadBalancerID: "lb-1", ListenerPort: 443, Domain: "api.example.com", ServerCertificateID: old})
				w.putPair("api", issue(t, "api.example.com"))
				return "api"
			},
			targets: 1,
			want: map[string]int{
				"DescribeServerCertificates":    2,
				"DescribeLoadBalancers":         1,
				"DescribeLoadBalancerListeners": 1, // discovery only: no listener target
				"DescribeDomainExtensions":      2, // discovery, verification
				"UploadServerCertificate":       1,
				"SetDomainExtensionAttribute":   1,
				"DeleteServerCertificate":       1,
			},
		},
		{
			name: "explicit target only: cleanup inventories the region",
			setup: func(t *testing.T, w *world) string {
				old := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
				other := w.seedCert(t, zjk, "other", issue(t, "other.example.org"), false)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, old)
				w.listener(zjk, "lb-1", 8443, other)
				w.objs.Put(bucket, "certs/www/deploy.yaml", []byte("targets:\n  - {region: cn-zhangjiakou, loadBalancerId: lb-1, listenerPort: 443}\n"))
				w.putPair("www", issue(t, "www.example.com"))
				return "www"
			},
			targets: 1,
			want: map[string]int{
				"DescribeServerCertificates":                 2,
				"DescribeLoadBalancers":                      2, // plan, cleanup
				"DescribeLoadBalancerHTTPSListenerAttribute": 1, // the explicit target exists
				"DescribeLoadBalancerListeners":              2, // verification, cleanup
				"DescribeDomainExtensions":                   2, // cleanup: both listeners
				"UploadServerCertificate":                    1,
				"SetLoadBalancerHTTPSListenerAttribute":      1,
				"DeleteServerCertificate":                    1,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.r.Config.Keep = 0
			name := tt.setup(t, w)
			w.slb.ResetCalls()
			res, err := w.r.RotateName(context.Background(), w.now, bucket, name)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != rotation.StatusRotated || len(res.Targets) != tt.targets || len(res.Errors) != 0 {
				t.Fatalf("status %s, %d targets (want %d), errors %v", res.Status, len(res.Targets), tt.targets, res.Errors)
			}
			for _, tr := range res.Targets {
				if tr.Verified != rotation.VerifiedTLS || tr.RolledBack {
					t.Errorf("target %+v: want verified tls", tr)
				}
			}
			if len(res.Deleted) != 1 || !strings.HasPrefix(res.Deleted[0].Name, name+"-2020") {
				t.Errorf("deleted %+v; want the superseded %s certificate", res.Deleted, name)
			}
			if got := w.slb.CallCounts(); !maps.Equal(got, tt.want) {
				t.Errorf("calls\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestCleanupReferencesFromInventory: with discovery, cleanup takes the
// references from the inventory and the rotation's outcomes (no second
// inventory) and still never deletes a referenced certificate.
func TestCleanupReferencesFromInventory(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, w *world)
		check func(t *testing.T, w *world, res rotation.Result)
	}{
		{
			name: "rolled-back target keeps its previous certificate",
			setup: func(t *testing.T, w *world) {
				old := issue(t, "www.example.com")
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, oldName("www"), old, true))
				w.prober.Stale = map[string]string{"127.0.0.2:443": old.FingerprintSHA1}
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if len(res.Targets) != 1 || !res.Targets[0].RolledBack {
					t.Fatalf("targets %+v", res.Targets)
				}
				if from := res.Targets[0].From; w.slb.ListenerCertificate(zjk, "lb-1", 443) != from || !hasCert(w, from) {
					t.Errorf("listener on %s; previous certificate %s present: %v", w.slb.ListenerCertificate(zjk, "lb-1", 443), from, hasCert(w, from))
				}
				if n := w.slb.Calls("DeleteServerCertificate"); n != 0 || len(res.Deleted) != 0 || len(res.Kept) != 0 {
					t.Errorf("deletes %d, deleted %+v, kept %+v", n, res.Deleted, res.Kept)
				}
				// The rollback is verified through the API: one more listing.
				if n := w.slb.Calls("DescribeLoadBalancerListeners"); n != 3 {
					t.Errorf("DescribeLoadBalancerListeners x%d; want 3 (discovery, verification, rollback verification)", n)
				}
			},
		},
		{
			name: "certificates of untouched listeners and extensions stay",
			setup: func(t *testing.T, w *world) {
				old := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
				// Ours by name and tag, superseded, but serving a domain the
				// new certificate does not cover: not a target, referenced.
				other := w.seedCert(t, zjk, "www-20210101-0badf00d", issue(t, "other.example.org"), true)
				ext := w.seedCert(t, zjk, "www-20220101-0badcafe", issue(t, "shop.example.org"), true)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.lb(zjk, "lb-2", "127.0.0.3")
				w.listener(zjk, "lb-1", 443, old)
				w.listener(zjk, "lb-2", 8443, other)
				w.slb.AddExtension(clb.DomainExtension{ID: "de-shop", Region: zjk, LoadBalancerID: "lb-2", ListenerPort: 8443, Domain: "shop.example.org", ServerCertificateID: ext})
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated || len(res.Targets) != 1 || len(res.Errors) != 0 {
					t.Fatalf("status %s targets %+v errors %v", res.Status, res.Targets, res.Errors)
				}
				if len(res.Deleted) != 1 || res.Deleted[0].Name != oldName("www") {
					t.Errorf("deleted %+v; want only %s", res.Deleted, oldName("www"))
				}
				if n := w.slb.Calls("DeleteServerCertificate"); n != 1 {
					t.Errorf("DeleteServerCertificate x%d; want 1 (referenced ones are not even tried)", n)
				}
			},
		},
		{
			name: "a switch the API does not reflect keeps both certificates",
			setup: func(t *testing.T, w *world) {
				w.r.SLB = &ignoringSLB{SLB: w.slb}
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true))
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if len(res.Targets) != 1 || res.Targets[0].Verified != "" || res.Status != rotation.StatusRejected {
					t.Fatalf("status %s targets %+v", res.Status, res.Targets)
				}
				if !strings.Contains(strings.Join(res.Errors, "\n"), "the API reports certificate") {
					t.Errorf("errors %v", res.Errors)
				}
				if w.slb.Calls("DeleteServerCertificate") != 0 || len(res.Deleted) != 0 {
					t.Errorf("deleted %+v", res.Deleted)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.r.Config.Keep = 0
			tt.setup(t, w)
			w.putPair("www", issue(t, "www.example.com"))
			res := w.rotate(t, "certs/www/fullchain.pem")
			tt.check(t, w, res)
			assertNoSecrets(t, res)
		})
	}
}

// TestCleanupConflictIsKept: a certificate attached by someone else after
// the inventory is refused by the API (ErrConflict): kept, reported as
// in-use, not an error, and not retried.
func TestCleanupConflictIsKept(t *testing.T) {
	w := newWorld(t)
	w.r.Config.Keep = 0
	att := &attachingSLB{SLB: w.slb}
	w.r.SLB = att
	oldID := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.lb(zjk, "lb-2", "127.0.0.3")
	w.listener(zjk, "lb-1", 443, oldID)
	w.putPair("www", issue(t, "www.example.com"))

	res := w.rotate(t, "certs/www/fullchain.pem")
	if res.Status != rotation.StatusRotated || len(res.Errors) != 0 {
		t.Fatalf("status %s errors %v", res.Status, res.Errors)
	}
	if len(res.Deleted) != 0 || len(res.Kept) != 1 || res.Kept[0].ServerCertificateID != oldID || res.Kept[0].Reason != rotation.KeptInUse {
		t.Errorf("deleted %+v kept %+v; want %s kept in-use", res.Deleted, res.Kept, oldID)
	}
	if n := w.slb.Calls("DeleteServerCertificate"); n != 1 || !hasCert(w, oldID) {
		t.Errorf("DeleteServerCertificate x%d (want 1, no retry); certificate present: %v", n, hasCert(w, oldID))
	}
}

func hasCert(w *world, id string) bool {
	for _, c := range w.slb.Certificates(zjk) {
		if c.ID == id {
			return true
		}
	}
	return false
}

// attachingSLB attaches a certificate to lb-2:8443 just before it is
// deleted (someone else used it after the rotation's inventory).
type attachingSLB struct {
	*clbtest.SLB
	once sync.Once
}

func (a *attachingSLB) DeleteServerCertificate(ctx context.Context, region, id string) error {
	a.once.Do(func() {
		a.SLB.AddListener(clb.Listener{Region: region, LoadBalancerID: "lb-2", Port: 8443, ServerCertificateID: id})
	})
	return a.SLB.DeleteServerCertificate(ctx, region, id)
}

// ignoringSLB accepts listener switches without applying them.
type ignoringSLB struct {
	*clbtest.SLB
}

func (ignoringSLB) SetListenerCertificate(context.Context, string, string, int, string) error {
	return nil
}
