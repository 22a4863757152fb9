package expiry

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// lbGroupSize is how many load balancers one DescribeLoadBalancerListeners
// call accepts.
const lbGroupSize = 10

// served is one place serving a certificate: a listener's default
// certificate or one of its domain extensions. Only what the report and the
// probe need is kept.
type served struct {
	target  clb.Target
	certID  string
	address string
	running bool
}

// regionInventory is what the collect phase keeps of one region.
type regionInventory struct {
	region    string
	certs     map[string]clb.ServerCertificate
	targets   []served
	listeners int
	problems  []Problem
	failed    bool // the region as a whole could not be inventoried
}

// collector runs the inventory calls with one shared bound on concurrent
// calls and counts them.
type collector struct {
	inv   Inventory
	sem   chan struct{}
	mu    sync.Mutex
	calls map[string]int
	// probes, when not nil, is offered every target as soon as it is known.
	probes *probeRun
	// cas resolves the certificates of ALB and NLB listeners.
	cas *casListing
}

func (c *collector) call(ctx context.Context, name string, f func() error) error {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.sem }()
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
	return f()
}

// region inventories one region. Load balancers and certificates are
// listed first (in parallel), then the listeners in groups of 10 load
// balancers, then the domain extensions of every HTTPS listener.
func (c *collector) region(ctx context.Context, region string, workers int) *regionInventory {
	ri := &regionInventory{region: region}
	certList, lbs, certErr, lbErr := c.listCertsAndLBs(ctx, region)
	if certErr != nil {
		ri.fail("certificates", region, "", fmt.Errorf("expiry: list server certificates in %s: %w", region, certErr))
	}
	if lbErr != nil {
		ri.fail("loadbalancers", region, "", fmt.Errorf("expiry: list load balancers in %s: %w", region, lbErr))
	}
	if ri.failed {
		return ri
	}
	ri.certs = make(map[string]clb.ServerCertificate, len(certList))
	for _, sc := range certList {
		sc.Region = region
		ri.certs[sc.ID] = sc
	}
	certList = nil

	addr := make(map[string]string, len(lbs))
	ids := make([]string, 0, len(lbs))
	for _, lb := range lbs {
		addr[lb.ID] = lb.Address
		ids = append(ids, lb.ID)
	}
	sort.Strings(ids)
	lbs = nil

	listeners, skippedGroups := c.listListeners(ctx, ri, ids, addr, workers)
	ri.listeners = len(listeners)
	done := c.listExtensions(ctx, ri, listeners, addr, workers)
	if err := ctx.Err(); err != nil && (done < len(listeners) || skippedGroups > 0) {
		ri.problem("inventory", region, "", fmt.Errorf("expiry: inventory of %s cut short (%d of %d listeners, %d groups of load balancers not listed): %w",
			region, done, len(listeners), skippedGroups, err))
	}
	return ri
}

// listCertsAndLBs lists the server certificates and the load balancers of
// region, the two calls in parallel.
func (c *collector) listCertsAndLBs(ctx context.Context, region string) (certList []clb.ServerCertificate, lbs []clb.LoadBalancer, certErr, lbErr error) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		certErr = c.call(ctx, "ListServerCertificates", func() (err error) {
			certList, err = c.inv.ListServerCertificates(ctx, region)
			return err
		})
	}()
	go func() {
		defer wg.Done()
		lbErr = c.call(ctx, "ListLoadBalancers", func() (err error) {
			lbs, err = c.inv.ListLoadBalancers(ctx, region)
			return err
		})
	}()
	wg.Wait()
	return certList, lbs, certErr, lbErr
}

