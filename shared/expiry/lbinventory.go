package expiry

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// Roles of an ALB or NLB place.
const (
	RoleDefault    = "default"
	RoleAdditional = "additional"
)

// Place is one ALB or NLB listener certificate: the listener's default
// certificate or one of its additional (SNI) certificates.
type Place struct {
	Product        string `json:"product"` // "alb" or "nlb"
	Region         string `json:"region"`
	LoadBalancerID string `json:"loadBalancerId"`
	ListenerID     string `json:"listenerId"`
	ListenerPort   int    `json:"listenerPort"`
	Protocol       string `json:"protocol"`
	// Role is "default" or "additional".
	Role string `json:"role"`
}

// String names the place the way reports and notifications do.
func (p Place) String() string {
	return fmt.Sprintf("%s %s/%s listener %s:%d (%s)", p.Product, p.Region, p.LoadBalancerID, p.ListenerID, p.ListenerPort, p.Role)
}

// lbServed is one place serving a CAS certificate, with what the probe
// needs.
type lbServed struct {
	place   Place
	certID  string                 // "<CertId>-<casRegion>"
	cert    *clb.ServerCertificate // resolved in the CAS listing
	address string                 // the instance's DNS name
	running bool                   // the listener serves and the certificate is associated
	// casFailed: the certificate's CAS region could not be listed (one
	// problem says so), so an unknown certificate is not reported again.
	casFailed bool
}

// lbInventory is what the collect phase keeps of one product in one region.
type lbInventory struct {
	lane
	targets []lbServed
	// casMissed: a CAS listing the lane used failed, so its SNI places do
	// not all know their domains and its snapshot is not handed to
	// auto-rotation.
	casMissed bool
}

// lbSource is one configured ALB or NLB inventory.
type lbSource struct {
	product string
	inv     inventory.Reader
}

// casListing lists every CAS region (store key) at most once per sweep,
// whichever product and region asks first. Its listings have a bound of their own
// (one per CAS region at a time): a listener read asks for one while it
// holds a slot of the sweep's bound, so sharing that bound could leave
// every slot waiting for a listing that never gets one.
type casListing struct {
	coll    *inventory.Collector
	store   CertStore
	mu      sync.Mutex
	regions map[string]*casRegionList // by store key
	// problems are the failed listings, one per CAS region.
	problems []Problem
}

type casRegionList struct {
	once sync.Once
	// certs and ready are written under casListing.mu: stored reads them
	// from other lanes without going through once.
	certs map[string]clb.ServerCertificate // by identity
	err   error
	ready bool // the listing answered
}

// get returns the certificates of a CAS region by identity (nil when the
// listing failed: its problem is recorded once).
func (l *casListing) get(ctx context.Context, casRegion string) map[string]clb.ServerCertificate {
	key := l.store.StoreKey(casRegion)
	l.mu.Lock()
	r := l.regions[key]
	if r == nil {
		r = &casRegionList{}
		l.regions[key] = r
	}
	l.mu.Unlock()
	r.once.Do(func() {
		var list []clb.ServerCertificate
		_, r.err = l.coll.Do(ctx, "cas.ListCertificates", func() (err error) {
			list, err = l.store.Certificates(ctx, casRegion)
			return err
		})
		if r.err != nil {
			p := newProblem("certificates", casRegion, "", fmt.Errorf("expiry: list CAS certificates in %s: %w", casRegion, r.err))
			p.Product = "cas"
			l.mu.Lock()
			l.problems = append(l.problems, p)
			l.mu.Unlock()
			return
		}
		certs := make(map[string]clb.ServerCertificate, len(list))
		for _, cc := range list {
			certs[cc.ID] = cc
		}
		l.mu.Lock()
		r.certs, r.ready = certs, true
		l.mu.Unlock()
	})
	return r.certs
}

// lbRegion inventories one product in one region through the sweep's
// collector (its calls counted under "<product>."): the instances, then
// the listeners (one listing), then each listener read once (the port's
// inventory.ListenerReader: its default and additional certificates),
// each certificate resolved in the CAS listing of its identity's CAS
// region; each place is offered to the probes as its listener is read.
func (c *collector) lbRegion(ctx context.Context, src lbSource, region string) *lbInventory {
	li := &lbInventory{lane: lane{product: src.product, region: region}}
	coll := c.coll.Prefixed(src.product + ".")
	s := coll.Top(ctx, src.inv, region, false, true)
	li.snapshot = s
	if s.Failed() {
		li.fail("loadbalancers", "", fmt.Errorf("expiry: list %s instances in %s: %w", src.product, region, s.Failures[0].Err))
		return li
	}
	dns := make(map[string]string, len(s.Instances))
	ids := make([]string, len(s.Instances))
	for i, in := range s.Instances {
		dns[in.ID], ids[i] = in.Address, in.ID
	}
	var mu sync.Mutex
	coll.Walk(ctx, src.inv, s, ids, inventory.Handlers{
		Certificate: func(id string) (clb.ServerCertificate, bool) {
			cc, listed := c.cas.resolve(ctx, id)
			if !listed {
				mu.Lock()
				li.casMissed = true
				mu.Unlock()
			}
			if cc == nil {
				return clb.ServerCertificate{}, false
			}
			return *cc, true
		},
		Read: func(rd inventory.ListenerRead) {
			served := c.lbServed(ctx, src.product, region, rd, dns[rd.Listener.LoadBalancerID])
			mu.Lock()
			li.targets = append(li.targets, served...)
			mu.Unlock()
		},
	})
	li.walkProblems(ctx, s)
	if !li.failed {
		s.Certificates = c.cas.stored(region)
	}
	return li
}

