package expiry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// served is one place serving a certificate: a listener's default
// certificate or one of its domain extensions. Only what the report and the
// probe need is kept.
type served struct {
	target  clb.Target
	certID  string
	address string
	running bool
}

// lane is what the collect phase keeps of one lane (CLB in a region, or
// one ALB or NLB product in a region) besides its places.
type lane struct {
	product   string // empty for CLB
	region    string
	listeners int
	problems  []Problem
	failed    bool // the lane as a whole could not be inventoried
	// snapshot is the lane's inventory, handed to auto-rotation when
	// complete.
	snapshot *inventory.Snapshot
}

// fail records a problem that fails the whole lane.
func (l *lane) fail(stage, subject string, err error) {
	l.failed = true
	l.problem(stage, subject, err)
}

func (l *lane) problem(stage, subject string, err error) {
	p := newProblem(stage, l.region, subject, err)
	p.Product = l.product
	l.problems = append(l.problems, p)
}

// tally adds the lane's problems to rep and, unless the lane failed, its
// listeners and its targets (how many); it reports whether it did not.
func (l *lane) tally(rep *Report, targets int) bool {
	rep.Errors = append(rep.Errors, l.problems...)
	if l.failed {
		return false
	}
	rep.Listeners += l.listeners
	rep.Targets += targets
	return true
}

// regionInventory is what the collect phase keeps of CLB in one region.
type regionInventory struct {
	lane
	certs   map[string]clb.ServerCertificate
	targets []served
}

// collector runs the sweep's inventory calls through one
// inventory.Collector: one bound on concurrent calls and one count, for
// CLB (the inventory's Collect) and ALB, NLB and CAS (call).
type collector struct {
	clb  inventory.Reader
	coll *inventory.Collector
	// probes, when not nil, is offered every target as soon as it is known.
	probes *probeRun
	// cas resolves the certificates of ALB and NLB listeners.
	cas *casListing
}

func (c *collector) call(ctx context.Context, name string, f func() error) error {
	_, err := c.coll.Do(ctx, name, f)
	return err
}

// clbCallNames are the report's names of the inventory's CLB calls.
var clbCallNames = map[string]string{
	inventory.CallCertificates: "ListServerCertificates",
	inventory.CallInstances:    "ListLoadBalancers",
	inventory.CallListeners:    "ListHTTPSListeners",
	inventory.CallSNI:          "ListDomainExtensions",
}

// lbCallNames are the report's names of an ALB or NLB port's calls
// (counted under "<product>."): the adapter methods they make.
var lbCallNames = map[string]string{
	inventory.CallInstances: "ListLoadBalancers",
	inventory.CallListeners: "ListListeners",
	inventory.CallListener:  "ListListenerCertificates",
	inventory.CallSNI:       "ListListenerCertificates",
}

// calls are the calls made, under the report's names.
func (c *collector) calls() map[string]int {
	out := map[string]int{}
	if c.cas != nil {
		for k, v := range c.cas.coll.Calls() {
			out[k] += v
		}
	}
	for k, v := range c.coll.Calls() {
		if n, ok := clbCallNames[k]; ok {
			k = n
		} else if product, call, ok := strings.Cut(k, "."); ok && lbCallNames[call] != "" {
			k = product + "." + lbCallNames[call]
		}
		out[k] += v
	}
	return out
}

