package rotation_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// fleetCerts are the certificates of snapshotFleet (issued once, so that
// two fleets can be compared).
type fleetCerts struct{ old, other, later, pair certstest.Pair }

func newFleetCerts(t *testing.T) fleetCerts {
	start := time.Now().Add(-time.Hour)
	return fleetCerts{old: issue(t, "www.example.com", "api.example.com"), other: issue(t, "other.example.org"),
		later: testCA.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, Chain: true, NotBefore: start, NotAfter: start.AddDate(0, 0, 400)}),
		pair:  issue(t, "www.example.com", "api.example.com")}
}

// snapshotFleet seeds a fleet of every kind of place: lb-1 serves the
// pair's old certificate (default) and an extension of it for
// api.example.com; lb-2 an unrelated certificate with a www extension;
// lb-3 a certificate expiring after the pair (never backwards); lb-4 the
// old certificate on a place another pair pins; lb-5..lb-14 unrelated
// certificates only. It stores the pair and returns the ids of the old,
// unrelated and later certificates.
func snapshotFleet(t *testing.T, w *world, fc fleetCerts) (oldID, otherID, laterID string) {
	t.Helper()
	oldID = w.seedCert(t, zjk, oldName("www"), fc.old, true)
	otherID = w.seedCert(t, zjk, "other", fc.other, false)
	laterID = w.seedCert(t, zjk, "later", fc.later, false)
	w.putPair("www", fc.pair)
	for i := 1; i <= 14; i++ {
		id := fmt.Sprintf("lb-%d", i)
		w.lb(zjk, id, fmt.Sprintf("127.0.3.%d", i))
		switch i {
		case 1, 4:
			w.listener(zjk, id, 443, oldID)
		case 3:
			w.listener(zjk, id, 443, laterID)
		default:
			w.listener(zjk, id, 443, otherID)
		}
	}
	w.slb.AddExtension(clb.DomainExtension{Region: zjk, LoadBalancerID: "lb-1", ListenerPort: 443, Domain: "api.example.com", ServerCertificateID: oldID})
	w.slb.AddExtension(clb.DomainExtension{Region: zjk, LoadBalancerID: "lb-2", ListenerPort: 443, Domain: "www.example.com", ServerCertificateID: oldID})
	w.r.Config.Pinned = []clb.Target{{Region: zjk, LoadBalancerID: "lb-4", ListenerPort: 443}}
	return oldID, otherID, laterID
}

// snapshotOf collects the CLB inventory of region as the expiry sweep does.
func snapshotOf(w *world, region string) rotation.Snapshots {
	coll := inventory.NewCollector(5)
	s := coll.Collect(context.Background(), rotation.CLBPort{SLB: w.slb}, region, inventory.Handlers{})
	return rotation.Snapshots{rotation.SnapshotKey(clb.ProductCLB, region): s}
}

func listings(calls map[string]int) int {
	return calls["DescribeLoadBalancers"] + calls["DescribeLoadBalancerListeners"] + calls["DescribeDomainExtensions"]
}

// TestSnapshotDiscoveryDecidesAsFullDiscovery: given a complete snapshot,
// the rotation plans, skips and switches exactly what full discovery does,
// with fewer listings (only the load balancers holding the pair's places
// are listed again).
func TestSnapshotDiscoveryDecidesAsFullDiscovery(t *testing.T) {
	results := map[bool]rotation.Result{}
	reads := map[bool]int{}
	fc := newFleetCerts(t)
	for _, withSnapshot := range []bool{false, true} {
		w := newWorld(t)
		snapshotFleet(t, w, fc)
		req := rotation.Request{Bucket: bucket, Name: "www"}
		if withSnapshot {
			req.Snapshots = snapshotOf(w, zjk)
		}
		w.slb.ResetCalls()
		res, err := w.r.Rotate(context.Background(), w.now, req)
		if err != nil {
			t.Fatalf("snapshot %v: %v", withSnapshot, err)
		}
		results[withSnapshot], reads[withSnapshot] = res, listings(w.slb.CallCounts())
	}
	full, snap := results[false], results[true]
	if snap.Status != rotation.StatusRotated || fmt.Sprint(snap.Targets) != fmt.Sprint(full.Targets) || fmt.Sprint(snap.Skipped) != fmt.Sprint(full.Skipped) {
		t.Errorf("with a snapshot: %s %+v skipped %+v\nfull discovery: %s %+v skipped %+v", snap.Status, snap.Targets, snap.Skipped, full.Status, full.Targets, full.Skipped)
	}
	if len(full.Targets) != 3 || len(full.Skipped) != 1 {
		t.Errorf("full discovery: %d targets, %d skipped; want 3 (lb-1 default and extension, lb-2 extension) and 1 (lb-3)", len(full.Targets), len(full.Skipped))
	}
	// Full: 1 + 2 listener listings + 14 extension listings (+ read-backs);
	// with the snapshot: lb-1, lb-2, lb-3 (and lb-4, pinned) listed again:
	// 1 listener listing + 4 extension listings (+ the same read-backs).
	if reads[true] != reads[false]-12 {
		t.Errorf("listings with a snapshot %d, without %d: want 12 fewer", reads[true], reads[false])
	}
}

