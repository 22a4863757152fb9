package expiry

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// probeRun handshakes targets while the inventory is still running: the
// collector offers every target as soon as its load balancer's address,
// its listener and (for SNI) its domain extension are known, and a pool of
// ProbeConcurrency workers, separate from the inventory's API bound,
// probes them. Probing only reads, so it belongs to "collect"; everything
// that writes (rotation, notification, report) waits for finish.
//
// Targets are queued per address and one worker at a time owns an
// address, so the rule "once a port of an address times out, the address
// is unreachable and its other targets are not dialled" holds however the
// targets of one address trickle in.
//
// Time budget: no handshake starts later than latest (the sweep's working
// deadline minus one probe timeout, so a started probe cannot be cut by the
// deadline); later targets, and targets whose handshake was cut by the
// context, are counted in ProbeCounts.OutOfTime (and Skipped) and reported
// by one summary Problem, never as reachable or unreachable.
type probeRun struct {
	prober  Prober
	ctx     context.Context
	timeout time.Duration
	latest  time.Time // zero: no limit

	mu     sync.Mutex
	cond   *sync.Cond
	addrs  map[string]*addrQueue
	ready  []*addrQueue // addresses with pending targets and no worker
	closed bool
	wg     sync.WaitGroup

	counts      ProbeCounts
	drift       []ProbeFinding
	unreachable []ProbeFinding
}

// addrQueue is one address's pending targets and what is known of it.
// pending and held are guarded by probeRun.mu; the dead* fields are only
// touched by the worker holding the address.
type addrQueue struct {
	address     string
	pending     []probeTarget
	held        bool // in ready or owned by a worker
	deadAddress string
	deadPorts   map[int]string
}

type probeTarget struct {
	target   clb.Target
	expected string
	// place is set for an ALB or NLB target.
	place *Place
}

// startProbes starts the probe workers; the caller must call finish.
func (s *Sweeper) startProbes(ctx context.Context) *probeRun {
	timeout := s.ProbeTimeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	n := s.ProbeConcurrency
	if n <= 0 {
		n = DefaultProbeConcurrency
	}
	p := &probeRun{prober: s.Prober, ctx: ctx, timeout: timeout, addrs: map[string]*addrQueue{}}
	if dl, ok := ctx.Deadline(); ok {
		p.latest = dl.Add(-timeout)
	}
	p.cond = sync.NewCond(&p.mu)
	for range n {
		p.wg.Add(1)
		go p.work()
	}
	return p
}

// offer queues a target for probing, or counts it as skipped when it
// cannot be probed (stopped listener, certificate unknown to
// DescribeServerCertificates, no address). certs is the region's
// certificate list, read only.
func (p *probeRun) offer(certs map[string]clb.ServerCertificate, t served) {
	sc, known := certs[t.certID]
	ok := t.running && known && t.certID != "" && t.address != ""
	p.enqueue(t.address, probeTarget{target: t.target, expected: sc.Fingerprint}, ok)
}

// offerLB queues an ALB or NLB place (its listener's DNS name, the SNI of
// an additional certificate's first name), or counts it as skipped: a
// stopped listener, a certificate not associated yet or any more, one
// unknown to CAS, no DNS name, or a QUIC listener (HTTP/3 over UDP: a TLS
// handshake over TCP cannot reach it).
func (p *probeRun) offerLB(s lbServed) {
	ok := s.running && s.cert != nil && s.cert.Fingerprint != "" && s.address != "" && s.place.Protocol != "QUIC"
	pt := probeTarget{target: lbTarget(s), place: &s.place}
	if s.cert != nil {
		pt.expected = s.cert.Fingerprint
	}
	p.enqueue(s.address, pt, ok)
}

// enqueue queues pt on its address when ok, else counts it as skipped.
func (p *probeRun) enqueue(address string, pt probeTarget, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !ok {
		p.counts.Skipped++
		return
	}
	q := p.addrs[address]
	if q == nil {
		q = &addrQueue{address: address, deadPorts: map[int]string{}}
		p.addrs[address] = q
	}
	q.pending = append(q.pending, pt)
	if !q.held {
		q.held = true
		p.ready = append(p.ready, q)
		p.cond.Signal()
	}
}

