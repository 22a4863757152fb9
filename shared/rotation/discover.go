package rotation

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// Discovery reads a lane through one inventory.Collector (one bound of
// Config.Concurrency calls per lane, as each lane's listings always had):
// certificates and load balancers, then the listeners in the port's
// batches, then each listener's SNI, telling the planner (and through it the
// pipeline) each batch and each listing as it answers.

// planRegion fills p: the region's certificates (choosing an existing one
// with the pair's fingerprint), its explicit targets (each must exist) and,
// when discover is set, the discovered ones, telling sink as it goes. On a
// discovery failure p holds what was planned before it. With a snapshot
// (p.base) the certificates are still listed, but the load balancers are
// the snapshot's (listed again only when an explicit target names one it
// does not hold) and discovery re-reads only the places it may change.
func (r *Rotator) planRegion(ctx context.Context, p *regionPlan, m *material, discover, force bool, explicit []clb.Target, deployFile string, sink planSink) error {
	coll := inventory.NewCollector(r.concurrency())
	top := coll.Top(ctx, p.port, p.region, true, p.base == nil || !holdsAll(p.base, explicit))
	if err := topError(top, p.region); err != nil {
		return err
	}
	p.certs = top.Certificates
	lbs := top.Instances
	if lbs == nil && p.base != nil {
		lbs = p.base.Instances
	}
	chooseExisting(p, m)
	pl := newPlanner(p, m, lbs, force, deployFile, sink)
	// Explicit targets first: each must exist, and is checked before any write.
	for _, et := range explicit {
		if err := r.planExplicit(ctx, pl, et); err != nil {
			return err
		}
	}
	sink.explicitChecked(p.lane())
	if !discover {
		return nil
	}
	err := r.planDiscovered(ctx, pl, coll, lbs)
	pl.mu.Lock()
	defer pl.mu.Unlock()
	sort.Slice(p.targets, func(i, j int) bool { return p.targets[i].key() < p.targets[j].key() })
	return err
}

// holdsAll reports whether the snapshot lists every load balancer of the
// explicit targets.
func holdsAll(s *inventory.Snapshot, explicit []clb.Target) bool {
	for _, t := range explicit {
		if _, ok := s.Instance(t.LoadBalancerID); !ok {
			return false
		}
	}
	return true
}

// topError is the failure of a lane's first listings (certificates first:
// Top records them first).
func topError(s *inventory.Snapshot, region string) error {
	for _, f := range s.Failures {
		switch f.Part {
		case inventory.PartCertificates:
			return fmt.Errorf("rotation: list server certificates in %s: %w", region, f.Err)
		case inventory.PartInstances:
			return fmt.Errorf("rotation: list load balancers in %s: %w", region, f.Err)
		}
	}
	return nil
}

// planDiscovered adds every listener default certificate and domain
// extension whose certificate the pair replaces (all its domains covered),
// except places another pair's deploy.yaml pins and places that would
// rotate backwards; it records the region's inventory for cleanup. Each
// batch's listener default targets are added as soon as the batch is
// listed (and final once every batch is); each listener's extension
// targets as soon as its extensions are, while the other listings still
// run. A listing that fails does not stop the others: the errors are
// returned joined.
//
// With a snapshot (p.base), only the load balancers it shows holding a
// place that may be the pair's are listed again, and only the SNI of those
// places' listeners and of listeners whose default qualifies now; the
// inventory is the snapshot's places overridden by what was read again.
func (r *Rotator) planDiscovered(ctx context.Context, pl *planner, coll *inventory.Collector, lbs []inventory.Instance) error {
	p := pl.p
	pl.mu.Lock()
	p.inventory = map[string]string{}
	ids := make([]string, 0, len(lbs))
	for _, lb := range lbs {
		ids = append(ids, lb.ID)
	}
	var want func(inventory.TLSListener) bool
	if p.base != nil {
		for place, id := range p.base.Places() {
			p.inventory[place] = id
		}
		var held map[string]bool
		ids, held = pl.candidates(p.base)
		want = func(l inventory.TLSListener) bool { return held[l.Key()] || pl.qualifies(l.CertificateID) }
	}
	pl.mu.Unlock()
	if len(ids) == 0 {
		pl.sink.listenersFinal(ctx, p.lane())
		return nil
	}
	pinned := map[string]bool{}
	for _, t := range r.Config.Pinned {
		pinned[(&target{Target: t, product: productName(t.Type), listenerID: t.ListenerID}).key()] = true
	}
	defaults := map[string]*target{} // a listener's default target, if any (guarded by pl.mu)
	snap := &inventory.Snapshot{Region: p.region}
	coll.Walk(ctx, p.port, snap, ids, inventory.Handlers{
		Listeners:     func(ls []inventory.TLSListener) { pl.listenersListed(ctx, ls, defaults, pinned) },
		ListenersDone: func() { pl.sink.listenersFinal(ctx, p.lane()) },
		WantSNI:       want,
		SNI: func(l inventory.TLSListener, exts []inventory.SNICertificate, err error) {
			if err == nil {
				pl.extensionsListed(ctx, l, exts, defaults, pinned)
			}
		},
	})
	// A default target whose listener's extensions are not known is never
	// probed (its SNI could be an extension's); its facts end here.
	pl.mu.Lock()
	for k, t := range defaults {
		if _, ok := snap.SNI[k]; !ok {
			t.noFacts = true
			close(t.facts)
		}
	}
	pl.mu.Unlock()
	return walkError(ctx, snap, p.product, p.region, "discovery")
}