// TestSnapshotDecidedUnderTheLock: what a snapshot says is only where to
// look; a place that changed since is decided on what is read again: one
// moved to a later certificate is skipped (never backwards), one moved to
// an unrelated certificate is left alone.
func TestSnapshotDecidedUnderTheLock(t *testing.T) {
	w := newWorld(t)
	_, otherID, laterID := snapshotFleet(t, w, newFleetCerts(t))
	snaps := snapshotOf(w, zjk)
	// After the snapshot: lb-1 moves to the later certificate, lb-2's
	// extension to the unrelated one.
	ctx := context.Background()
	must(t, w.slb.SetListenerCertificate(ctx, zjk, "lb-1", 443, laterID))
	ext2 := extensionOn(t, w, "lb-2")
	must(t, w.slb.SetDomainExtensionCertificate(ctx, zjk, ext2, otherID))

	res, err := w.r.Rotate(ctx, w.now, rotation.Request{Bucket: bucket, Name: "www", Snapshots: snaps})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.slb.ListenerCertificate(zjk, "lb-1", 443); got != laterID {
		t.Errorf("lb-1 serves %s, want the later certificate %s it was moved to after the snapshot", got, laterID)
	}
	if got := w.slb.ExtensionCertificate(ext2); got != otherID {
		t.Errorf("lb-2's extension serves %s, want the unrelated %s it was moved to after the snapshot", got, otherID)
	}
	if len(res.Targets) != 1 || res.Targets[0].Domain != "api.example.com" || len(res.Skipped) != 2 {
		t.Errorf("targets %+v skipped %+v; want lb-1's extension switched, lb-1 and lb-3 skipped", res.Targets, res.Skipped)
	}
}

// TestSnapshotRecordAndFallbacks: Record moves the snapshot's places to
// what the rotation switched them to; an incomplete snapshot is not used
// (the lane is listed in full); an explicit target on a load balancer the
// snapshot does not hold lists the load balancers again.
func TestSnapshotRecordAndFallbacks(t *testing.T) {
	w := newWorld(t)
	snapshotFleet(t, w, newFleetCerts(t))
	snaps := snapshotOf(w, zjk)
	res, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Name: "www", Snapshots: snaps})
	if err != nil {
		t.Fatal(err)
	}
	snaps.Record(res)
	snap := snaps[zjk]
	for place, want := range map[string]string{"l/lb-1/443": res.Regions[zjk].ServerCertificateID, "e/" + extensionOn(t, w, "lb-2"): res.Regions[zjk].ServerCertificateID} {
		if got := snap.Places()[place]; got != want {
			t.Errorf("after Record %s references %s, want %s", place, got, want)
		}
	}

	// Incomplete: one listing failed; the rotation lists the whole lane.
	snap.Failures = append(snap.Failures, inventory.Failure{Part: inventory.PartSNI})
	w.slb.ResetCalls()
	if _, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Name: "www", Snapshots: snaps}); err != nil {
		t.Fatal(err)
	}
	if n := w.slb.Calls("DescribeDomainExtensions"); n != 14 {
		t.Errorf("with an incomplete snapshot %d extension listings, want 14 (the whole lane)", n)
	}

	// An explicit target on a load balancer added after the snapshot.
	w.lb(zjk, "lb-new", "127.0.3.99")
	w.listener(zjk, "lb-new", 443, w.slb.ListenerCertificate(zjk, "lb-5", 443))
	w.objs.Put(bucket, "certs/www/deploy.yaml", []byte("targets:\n  - {region: cn-zhangjiakou, loadBalancerId: lb-new, listenerPort: 443}\n"))
	res, err = w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Name: "www", Snapshots: snapshotOfWithout(w, zjk, "lb-new")})
	if err != nil || res.Status != rotation.StatusRotated {
		t.Fatalf("explicit target outside the snapshot: %s %v (%s)", res.Status, err, res.Reason)
	}
	if got := w.slb.ListenerCertificate(zjk, "lb-new", 443); got != res.Regions[zjk].ServerCertificateID {
		t.Errorf("lb-new serves %s, want the pair", got)
	}
}

// snapshotOfWithout is snapshotOf as taken before load balancer lb existed.
func snapshotOfWithout(w *world, region, lb string) rotation.Snapshots {
	snaps := snapshotOf(w, region)
	s := snaps[region]
	var ins []inventory.Instance
	for _, in := range s.Instances {
		if in.ID != lb {
			ins = append(ins, in)
		}
	}
	var ls []inventory.TLSListener
	for _, l := range s.Listeners {
		if l.LoadBalancerID != lb {
			ls = append(ls, l)
		}
	}
	s.Instances, s.Listeners = ins, ls
	return snaps
}

// extensionOn is the id of the (one) extension of lb's listener 443.
func extensionOn(t *testing.T, w *world, lb string) string {
	t.Helper()
	exts, err := w.slb.ListDomainExtensions(context.Background(), zjk, lb, 443)
	if err != nil || len(exts) != 1 {
		t.Fatalf("extensions of %s: %v %v", lb, exts, err)
	}
	return exts[0].ID
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