// finish waits until every offered target has been probed (or skipped)
// and stops the workers. No offer may follow.
func (p *probeRun) finish() {
	p.mu.Lock()
	p.closed = true
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

// work takes addresses from the ready queue and drains each one's
// pending targets, including those offered while it works.
func (p *probeRun) work() {
	defer p.wg.Done()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for len(p.ready) == 0 && !p.closed {
			p.cond.Wait()
		}
		if len(p.ready) == 0 {
			return
		}
		q := p.ready[0]
		p.ready[0] = nil
		p.ready = p.ready[1:]
		for len(q.pending) > 0 {
			pt := q.pending[0]
			q.pending = q.pending[1:]
			p.mu.Unlock()
			p.probeOne(q, pt)
			p.mu.Lock()
		}
		q.pending = nil
		q.held = false
	}
}

// probeOne probes one target of the address q (held by the caller) and
// records the outcome.
func (p *probeRun) probeOne(q *addrQueue, pt probeTarget) {
	t := pt.target
	sni := ""
	if t.Domain != "" {
		sni = certs.HandshakeName(t.Domain)
	}
	var res ProbeResult
	late := false
	switch {
	case q.deadAddress != "":
		res = ProbeResult{Err: "not dialled: " + q.deadAddress}
	case q.deadPorts[t.ListenerPort] != "":
		res = ProbeResult{Err: "not dialled: " + q.deadPorts[t.ListenerPort]}
	case p.ctx.Err() != nil || !p.latest.IsZero() && !time.Now().Before(p.latest):
		late = true
	default:
		start := time.Now()
		res = p.prober.Probe(p.ctx, q.address, t.ListenerPort, sni, p.timeout)
		switch {
		case !res.Reachable && p.ctx.Err() != nil:
			late = true // cut by the deadline: says nothing about the address
		case !res.Reachable:
			why := fmt.Sprintf("%s:%d unreachable (%s)", q.address, t.ListenerPort, res.Err)
			q.deadPorts[t.ListenerPort] = why
			if time.Since(start) >= p.timeout/2 {
				q.deadAddress = why
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if late {
		p.counts.Skipped++
		p.counts.OutOfTime++
		return
	}
	f := ProbeFinding{Product: clb.ProductCLB, Target: t, Listener: pt.place, Address: q.address, ServerName: sni, Expected: pt.expected}
	if pt.place != nil {
		f.Product = pt.place.Product
	}
	p.counts.Probed++
	switch {
	case !res.Reachable:
		p.counts.Unreachable++
		f.Detail = res.Err
		p.unreachable = append(p.unreachable, f)
	case normalizeFingerprint(res.FingerprintSHA1) == normalizeFingerprint(pt.expected):
		p.counts.Matched++
	default:
		p.counts.Drift++
		f.Served = res.FingerprintSHA1
		f.Detail = "served certificate differs from the configured one"
		if res.Err != "" {
			f.Detail = res.Err
		}
		p.drift = append(p.drift, f)
	}
}

// report copies the outcome into rep (after finish): counts, sorted
// findings, and one problem when probes ran out of time.
func (p *probeRun) report(rep *Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rep.Probes = p.counts
	rep.Drift = append(rep.Drift, p.drift...)
	rep.Unreachable = append(rep.Unreachable, p.unreachable...)
	sortFindings(rep.Drift)
	sortFindings(rep.Unreachable)
	if n := p.counts.OutOfTime; n > 0 {
		why := "the sweep's time budget was spent"
		if !p.latest.IsZero() {
			why += fmt.Sprintf(" (no handshake starts later than one probe timeout, %s, before the working deadline)", p.timeout)
		}
		if err := p.ctx.Err(); err != nil {
			why += ": " + err.Error()
		}
		rep.Errors = append(rep.Errors, Problem{Stage: "probe", Transient: true,
			Error: fmt.Sprintf("expiry: %d of %d probe targets not probed for lack of time; %s", n, n+p.counts.Probed, why)})
	}
}

func sortFindings(f []ProbeFinding) {
	sort.Slice(f, func(i, j int) bool {
		if f[i].Product != f[j].Product {
			return f[i].Product < f[j].Product
		}
		return f[i].Target.String() < f[j].Target.String()
	})
}