// walkProblems reports the listings of s that failed (the listeners'
// listing fails the product's region), and a walk the context cut short.
func (li *lbInventory) walkProblems(ctx context.Context, s *inventory.Snapshot) {
	li.listeners = len(s.Listeners) + s.UnlistedSNI
	for _, f := range s.Failures {
		switch f.Part {
		case inventory.PartListeners:
			li.fail("listeners", "", fmt.Errorf("expiry: list %s listeners in %s: %w", li.product, li.region, f.Err))
		case inventory.PartSNI:
			l := f.Listener
			base := Place{Product: li.product, Region: li.region, LoadBalancerID: l.LoadBalancerID, ListenerID: l.ID, ListenerPort: l.Port, Protocol: l.Protocol}
			li.problem("listeners", base.String(), fmt.Errorf("expiry: list certificates of %s listener %s in %s: %w", li.product, l.ID, li.region, f.Err))
		}
	}
	if err := ctx.Err(); err != nil && (s.UnlistedSNI > 0 || s.UnlistedBatches > 0) {
		li.problem("inventory", "", fmt.Errorf("expiry: %s inventory of %s cut short (%d of %d listeners): %w",
			li.product, li.region, len(s.Listeners), li.listeners, err))
	}
}

// lbServed are the places of one read listener: its default and every
// additional certificate, resolved in CAS, each offered to the probes.
func (c *collector) lbServed(ctx context.Context, product, region string, rd inventory.ListenerRead, address string) []lbServed {
	l := rd.Listener
	base := Place{Product: product, Region: region, LoadBalancerID: l.LoadBalancerID, ListenerID: l.ID, ListenerPort: l.Port, Protocol: l.Protocol}
	running := l.Status == "" || l.Status == inventory.ListenerRunning || l.Status == inventory.ListenerConfiguring
	out := make([]lbServed, 0, len(rd.Held))
	for _, h := range rd.Held {
		p := base
		p.Role = RoleAdditional
		if h.Default {
			p.Role = RoleDefault
		}
		s := lbServed{place: p, certID: h.CertificateID, address: address,
			running: running && (h.Default || h.Status == "" || h.Status == inventory.CertAssociated)}
		var listed bool
		s.cert, listed = c.cas.resolve(ctx, h.CertificateID)
		s.casFailed = !listed
		out = append(out, s)
		if c.probes != nil {
			c.probes.offerLB(s)
		}
	}
	return out
}

// resolve finds a CAS identity in the listing of its CAS region (listed
// on first use). listed is false only when that listing failed; an id
// that is no CAS identity is not found, and listed.
func (l *casListing) resolve(ctx context.Context, id string) (cert *clb.ServerCertificate, listed bool) {
	casRegion, ok := l.store.IdentityRegion(id)
	if !ok {
		return nil, true
	}
	certs := l.get(ctx, casRegion)
	if cc, ok := certs[id]; ok {
		return &cc, true
	}
	return nil, certs != nil
}

// stored is the listing of the CAS region region's certificates live in
// (nil when it failed or is not complete).
func (l *casListing) stored(region string) []clb.ServerCertificate {
	l.mu.Lock()
	var certs map[string]clb.ServerCertificate
	if r := l.regions[l.store.StoreKey(region)]; r != nil && r.ready {
		certs = r.certs
	}
	l.mu.Unlock()
	if certs == nil {
		return nil
	}
	out := make([]clb.ServerCertificate, 0, len(certs))
	for _, cc := range certs {
		out = append(out, cc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// sniDomain is the name a handshake asks for to reach an additional
// certificate: its first DNS name.
func sniDomain(cc *clb.ServerCertificate) string {
	if ds := cc.Domains(); len(ds) > 0 {
		return ds[0]
	}
	return ""
}

// lbTarget is the clb.Target form of a place, for the probe queue (one
// address per DNS name, SNI for an additional certificate).
func lbTarget(s lbServed) clb.Target {
	t := clb.Target{Region: s.place.Region, LoadBalancerID: s.place.LoadBalancerID, ListenerPort: s.place.ListenerPort}
	if s.place.Role == RoleAdditional && s.cert != nil {
		t.Domain = sniDomain(s.cert)
	}
	return t
}