// candidates are the load balancers a snapshot shows holding a place that
// may be the pair's (its certificate, as listed now or in the snapshot,
// has all its domains covered), and those places' listeners (by Key).
func (pl *planner) candidates(base *inventory.Snapshot) ([]string, map[string]bool) {
	may := func(certID string) bool {
		c, ok := pl.byID[certID]
		if !ok {
			c, ok = base.Certificate(certID)
		}
		return ok && len(c.Domains()) > 0 && certs.Covers(pl.m.domains, c.Domains())
	}
	lbs, held := map[string]bool{}, map[string]bool{}
	var ids []string
	for _, l := range base.Listeners {
		hold := may(l.CertificateID)
		for _, e := range base.SNI[l.Key()] {
			hold = hold || !e.Default && may(e.CertificateID) && certs.Covers(pl.m.domains, []string{e.Domain})
		}
		if !hold {
			continue
		}
		held[l.Key()] = true
		if !lbs[l.LoadBalancerID] {
			lbs[l.LoadBalancerID] = true
			ids = append(ids, l.LoadBalancerID)
		}
	}
	return ids, held
}

// walkError joins the failures of a walk of product's lane in region (what
// the walk was for names it when listings were not made) as the rotation
// words them.
func walkError(ctx context.Context, s *inventory.Snapshot, product, region, what string) error {
	var errs []error
	for _, f := range s.Failures {
		switch f.Part {
		case inventory.PartListeners:
			errs = append(errs, fmt.Errorf("rotation: list %s listeners in %s: %w", product, region, f.Err))
		case inventory.PartSNI:
			errs = append(errs, fmt.Errorf("rotation: list domain extensions of %s/%s:%d: %w", region, f.Listener.LoadBalancerID, f.Listener.Port, f.Err))
		}
	}
	if s.UnlistedBatches+s.UnlistedSNI > 0 {
		errs = append(errs, fmt.Errorf("rotation: %s in %s: %d listings not made: %w", what, region, s.UnlistedBatches+s.UnlistedSNI, ctx.Err()))
	}
	return errors.Join(errs...)
}

// listenersListed records a batch of listeners: the inventory and the
// listener default targets.
func (pl *planner) listenersListed(ctx context.Context, ls []inventory.TLSListener, defaults map[string]*target, pinned map[string]bool) {
	p, region := pl.p, pl.p.region
	pl.mu.Lock()
	defer pl.mu.Unlock()
	for _, l := range ls {
		p.inventory[inventory.PlaceOfListener(l.LoadBalancerID, l.Port)] = l.CertificateID
		if !pl.qualifies(l.CertificateID) {
			continue
		}
		t := &target{Target: clb.Target{Region: region, LoadBalancerID: l.LoadBalancerID, ListenerPort: l.Port}, product: p.product, port: p.port, listenerID: l.ID,
			address: pl.lbByID[l.LoadBalancerID].Address, status: l.Status, from: l.CertificateID, facts: make(chan struct{})}
		if pl.consider(ctx, t, pinned) {
			defaults[l.Key()] = t
		}
	}
}

// extensionsListed records listener l's extensions: the inventory, its
// default target's extension domains (when it has one) and the extension
// targets; then the listener's extension targets are final.
func (pl *planner) extensionsListed(ctx context.Context, l inventory.TLSListener, exts []inventory.SNICertificate, defaults map[string]*target, pinned map[string]bool) {
	region := pl.p.region
	pl.mu.Lock()
	for _, ext := range exts {
		pl.p.inventory[inventory.PlaceOfSNI(ext.ID)] = ext.CertificateID
	}
	if def := defaults[l.Key()]; def != nil {
		def.extNames = extDomains(exts)
		close(def.facts)
	}
	for _, ext := range exts {
		if !ext.Default && pl.qualifies(ext.CertificateID) && certs.Covers(pl.m.domains, []string{ext.Domain}) {
			pl.consider(ctx, &target{Target: clb.Target{Region: region, LoadBalancerID: l.LoadBalancerID, ListenerPort: l.Port, Domain: ext.Domain},
				product: pl.p.product, port: pl.p.port, extID: ext.ID, listenerID: l.ID, address: pl.lbByID[l.LoadBalancerID].Address, status: l.Status, from: ext.CertificateID}, pinned)
		}
	}
	pl.mu.Unlock()
	pl.sink.extensionsFinal(ctx, pl.p.lane(), l.LoadBalancerID, l.Port)
}

// referencedCertificates lists every certificate id referenced by a
// listener or an SNI place of the lane (product's port, region): a fresh
// inventory, united with the caller's snapshot of the lane when there is one.
func (r *Rotator) referencedCertificates(ctx context.Context, product string, port TargetPort, region string, base *inventory.Snapshot) (map[string]bool, error) {
	coll := inventory.NewCollector(r.concurrency())
	s := coll.Top(ctx, port, region, false, true)
	if err := topError(s, region); err != nil {
		return nil, err
	}
	ids := make([]string, len(s.Instances))
	for i, in := range s.Instances {
		ids[i] = in.ID
	}
	coll.Walk(ctx, port, s, ids, inventory.Handlers{})
	if err := walkError(ctx, s, product, region, "listing of references"); err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	for _, snap := range []*inventory.Snapshot{s, base} {
		if snap == nil {
			continue
		}
		for _, id := range snap.Places() {
			refs[id] = true
		}
	}
	return refs, nil
}
