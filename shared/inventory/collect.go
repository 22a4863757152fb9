package inventory

import (
	"context"
	"sort"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Call names the Collector counts its reads under.
const (
	CallCertificates = "Certificates"
	CallInstances    = "Instances"
	CallListeners    = "Listeners"
	CallSNI          = "SNI"
	// CallListener is one read of a listener by a ListenerReader.
	CallListener = "Listener"
)

// Collector makes the reads of inventories with one bound on concurrent
// calls (shared by every region and product it collects) and counts them.
// It is safe for concurrent use.
type Collector struct {
	sem    chan struct{}
	mu     *sync.Mutex
	calls  map[string]int
	prefix string
}

// NewCollector bounds concurrent calls to limit (at least 1).
func NewCollector(limit int) *Collector {
	return &Collector{sem: make(chan struct{}, max(1, limit)), mu: &sync.Mutex{}, calls: map[string]int{}}
}

// Prefixed is a view of c that shares its bound and its counts and counts
// its calls under prefix+name (one product's calls among others').
func (c *Collector) Prefixed(prefix string) *Collector {
	return &Collector{sem: c.sem, mu: c.mu, calls: c.calls, prefix: c.prefix + prefix}
}

// Limit is the bound on concurrent calls.
func (c *Collector) Limit() int { return cap(c.sem) }

// Calls returns how many calls were made, by name (a copy).
func (c *Collector) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// Do runs f as one counted call under the bound. It returns ctx's error
// without calling f, and made false, when ctx ended first.
func (c *Collector) Do(ctx context.Context, name string, f func() error) (made bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-c.sem }()
	c.mu.Lock()
	c.calls[c.prefix+name]++
	c.mu.Unlock()
	return true, f()
}

// Handlers receive a collection's facts as they arrive. Calls come from
// the collection's goroutines, concurrently; every field may be nil.
type Handlers struct {
	// Listeners receives each batch of listeners as its call answers.
	Listeners func(ls []TLSListener)
	// ListenersDone is called once every batch answered, failed or was
	// left out (the context ended): no Listeners call follows.
	ListenersDone func()
	// WantSNI chooses the listeners whose SNI is listed (nil: all).
	WantSNI func(l TLSListener) bool
	// SNI receives each listener's SNI listing (or its error) as it answers.
	SNI func(l TLSListener, sni []SNICertificate, err error)
	// Certificate resolves a certificate id for a ListenerReader's reads
	// (nil: the snapshot's Certificates).
	Certificate func(id string) (clb.ServerCertificate, bool)
	// Read receives each ListenerReader read that answered (after
	// Listeners and SNI for its listener).
	Read func(rd ListenerRead)
}

// Collect inventories one product in one region: certificates and
// instances (concurrently), then the listeners of every instance in
// batches of r.ReadBatch() (concurrently), then the SNI listing of every
// listener (concurrently), telling h as it goes.
func (c *Collector) Collect(ctx context.Context, r Reader, region string, h Handlers) *Snapshot {
	s := c.Top(ctx, r, region, true, true)
	if s.Failed() {
		if h.ListenersDone != nil {
			h.ListenersDone()
		}
		return s
	}
	ids := make([]string, len(s.Instances))
	for i, in := range s.Instances {
		ids[i] = in.ID
	}
	c.Walk(ctx, r, s, ids, h)
	return s
}

// Top lists region's certificates (when certs is set) and instances (when
// instances is set), concurrently, into a new snapshot; a failure is
// recorded in it.
func (c *Collector) Top(ctx context.Context, r Reader, region string, certs, instances bool) *Snapshot {
	s := &Snapshot{Region: region, SNI: map[string][]SNICertificate{}}
	var wg sync.WaitGroup
	var certErr, lbErr error
	var list []clb.ServerCertificate
	if certs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, certErr = c.Do(ctx, CallCertificates, func() (err error) {
				list, err = r.Certificates(ctx, region)
				return err
			})
		}()
	}
	if instances {
		_, lbErr = c.Do(ctx, CallInstances, func() (err error) {
			s.Instances, err = r.Instances(ctx, region)
			return err
		})
	}
	wg.Wait()
	s.Certificates = list
	if certErr != nil {
		s.Failures = append(s.Failures, Failure{Part: PartCertificates, Err: certErr})
	}
	if lbErr != nil {
		s.Failures = append(s.Failures, Failure{Part: PartInstances, Err: lbErr})
	}
	return s
}

