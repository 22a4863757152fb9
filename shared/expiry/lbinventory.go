package expiry

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Products of a report entry.
const (
	ProductCLB = "clb"
	ProductALB = "alb"
	ProductNLB = "nlb"
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
	certID  string // "<CertId>-<casRegion>"
	cert    *aliyun.CASCertificate
	address string // the instance's DNS name
	running bool   // the listener serves and the certificate is associated
	// casFailed: the certificate's CAS region could not be listed (one
	// problem says so), so an unknown certificate is not reported again.
	casFailed bool
}

// lbInventory is what the collect phase keeps of one product in one region.
type lbInventory struct {
	product   string
	region    string
	targets   []lbServed
	listeners int
	problems  []Problem
	failed    bool
}

// lbSource is one configured ALB or NLB inventory.
type lbSource struct {
	product string
	inv     LBInventory
}

// casListing lists every CAS region at most once per sweep, whichever
// product and region asks first.
type casListing struct {
	c       *collector
	store   CertStore
	mu      sync.Mutex
	regions map[string]*casRegionList
	// problems are the failed listings, one per CAS region.
	problems []Problem
}

type casRegionList struct {
	once  sync.Once
	certs map[string]aliyun.CASCertificate
	err   error
}

// get returns the certificates of a CAS region by identity (nil when the
// listing failed: its problem is recorded once).
func (l *casListing) get(ctx context.Context, casRegion string) map[string]aliyun.CASCertificate {
	l.mu.Lock()
	r := l.regions[casRegion]
	if r == nil {
		r = &casRegionList{}
		l.regions[casRegion] = r
	}
	l.mu.Unlock()
	r.once.Do(func() {
		var list []aliyun.CASCertificate
		r.err = l.c.call(ctx, "cas.ListCertificates", func() (err error) {
			list, err = l.store.ListCertificates(ctx, casRegion)
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
		r.certs = make(map[string]aliyun.CASCertificate, len(list))
		for _, cc := range list {
			r.certs[cc.Identity] = cc
		}
	})
	return r.certs
}

// lbRegion inventories one product in one region: instances and listeners
// (in parallel), then each listener's certificates, then their CAS
// records; each resolved place is offered to the probes.
func (c *collector) lbRegion(ctx context.Context, src lbSource, region string, workers int) *lbInventory {
	li := &lbInventory{product: src.product, region: region}
	var (
		lbs       []aliyun.LBInstance
		listeners []aliyun.LBListener
		lbErr     error
		lsErr     error
		wg        sync.WaitGroup
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		lbErr = c.call(ctx, src.product+".ListLoadBalancers", func() (err error) {
			lbs, err = src.inv.ListLoadBalancers(ctx, region)
			return err
		})
	}()
	go func() {
		defer wg.Done()
		lsErr = c.call(ctx, src.product+".ListListeners", func() (err error) {
			listeners, err = src.inv.ListListeners(ctx, region)
			return err
		})
	}()
	wg.Wait()
	if lbErr != nil {
		li.fail("loadbalancers", "", fmt.Errorf("expiry: list %s instances in %s: %w", src.product, region, lbErr))
	}
	if lsErr != nil {
		li.fail("listeners", "", fmt.Errorf("expiry: list %s listeners in %s: %w", src.product, region, lsErr))
	}
	if li.failed {
		return li
	}
	dns := make(map[string]string, len(lbs))
	for _, lb := range lbs {
		dns[lb.ID] = lb.DNSName
	}
	sort.Slice(listeners, func(i, j int) bool { return listeners[i].ID < listeners[j].ID })
	li.listeners = len(listeners)

	var (
		mu   sync.Mutex
		done int
	)
	jobs := make(chan aliyun.LBListener)
	go func() {
		defer close(jobs)
		for _, l := range listeners {
			select {
			case jobs <- l:
			case <-ctx.Done():
				return
			}
		}
	}()
	c.pool(workers, func() {
		for l := range jobs {
			if ctx.Err() != nil {
				continue
			}
			served, problem := c.lbListener(ctx, src, region, l, dns[l.LoadBalancerID])
			mu.Lock()
			done++
			li.targets = append(li.targets, served...)
			if problem != nil {
				li.problems = append(li.problems, *problem)
			}
			mu.Unlock()
		}
	})
	if err := ctx.Err(); err != nil && done < len(listeners) {
		li.problem("inventory", "", fmt.Errorf("expiry: %s inventory of %s cut short (%d of %d listeners): %w", src.product, region, done, len(listeners), err))
	}
	return li
}

// lbListener lists one listener's certificates and resolves them in CAS.
func (c *collector) lbListener(ctx context.Context, src lbSource, region string, l aliyun.LBListener, address string) ([]lbServed, *Problem) {
	base := Place{Product: src.product, Region: region, LoadBalancerID: l.LoadBalancerID, ListenerID: l.ID, ListenerPort: l.Port, Protocol: l.Protocol}
	var lcs []aliyun.ListenerCertificate
	err := c.call(ctx, src.product+".ListListenerCertificates", func() (err error) {
		lcs, err = src.inv.ListListenerCertificates(ctx, region, l.ID)
		return err
	})
	if err != nil {
		p := newProblem("listeners", region, base.String(), fmt.Errorf("expiry: list certificates of %s listener %s in %s: %w", src.product, l.ID, region, err))
		p.Product = src.product
		return nil, &p
	}
	if len(lcs) == 0 && l.DefaultCertificate != "" {
		lcs = []aliyun.ListenerCertificate{{ID: l.DefaultCertificate, Default: true, Status: "Associated"}}
	}
	running := l.Status == "" || l.Status == "Running" || l.Status == aliyun.Configuring
	out := make([]lbServed, 0, len(lcs))
	for _, lc := range lcs {
		p := base
		p.Role = RoleAdditional
		if lc.Default {
			p.Role = RoleDefault
		}
		s := lbServed{place: p, certID: lc.ID, address: address,
			running: running && (lc.Default || lc.Status == "" || lc.Status == "Associated")}
		if _, casRegion, perr := aliyun.ParseCASIdentity(lc.ID); perr == nil {
			certs := c.cas.get(ctx, casRegion)
			if cc, ok := certs[lc.ID]; ok {
				s.cert = &cc
			}
			s.casFailed = certs == nil
		}
		out = append(out, s)
		if c.probes != nil {
			c.probes.offerLB(s)
		}
	}
	return out, nil
}

func (li *lbInventory) fail(stage, subject string, err error) {
	li.failed = true
	li.problem(stage, subject, err)
}

func (li *lbInventory) problem(stage, subject string, err error) {
	p := newProblem(stage, li.region, subject, err)
	p.Product = li.product
	li.problems = append(li.problems, p)
}

// sniDomain is the name a handshake asks for to reach an additional
// certificate: its first DNS name.
func sniDomain(cc *aliyun.CASCertificate) string {
	if len(cc.SANs) > 0 {
		return cc.SANs[0]
	}
	return cc.CommonName
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