// region inventories one region's CLB with the inventory's collector:
// certificates and load balancers first (in parallel), then the listeners
// in the reader's batches, then the domain extensions of every HTTPS
// listener; each listener's default certificate is offered to the probes
// as its batch is listed, its extensions as they are.
func (c *collector) region(ctx context.Context, region string) *regionInventory {
	ri := &regionInventory{lane: lane{region: region}}
	s := c.coll.Top(ctx, c.clb, region, true, true)
	ri.snapshot = s
	for _, f := range s.Failures { // Top records certificates first
		switch f.Part {
		case inventory.PartCertificates:
			ri.fail("certificates", "", fmt.Errorf("expiry: list server certificates in %s: %w", region, f.Err))
		case inventory.PartInstances:
			ri.fail("loadbalancers", "", fmt.Errorf("expiry: list load balancers in %s: %w", region, f.Err))
		}
	}
	if ri.failed {
		return ri
	}
	ri.certs = make(map[string]clb.ServerCertificate, len(s.Certificates))
	for _, sc := range s.Certificates {
		sc.Region = region
		ri.certs[sc.ID] = sc
	}
	addr := make(map[string]string, len(s.Instances))
	ids := make([]string, 0, len(s.Instances))
	for _, lb := range s.Instances {
		addr[lb.ID] = lb.Address
		ids = append(ids, lb.ID)
	}
	c.coll.Walk(ctx, c.clb, s, ids, c.handlers(ri, addr))
	ri.listeners = len(s.Listeners)
	c.walkProblems(ctx, ri, s)
	return ri
}

// handlers record each listener with its extensions in ri.targets as its
// extension listing answers (the default certificate also when that
// listing failed), offering each place to the probes as soon as it is
// known.
func (c *collector) handlers(ri *regionInventory, addr map[string]string) inventory.Handlers {
	var mu sync.Mutex
	place := func(l inventory.TLSListener, domain, certID string) served {
		return served{target: clb.Target{Region: ri.region, LoadBalancerID: l.LoadBalancerID, ListenerPort: l.Port, Domain: domain},
			certID: certID, address: addr[l.LoadBalancerID], running: l.Running()}
	}
	return inventory.Handlers{
		Listeners: func(ls []inventory.TLSListener) {
			if c.probes == nil {
				return
			}
			for _, l := range ls {
				c.probes.offer(ri.certs, place(l, "", l.CertificateID))
			}
		},
		SNI: func(l inventory.TLSListener, exts []inventory.SNICertificate, _ error) {
			fresh := make([]served, 0, len(exts))
			for _, e := range exts {
				fresh = append(fresh, place(l, e.Domain, e.CertificateID))
			}
			mu.Lock()
			ri.targets = append(ri.targets, place(l, "", l.CertificateID))
			ri.targets = append(ri.targets, fresh...)
			mu.Unlock()
			if c.probes != nil {
				for _, t := range fresh {
					c.probes.offer(ri.certs, t)
				}
			}
		},
	}
}

// walkProblems reports the listings of s that failed, and a walk the
// context cut short, once.
func (c *collector) walkProblems(ctx context.Context, ri *regionInventory, s *inventory.Snapshot) {
	region := ri.region
	for _, f := range s.Failures {
		switch f.Part {
		case inventory.PartListeners:
			ri.problem("listeners", fmt.Sprintf("load balancers %v", f.LoadBalancerIDs),
				fmt.Errorf("expiry: list HTTPS listeners of %d load balancers in %s: %w", len(f.LoadBalancerIDs), region, f.Err))
		case inventory.PartSNI:
			base := clb.Target{Region: region, LoadBalancerID: f.Listener.LoadBalancerID, ListenerPort: f.Listener.Port}
			ri.problem("extensions", base.String(), fmt.Errorf("expiry: list domain extensions of %s: %w", base, f.Err))
		}
	}
	done := len(s.Listeners) - s.UnlistedSNI
	if err := ctx.Err(); err != nil && (s.UnlistedSNI > 0 || s.UnlistedBatches > 0) {
		ri.problem("inventory", "", fmt.Errorf("expiry: inventory of %s cut short (%d of %d listeners, %d groups of load balancers not listed): %w",
			region, done, len(s.Listeners), s.UnlistedBatches, err))
	}
}

func newProblem(stage, region, subject string, err error) Problem {
	return Problem{Stage: stage, Region: region, Subject: subject, Error: err.Error(), Transient: isTransient(err)}
}

// isTransient: retrying later may help (throttling, 5xx, timeouts).
func isTransient(err error) bool {
	return errors.Is(err, apierr.ErrTransient) || errors.Is(err, context.DeadlineExceeded) ||
		!apierr.Permanent(err) && !errors.Is(err, context.Canceled)
}