// listListeners lists the HTTPS listeners of the load balancers ids, 10
// load balancers per call, groups in parallel, offering each listener's
// default certificate to the probes as soon as it is known. The listeners
// come back sorted by load balancer and port, with the number of groups
// skipped because ctx ended.
func (c *collector) listListeners(ctx context.Context, ri *regionInventory, ids []string, addr map[string]string, workers int) ([]clb.Listener, int) {
	region := ri.region
	var (
		mu            sync.Mutex
		listeners     []clb.Listener
		skippedGroups int
	)
	groups := make(chan []string)
	go func() {
		defer close(groups)
		for i := 0; i < len(ids); i += lbGroupSize {
			groups <- ids[i:min(i+lbGroupSize, len(ids))]
		}
	}()
	c.pool(workers, func() {
		for g := range groups {
			if ctx.Err() != nil {
				mu.Lock()
				skippedGroups++
				mu.Unlock()
				continue
			}
			var ls []clb.Listener
			err := c.call(ctx, "ListHTTPSListeners", func() (err error) {
				ls, err = c.inv.ListHTTPSListeners(ctx, region, g)
				return err
			})
			mu.Lock()
			if err != nil {
				ri.problem("listeners", region, fmt.Sprintf("load balancers %v", g),
					fmt.Errorf("expiry: list HTTPS listeners of %d load balancers in %s: %w", len(g), region, err))
			}
			first := len(listeners)
			for _, l := range ls {
				if l.Protocol != "" && l.Protocol != "https" {
					continue
				}
				listeners = append(listeners, l)
			}
			fresh := listeners[first:len(listeners):len(listeners)]
			mu.Unlock()
			// A listener's default certificate can be probed now; its
			// extensions once they are listed.
			if c.probes != nil {
				for _, l := range fresh {
					c.probes.offer(ri.certs, served{target: clb.Target{Region: region, LoadBalancerID: l.LoadBalancerID, ListenerPort: l.Port},
						certID: l.ServerCertificateID, address: addr[l.LoadBalancerID], running: l.Status == "" || l.Status == "running"})
				}
			}
		}
	})
	sort.Slice(listeners, func(i, j int) bool {
		if listeners[i].LoadBalancerID != listeners[j].LoadBalancerID {
			return listeners[i].LoadBalancerID < listeners[j].LoadBalancerID
		}
		return listeners[i].Port < listeners[j].Port
	})
	return listeners, skippedGroups
}

// listExtensions lists the domain extensions of every listener, one call
// per listener, and records in ri.targets each listener's default
// certificate and its extensions, offering them to the probes. It returns
// how many listeners were done before ctx ended.
func (c *collector) listExtensions(ctx context.Context, ri *regionInventory, listeners []clb.Listener, addr map[string]string, workers int) int {
	region := ri.region
	var (
		mu   sync.Mutex
		done int
	)
	jobs := make(chan clb.Listener)
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
	ri.targets = make([]served, 0, len(listeners))
	c.pool(workers, func() {
		for l := range jobs {
			if ctx.Err() != nil {
				continue // reported once by the caller
			}
			running := l.Status == "" || l.Status == "running"
			base := clb.Target{Region: region, LoadBalancerID: l.LoadBalancerID, ListenerPort: l.Port}
			var exts []clb.DomainExtension
			err := c.call(ctx, "ListDomainExtensions", func() (err error) {
				exts, err = c.inv.ListDomainExtensions(ctx, region, l.LoadBalancerID, l.Port)
				return err
			})
			mu.Lock()
			done++
			ri.targets = append(ri.targets, served{target: base, certID: l.ServerCertificateID, address: addr[l.LoadBalancerID], running: running})
			if err != nil {
				ri.problem("extensions", region, base.String(),
					fmt.Errorf("expiry: list domain extensions of %s: %w", base, err))
			}
			first := len(ri.targets)
			for _, e := range exts {
				t := base
				t.Domain = e.Domain
				ri.targets = append(ri.targets, served{target: t, certID: e.ServerCertificateID, address: addr[l.LoadBalancerID], running: running})
			}
			fresh := ri.targets[first:len(ri.targets):len(ri.targets)]
			mu.Unlock()
			if c.probes != nil {
				for _, t := range fresh {
					c.probes.offer(ri.certs, t)
				}
			}
		}
	})
	return done
}

// pool runs f on n goroutines and waits for them.
func (c *collector) pool(n int, f func()) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
}

func (ri *regionInventory) fail(stage, region, subject string, err error) {
	ri.failed = true
	ri.problem(stage, region, subject, err)
}

func (ri *regionInventory) problem(stage, region, subject string, err error) {
	ri.problems = append(ri.problems, newProblem(stage, region, subject, err))
}

func newProblem(stage, region, subject string, err error) Problem {
	return Problem{Stage: stage, Region: region, Subject: subject, Error: err.Error(), Transient: isTransient(err)}
}

// isTransient: retrying later may help (throttling, 5xx, timeouts).
func isTransient(err error) bool {
	return errors.Is(err, apierr.ErrTransient) || errors.Is(err, context.DeadlineExceeded) ||
		!apierr.Permanent(err) && !errors.Is(err, context.Canceled)
}
