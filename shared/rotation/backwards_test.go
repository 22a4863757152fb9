package rotation_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// TestNeverRotateBackwards: no target, discovered or named in deploy.yaml,
// moves to a certificate that expires earlier than the one it serves,
// unless deploy.yaml says force: true; a skipped place is reported with
// both expiries.
func TestNeverRotateBackwards(t *testing.T) {
	const explicit = "targets:\n  - {region: cn-zhangjiakou, loadBalancerId: lb-1, listenerPort: 443}\n"
	tests := []struct {
		name        string
		deploy      string // "" = no deploy.yaml
		twoLBs      bool   // lb-2 serves an older certificate than the pair
		wantStatus  rotation.Status
		wantMoved   bool // lb-1 moved to the pair
		wantSkipped int
	}{
		{name: "discovered target serving a later certificate", wantStatus: rotation.StatusUnchanged, wantSkipped: 1},
		{name: "explicit target serving a later certificate", deploy: explicit, wantStatus: rotation.StatusUnchanged, wantSkipped: 1},
		{name: "explicit target with force", deploy: explicit + "force: true\n", wantStatus: rotation.StatusRotated, wantMoved: true},
		{name: "discovered target with force", deploy: "force: true\n", wantStatus: rotation.StatusRotated, wantMoved: true},
		{name: "older target moves, later one stays", twoLBs: true, wantStatus: rotation.StatusRotated, wantSkipped: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			start := w.now.Add(-time.Hour)
			at := func(days int) certstest.Pair {
				return testCA.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, Chain: true, NotBefore: start, NotAfter: start.AddDate(0, 0, days)})
			}
			later, pair, older := at(120), at(90), at(60)
			laterID := w.seedCert(t, zjk, "later", later, false)
			w.lb(zjk, "lb-1", "127.0.0.2")
			w.listener(zjk, "lb-1", 443, laterID)
			var olderID string
			if tt.twoLBs {
				olderID = w.seedCert(t, zjk, "older", older, false)
				w.lb(zjk, "lb-2", "127.0.0.3")
				w.listener(zjk, "lb-2", 443, olderID)
			}
			if tt.deploy != "" {
				w.objs.Put(bucket, "certs/www/deploy.yaml", []byte(tt.deploy))
			}
			w.putPair("www", pair)
			res := w.rotate(t, "certs/www/fullchain.pem")
			if res.Status != tt.wantStatus {
				t.Fatalf("status %s (%s); want %s", res.Status, res.Reason, tt.wantStatus)
			}
			if moved := w.slb.ListenerCertificate(zjk, "lb-1", 443) != laterID; moved != tt.wantMoved {
				t.Errorf("lb-1 moved = %v; want %v", moved, tt.wantMoved)
			}
			if tt.twoLBs && w.slb.ListenerCertificate(zjk, "lb-2", 443) == olderID {
				t.Errorf("lb-2 still on the older certificate")
			}
			if len(res.Skipped) != tt.wantSkipped {
				t.Fatalf("skipped %+v; want %d", res.Skipped, tt.wantSkipped)
			}
			if tt.wantSkipped == 0 {
				return
			}
			sk := res.Skipped[0]
			if sk.LoadBalancerID != "lb-1" || sk.Serving != laterID || !sk.ServingNotAfter.Equal(later.Leaf.NotAfter.UTC()) {
				t.Errorf("skipped %+v", sk)
			}
			reason := sk.Reason
			if res.Status == rotation.StatusUnchanged {
				reason = res.Reason // the result's reason says why nothing moved
			}
			for _, want := range []string{"not rotated backwards", "lb-1", later.Leaf.NotAfter.UTC().Format("2006-01-02 15:04"),
				pair.Leaf.NotAfter.UTC().Format("2006-01-02 15:04"), "force: true"} {
				if !strings.Contains(reason, want) {
					t.Errorf("reason %q lacks %q", reason, want)
				}
			}
			if strings.Contains(reason, "no listener or domain extension serves these domains") {
				t.Errorf("reason %q says nothing serves the domains", reason)
			}
		})
	}
}

// TestPinnedPlacesAreLeftAlone: discovery leaves a place pinned by another
// pair's deploy.yaml (Config.Pinned, set by the expiry sweep) to that pair.
func TestPinnedPlacesAreLeftAlone(t *testing.T) {
	w := newWorld(t)
	oldID := w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.lb(zjk, "lb-2", "127.0.0.3")
	w.listener(zjk, "lb-1", 443, oldID)
	w.listener(zjk, "lb-2", 443, oldID)
	w.r.Config.Pinned = []clb.Target{{Region: zjk, LoadBalancerID: "lb-1", ListenerPort: 443}}
	w.putPair("www", issue(t, "www.example.com"))
	res := w.rotate(t, "certs/www/fullchain.pem")
	if res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].LoadBalancerID != "lb-2" {
		t.Fatalf("status %s targets %+v; want only lb-2", res.Status, res.Targets)
	}
	if w.slb.ListenerCertificate(zjk, "lb-1", 443) != oldID {
		t.Errorf("the pinned lb-1 was moved")
	}
}
