package rotation

import (
	"context"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// sharedStore is implemented by a port whose certificate store is shared
// with other products and regions (CAS: ALB and NLB, every region of one
// CAS region): StoreKey names the store region's certificates live in.
// Cleanup deletes a certificate of such a store only when no listener of
// any product using the store references it.
type sharedStore interface {
	StoreKey(region string) string
}

// storeKey names the store of a lane: the shared store's key, else the
// lane itself (a CLB region's server certificates are its own).
func storeKey(port TargetPort, product, region string) string {
	if s, ok := port.(sharedStore); ok {
		return "store:" + s.StoreKey(region)
	}
	return "lane:" + laneKey(product, region)
}

// storeGroups groups plans by store, in plan order.
func storeGroups(plans []*regionPlan) [][]*regionPlan {
	var groups [][]*regionPlan
	at := map[string]int{}
	for _, p := range plans {
		k := storeKey(p.port, p.product, p.region)
		i, ok := at[k]
		if !ok {
			i = len(groups)
			at[k] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], p)
	}
	return groups
}

func anyIncomplete(group []*regionPlan, incomplete map[string]bool) bool {
	for _, p := range group {
		if incomplete[p.lane()] {
			return true
		}
	}
	return false
}

// storeRefs are the certificate ids referenced by every listener that
// uses the group's store: each planned lane's inventory after the switches
// (or a fresh listing where discovery did not run), and of every other
// lane (product x configured region) sharing the store, the inventory its
// discovery took under the lock (discovered: it held no target) or else a
// fresh listing.
func (r *Rotator) storeRefs(ctx context.Context, group []*regionPlan, outs []*targetOutcome, seen observation, discovered map[string]*regionPlan) (map[string]bool, error) {
	refs := map[string]bool{}
	planned := map[string]bool{}
	for _, p := range group {
		planned[p.lane()] = true
		var laneRefs map[string]bool
		if p.inventory != nil {
			laneRefs = inventoryReferences(p, outs, seen[p.lane()])
		} else {
			var err error
			if laneRefs, err = r.referencedCertificates(ctx, p.product, p.port, p.region, p.base); err != nil {
				return nil, err
			}
		}
		for id := range laneRefs {
			refs[id] = true
		}
	}
	key := storeKey(group[0].port, group[0].product, group[0].region)
	if key[:6] != "store:" {
		return refs, nil
	}
	for _, prod := range r.products() {
		for _, region := range r.storeRegions(group) {
			lane := laneKey(prod.Name, region)
			if planned[lane] || storeKey(prod.Port, prod.Name, region) != key {
				continue
			}
			if q := discovered[lane]; q != nil {
				for id := range inventoryReferences(q, nil, seen[lane]) {
					refs[id] = true
				}
				continue
			}
			more, err := r.referencedCertificates(ctx, prod.Name, prod.Port, region, nil)
			if err != nil {
				return nil, err
			}
			for id := range more {
				refs[id] = true
			}
		}
	}
	return refs, nil
}

// storeRegions are the configured regions and the group's, without repeats.
func (r *Rotator) storeRegions(group []*regionPlan) []string {
	var out []string
	seen := map[string]bool{}
	for _, reg := range r.Config.Regions {
		if reg != "" && !seen[reg] {
			seen[reg] = true
			out = append(out, reg)
		}
	}
	for _, p := range group {
		if !seen[p.region] {
			seen[p.region] = true
			out = append(out, p.region)
		}
	}
	return out
}

// certificateOwner is implemented by a port whose store marks ownership its
// own way (CAS: the name); the others use the CLB rule (ownedByCLBRule).
type certificateOwner interface {
	OwnedBy(c clb.ServerCertificate, pair string) bool
}

// ownedBy is the test cleanup applies: is c a certificate the rotation
// uploaded for pair?
func ownedBy(port TargetPort, pair string) func(clb.ServerCertificate) bool {
	if o, ok := port.(certificateOwner); ok {
		return func(c clb.ServerCertificate) bool { return o.OwnedBy(c, pair) }
	}
	base := nameBase(pair)
	return func(c clb.ServerCertificate) bool { return ownedByCLBRule(c, pair, base) }
}

// ownedByCLBRule: our name pattern, our tag when tags are reported, and
// this pair's tag when there is one.
func ownedByCLBRule(c clb.ServerCertificate, pair, base string) bool {
	if !ownedName(c.Name, base) {
		return false
	}
	if !c.Ours() && c.Tags != nil {
		return false // tags are reported and do not say it is ours
	}
	if v, tagged := c.Tags[clb.PairTagKey]; tagged && v != clb.PairTagValue(pair) {
		return false // another pair's whose name shares our base ("my site" / "my-site")
	}
	return true
}
