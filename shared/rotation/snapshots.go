package rotation

import (
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// Snapshots are inventories a caller already holds, by lane (SnapshotKey:
// the region for CLB, "<product>/<region>" otherwise); the expiry sweep
// hands its own to each auto-rotation (Request.Snapshots).
//
// What a snapshot is used for, and what is read again under the lock: a
// complete snapshot of a lane replaces discovery's listing of the lane's
// load balancers and tells which load balancers and listeners may hold a
// place of the pair (a place whose certificate, as listed now or in the
// snapshot, has all its domains covered by the pair). Under the lock the
// rotation still lists the certificates, then lists again the listeners
// of those load balancers (in the port's batches) and the SNI of those
// listeners and of every listener whose default certificate qualifies now,
// and decides every target (covered, not pinned, never backwards) on those
// fresh reads only: what is written was read under the lock. Cleanup's
// references are the snapshot's places overridden by the fresh reads and
// the outcomes; a certificate attached since the snapshot is refused by
// the service when deleted (Result.Kept). A place that came to serve a
// certificate of the pair's domains after the snapshot was taken is left
// to the next sweep or upload (a snapshot that is not complete is not
// used: the lane is discovered in full).
type Snapshots map[string]*inventory.Snapshot

// SnapshotKey names the snapshot of product's lane in region.
func SnapshotKey(product, region string) string { return laneKey(product, region) }

// usable is the snapshot of lane when it is complete, else nil.
func (s Snapshots) usable(lane string) *inventory.Snapshot {
	if snap := s[lane]; snap.Complete() {
		return snap
	}
	return nil
}

// Record updates the snapshots after a rotation: every place the result
// reports serving the new certificate now references it. The sweep
// records each auto-rotation before it runs the next pair.
func (s Snapshots) Record(res Result) {
	for _, t := range res.Targets {
		if t.State != StateServing || t.To == "" {
			continue
		}
		snap := s[laneKey(productName(t.Product), t.Region)]
		if snap == nil {
			continue
		}
		for i, l := range snap.Listeners {
			if l.LoadBalancerID != t.LoadBalancerID || l.Port != t.ListenerPort {
				continue
			}
			if t.Domain == "" {
				snap.Listeners[i].CertificateID = t.To
				continue
			}
			sni := snap.SNI[l.Key()]
			for j, e := range sni {
				if !e.Default && strings.EqualFold(e.Domain, t.Domain) {
					sni[j].CertificateID = t.To
				}
			}
		}
	}
}