// Walk lists the listeners of the load balancers ids (sorted, in batches
// of r.ReadBatch(), the batches concurrently) into s, then the SNI of each
// listener h wants, concurrently; every call under the Collector's bound.
// A ListenerReader's listeners are listed bare and each wanted one is read
// once instead (readEach).
func (c *Collector) Walk(ctx context.Context, r Reader, s *Snapshot, ids []string, h Handlers) {
	if s.SNI == nil {
		s.SNI = map[string][]SNICertificate{}
	}
	ids = append([]string(nil), ids...)
	sort.Strings(ids)
	var mu sync.Mutex // guards s
	lr, reads := r.(ListenerReader)
	var listeners []TLSListener
	pool(c, Batches(r, ids), func(batch []string) {
		var ls []TLSListener
		made, err := c.Do(ctx, CallListeners, func() (err error) {
			if reads {
				ls, err = lr.BareListeners(ctx, s.Region, batch)
			} else {
				ls, err = r.Listeners(ctx, s.Region, batch)
			}
			return err
		})
		mu.Lock()
		switch {
		case !made:
			s.UnlistedBatches++
		case err != nil:
			s.Failures = append(s.Failures, Failure{Part: PartListeners, LoadBalancerIDs: batch, Err: err})
		default:
			listeners = append(listeners, ls...)
		}
		mu.Unlock()
		if made && err == nil && h.Listeners != nil && !reads {
			h.Listeners(ls)
		}
	})
	sortListeners(listeners)
	if reads {
		c.readEach(ctx, lr, s, listeners, h)
		return
	}
	s.Listeners = append(s.Listeners, listeners...)
	sortListeners(s.Listeners)
	if h.ListenersDone != nil {
		h.ListenersDone()
	}
	c.listSNI(ctx, r, s, c.wanted(s, listeners, h), h)
}

// wanted are the listeners of ls whose SNI h wants (s is partial when it
// leaves one out).
func (c *Collector) wanted(s *Snapshot, ls []TLSListener, h Handlers) []TLSListener {
	var want []TLSListener
	for _, l := range ls {
		if h.WantSNI == nil || h.WantSNI(l) {
			want = append(want, l)
		} else {
			s.Partial = true
		}
	}
	return want
}

// listSNI lists the SNI of every listener of want, concurrently.
func (c *Collector) listSNI(ctx context.Context, r Reader, s *Snapshot, want []TLSListener, h Handlers) {
	var mu sync.Mutex // guards s
	pool(c, want, func(l TLSListener) {
		var sni []SNICertificate
		made, err := c.Do(ctx, CallSNI, func() (err error) {
			sni, err = r.SNI(ctx, s.Region, l)
			return err
		})
		mu.Lock()
		switch {
		case !made:
			s.UnlistedSNI++
		case err != nil:
			s.Failures = append(s.Failures, Failure{Part: PartSNI, Listener: l, Err: err})
		default:
			s.SNI[l.Key()] = sni
		}
		mu.Unlock()
		if made && h.SNI != nil {
			h.SNI(l, sni, err)
		}
	})
}

// readEach reads every listener of ls h wants once, concurrently, into s
// (its default certificate, what it holds, its SNI places), telling h
// each listener then its SNI as its read answers, and ListenersDone once
// every read answered. A listener h does not want is kept as listed when
// the listing named its default certificate (an unread one is left out:
// s is partial). A failed read is a PartSNI failure; the listener is kept.
func (c *Collector) readEach(ctx context.Context, r ListenerReader, s *Snapshot, ls []TLSListener, h Handlers) {
	cert := h.Certificate
	if cert == nil {
		cert = certIndex(s.Certificates)
	}
	if s.Held == nil {
		s.Held = map[string][]HeldCertificate{}
	}
	want := c.wanted(s, ls, h)
	wanted := make(map[string]bool, len(want))
	for _, l := range want {
		wanted[l.Key()] = true
	}
	var listed []TLSListener
	for _, l := range ls {
		if !wanted[l.Key()] && l.CertificateID != "" {
			listed = append(listed, l)
		}
	}
	if len(listed) > 0 && h.Listeners != nil {
		h.Listeners(listed)
	}
	var mu sync.Mutex // guards s
	pool(c, want, func(l TLSListener) {
		var rd ListenerRead
		made, err := c.Do(ctx, CallListener, func() (err error) {
			rd, err = r.ReadListener(ctx, s.Region, l, cert)
			return err
		})
		if made && err == nil {
			l = rd.Listener
		}
		mu.Lock()
		switch {
		case !made:
			s.UnlistedSNI++
		case err != nil:
			s.Failures = append(s.Failures, Failure{Part: PartSNI, Listener: l, Err: err})
			listed = append(listed, l)
		default:
			listed = append(listed, l)
			s.SNI[l.Key()], s.Held[l.Key()] = rd.SNI, rd.Held
		}
		mu.Unlock()
		if made && err == nil && h.Listeners != nil {
			h.Listeners([]TLSListener{l})
		}
		if made && h.SNI != nil {
			h.SNI(l, rd.SNI, err)
		}
		if made && err == nil && h.Read != nil {
			h.Read(rd)
		}
	})
	s.Listeners = append(s.Listeners, listed...)
	sortListeners(s.Listeners)
	if h.ListenersDone != nil {
		h.ListenersDone()
	}
}

// certIndex resolves ids among certs.
func certIndex(certs []clb.ServerCertificate) func(string) (clb.ServerCertificate, bool) {
	byID := make(map[string]clb.ServerCertificate, len(certs))
	for _, c := range certs {
		byID[c.ID] = c
	}
	return func(id string) (clb.ServerCertificate, bool) {
		c, ok := byID[id]
		return c, ok
	}
}

// pool runs f for every item on as many goroutines as the bound allows
// (the bound itself is Do's; the pool only avoids a goroutine per item).
func pool[T any](c *Collector, items []T, f func(T)) {
	jobs := make(chan T)
	var wg sync.WaitGroup
	for range min(c.Limit(), len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				f(it)
			}
		}()
	}
	for _, it := range items {
		jobs <- it
	}
	close(jobs)
	wg.Wait()
}
