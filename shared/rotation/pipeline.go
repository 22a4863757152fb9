package rotation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
)

// pipeline runs one rotation of a loaded pair with the work on different
// actions overlapping: each region is planned in its own goroutine and
// reports every target as soon as its own facts are known; once every
// region knows whether it has a target and the pair is uploaded in each
// region that has one, targets are switched in the order they were found
// while discovery goes on (listener default targets do not wait for the
// extension listings), each verification listing runs as soon as the
// targets it covers are switched and final, and each handshake as soon as
// its target is verified.
//
// What protects the user, and where:
//   - nothing is written before every region's explicit targets were found
//     to exist and the pair is uploaded in every region with a target (the
//     gate): an unknown target or a quota refusal leaves every target
//     untouched;
//   - a target is switched only to the certificate of its own region, after
//     its own facts were checked (covered domains, not pinned, never
//     backwards), which discovery decides per target;
//   - a planning failure before the gate stops the rotation with nothing
//     switched; after it, the rotation ends partial (or failed), names the
//     listings that failed and returns an error, so that the retry (or the
//     next expiry-check run) completes it.
type pipeline struct {
	r       *Rotator
	m       *material
	regions []*regionRun
	byName  map[string]*regionRun

	mu       sync.Mutex
	cond     *sync.Cond    // signals the switch workers (queue, planning ended)
	wake     chan struct{} // a region's planning state changed (buffered 1)
	gate     chan struct{} // closed when switching may begin
	abort    chan struct{} // closed when the rotation stops before any switch
	gateOpen bool
	outs     []*targetOutcome
	queue    []*targetOutcome // targets waiting for a switch worker, in order found
	ended    int              // regions whose planning ended

	planning sync.WaitGroup // the regions' planning goroutines
	work     sync.WaitGroup // switch workers, verifications and probes
	reads    chan struct{}  // bounds the verification listings in flight
	probes   chan struct{}  // bounds the handshakes in flight

	seenMu sync.Mutex
	seen   observation
}

// regionRun is the pipeline's state of one region (guarded by pipeline.mu).
type regionRun struct {
	plan    *regionPlan
	checked bool  // its explicit targets exist
	ended   bool  // its planning ended
	err     error // planning's error
	late    bool  // err came after the gate: discovery is incomplete
	targets int
	// pending are targets not yet handed to a verification (listener
	// targets until the listeners are final, extension targets by listener).
	pendingListeners []*targetOutcome
	pendingExts      map[string][]*targetOutcome
}

func newPipeline(r *Rotator, m *material, lanes []*regionPlan) *pipeline {
	pp := &pipeline{r: r, m: m, byName: map[string]*regionRun{}, wake: make(chan struct{}, 1),
		gate: make(chan struct{}), abort: make(chan struct{}), seen: observation{},
		reads: make(chan struct{}, r.concurrency()), probes: make(chan struct{}, r.concurrency())}
	pp.cond = sync.NewCond(&pp.mu)
	for _, p := range lanes {
		rr := &regionRun{plan: p, pendingExts: map[string][]*targetOutcome{}}
		pp.regions = append(pp.regions, rr)
		pp.byName[p.lane()] = rr
	}
	return pp
}

func (pp *pipeline) signal() {
	select {
	case pp.wake <- struct{}{}:
	default:
	}
}

func (pp *pipeline) explicitChecked(region string) {
	pp.mu.Lock()
	pp.byName[region].checked = true
	pp.mu.Unlock()
	pp.signal()
}

// added queues a new target for the switch workers.
func (pp *pipeline) added(_ context.Context, t *target) {
	o := &targetOutcome{t: t, tr: targetResult(t, "", ""), state: StateUnknown, done: make(chan struct{}), probed: make(chan struct{})}
	pp.mu.Lock()
	rr := pp.byName[t.lane()]
	rr.targets++
	pp.outs = append(pp.outs, o)
	pp.queue = append(pp.queue, o)
	if t.extID == "" {
		rr.pendingListeners = append(rr.pendingListeners, o)
	} else {
		k := inventory.PlaceOfListener(t.LoadBalancerID, t.ListenerPort)
		rr.pendingExts[k] = append(rr.pendingExts[k], o)
	}
	pp.cond.Signal()
	pp.mu.Unlock()
	pp.signal()
}

func (pp *pipeline) listenersFinal(ctx context.Context, region string) {
	pp.mu.Lock()
	rr := pp.byName[region]
	outs := rr.pendingListeners
	rr.pendingListeners = nil
	pp.mu.Unlock()
	pp.verifyLater(ctx, outs)
}

func (pp *pipeline) extensionsFinal(ctx context.Context, region, lbID string, port int) {
	k := inventory.PlaceOfListener(lbID, port)
	pp.mu.Lock()
	rr := pp.byName[region]
	outs := rr.pendingExts[k]
	delete(rr.pendingExts, k)
	pp.mu.Unlock()
	pp.verifyLater(ctx, outs)
}

// planEnded records the end of a region's planning: every target it has not
// handed to a verification yet is final now.
func (pp *pipeline) planEnded(ctx context.Context, rr *regionRun, err error) {
	pp.mu.Lock()
	rr.ended, rr.err, rr.late = true, err, pp.gateOpen
	outs := rr.pendingListeners
	rr.pendingListeners = nil
	keys := make([]string, 0, len(rr.pendingExts))
	for k := range rr.pendingExts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		outs = append(outs, rr.pendingExts[k]...)
	}
	rr.pendingExts = map[string][]*targetOutcome{}
	pp.ended++
	pp.cond.Broadcast()
	pp.mu.Unlock()
	pp.verifyLater(ctx, outs)
	pp.signal()
}

// verifyLater starts the verification listings of outs (final targets):
// each waits for its targets' switches.
func (pp *pipeline) verifyLater(ctx context.Context, outs []*targetOutcome) {
	for _, j := range verifyJobs(outs) {
		pp.work.Add(1)
		go pp.verify(ctx, j)
	}
}

// decided reports whether every region knows whether it has a target (its
// explicit targets exist, and it found one or its planning ended), or the
// first planning error; the caller holds pp.mu.
func (pp *pipeline) decidedLocked() (bool, error) {
	all := true
	for _, rr := range pp.regions {
		if rr.err != nil {
			return false, rr.err
		}
		if !rr.checked || rr.targets == 0 && !rr.ended {
			all = false
		}
	}
	return all, nil
}

// waitDecided waits until every region is decided (or planning failed).
func (pp *pipeline) waitDecided(ctx context.Context) error {
	for {
		pp.mu.Lock()
		all, err := pp.decidedLocked()
		pp.mu.Unlock()
		if err != nil || all {
			return err
		}
		select {
		case <-pp.wake:
		case <-ctx.Done():
			return fmt.Errorf("rotation: plan: %w", ctx.Err())
		}
	}
}

// withTargets lists the regions that have a target (in order).
func (pp *pipeline) withTargets() []*regionRun {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	var out []*regionRun
	for _, rr := range pp.regions {
		if rr.targets > 0 {
			out = append(out, rr)
		}
	}
	return out
}

// open opens the gate unless a region's planning failed meanwhile.
func (pp *pipeline) open() error {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for _, rr := range pp.regions {
		if rr.err != nil {
			return rr.err
		}
	}
	pp.gateOpen = true
	close(pp.gate)
	return nil
}

// stop ends a rotation that never opened the gate: planning is cancelled
// (cancel) and every goroutine has returned when stop does.
func (pp *pipeline) stop(cancel context.CancelFunc) {
	close(pp.abort)
	cancel()
	pp.planning.Wait()
	pp.work.Wait()
}

// next is the next target to switch, nil when planning ended everywhere and
// none is left.
func (pp *pipeline) next() *targetOutcome {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for {
		if len(pp.queue) > 0 {
			o := pp.queue[0]
			pp.queue = pp.queue[1:]
			return o
		}
		if pp.ended == len(pp.regions) {
			return nil
		}
		pp.cond.Wait()
	}
}

// switchWorker switches queued targets until none is left and starts the
// handshakes of each switched one at once (they count only if the API then
// reports the target on the new certificate).
func (pp *pipeline) switchWorker(ctx context.Context) {
	defer pp.work.Done()
	for o := pp.next(); o != nil; o = pp.next() {
		plan := pp.byName[o.t.lane()].plan
		if !plan.accepts(pp.m) {
			refuseKeyType(o)
			close(o.done)
			close(o.probed)
			continue
		}
		o.t.to = plan.certID
		pp.r.switchOne(ctx, o)
		close(o.done)
		if (o.switched || o.state == StateServing) && pp.r.Prober != nil && o.t.address != "" {
			pp.work.Add(1)
			go pp.probe(ctx, o)
		} else {
			close(o.probed)
		}
	}
}

// verify waits for the switches of j's targets, reads the switched ones
// back with one listing, then records the handshakes of every target the
// API reports on the new certificate.
func (pp *pipeline) verify(ctx context.Context, j *verifyJob) {
	defer pp.work.Done()
	for _, o := range j.outs {
		select {
		case <-o.done:
		case <-pp.abort:
			return
		}
	}
	var switched []*targetOutcome
	for _, o := range j.outs {
		if o.switched {
			switched = append(switched, o)
		}
	}
	if len(switched) > 0 {
		got, err := pp.list(ctx, j)
		for _, o := range switched {
			now, err := answer(o, got, err)
			verifiedSwitch(o, now, err)
		}
	}
	for _, o := range j.outs {
		<-o.probed
		if o.state == StateServing {
			applyProbe(o, o.pr)
		}
	}
}

// list makes j's listing under the bound of listings in flight and records
// what it saw.
func (pp *pipeline) list(ctx context.Context, j *verifyJob) (map[string]string, error) {
	select {
	case pp.reads <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	got, err := pp.r.list(ctx, j)
	<-pp.reads
	if err != nil {
		return nil, err
	}
	pp.seenMu.Lock()
	for place, c := range got {
		pp.seen.set(j.lane, place, c)
	}
	pp.seenMu.Unlock()
	return got, nil
}

// probe makes o's handshakes once its facts are known (a discovered
// listener default target needs its listener's extension domains to choose
// an SNI that reaches the default certificate) into o.pr. It reads only o.t,
// and its facts only once they are known: planning may still write them
// when the context ends first (a listing that answered late).
func (pp *pipeline) probe(ctx context.Context, o *targetOutcome) {
	defer pp.work.Done()
	defer close(o.probed)
	t := o.t
	select {
	case <-t.facts:
	case <-ctx.Done():
		o.pr = probeResult{err: fmt.Errorf("rotation: verify %s: %w", t.Target, ctx.Err())}
		return
	}
	if t.noFacts {
		o.pr = probeResult{note: fmt.Sprintf("%s: not probed (verified by API only): its listener's domain extensions were not listed", t.Target)}
		return
	}
	select {
	case pp.probes <- struct{}{}:
	case <-ctx.Done():
		o.pr = probeResult{err: fmt.Errorf("rotation: verify %s: %w", t.Target, ctx.Err())}
		return
	}
	defer func() { <-pp.probes }()
	o.pr = pp.r.probeTarget(ctx, t, pp.m)
}

// sortedOuts are the outcomes in plan order: by region, then target key.
func (pp *pipeline) sortedOuts() []*targetOutcome {
	idx := map[string]int{}
	for i, rr := range pp.regions {
		idx[rr.plan.lane()] = i
	}
	outs := append([]*targetOutcome(nil), pp.outs...)
	sort.SliceStable(outs, func(i, j int) bool {
		a, b := outs[i].t, outs[j].t
		if idx[a.lane()] != idx[b.lane()] {
			return idx[a.lane()] < idx[b.lane()]
		}
		return a.key() < b.key()
	})
	return outs
}

// lateErrors are the planning failures after the gate (discovery
// incomplete), and the regions they left incomplete.
func (pp *pipeline) lateErrors() (error, map[string]bool) {
	var errs []error
	incomplete := map[string]bool{}
	for _, rr := range pp.regions {
		if rr.err != nil && rr.late {
			errs = append(errs, rr.err)
			incomplete[rr.plan.lane()] = true
		}
	}
	return errors.Join(errs...), incomplete
}

// incompleteReason says which discovery listings failed after targets were
// switched and what that leaves.
func incompleteReason(late error) string {
	msg := strings.ReplaceAll(late.Error(), "\n", "; ")
	return "discovery did not finish (" + msg + "): places it did not list may still serve the old certificate; the retry or the next expiry-check run completes them"
}

// rotatePipelined rotates a loaded pair through the pipeline.
func (r *Rotator) rotatePipelined(ctx context.Context, res Result, m *material, d pairs.Deploy, deployFile string, snaps Snapshots) (Result, error) {
	lanes, explicit, err := r.lanesOf(d, deployFile, snaps)
	if err != nil {
		return reject(res, err)
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pp := newPipeline(r, m, lanes)
	for _, rr := range pp.regions {
		pp.planning.Add(1)
		go func() {
			defer pp.planning.Done()
			err := r.planRegion(pctx, rr.plan, m, d.DiscoverEnabled(), d.Force, explicit[rr.plan.lane()], deployFile, pp)
			pp.planEnded(pctx, rr, err)
		}()
	}
	// Nothing is written before every region is decided; nothing switched
	// before the pair is uploaded in every region with a target.
	found, err := pp.start(pctx)
	if err != nil || !found {
		pp.stop(cancel)
		if err != nil {
			return reject(res, err)
		}
		for _, rr := range pp.regions {
			res.Skipped = append(res.Skipped, rr.plan.skipped...)
		}
		return nothingToDo(res), nil
	}
	for range r.concurrency() {
		pp.work.Add(1)
		go pp.switchWorker(pctx)
	}
	pp.planning.Wait()
	pp.work.Wait()

	// Roll back the targets that serve something else; verify the
	// rollbacks through the API, in batch.
	rolled := r.rollBack(ctx, pp.outs)
	r.verifyAPI(ctx, rolled, pp.seen, verifiedRollback)

	res.Regions = map[string]RegionResult{}
	plans := make([]*regionPlan, 0, len(pp.regions))
	discovered := map[string]*regionPlan{}
	for _, rr := range pp.regions {
		res.Skipped = append(res.Skipped, rr.plan.skipped...)
		if rr.targets > 0 {
			res.Regions[rr.plan.lane()] = RegionResult{ServerCertificateID: rr.plan.certID, Reused: rr.plan.reused}
			plans = append(plans, rr.plan)
		} else if rr.err == nil && rr.plan.inventory != nil {
			discovered[rr.plan.lane()] = rr.plan
		}
	}
	keep := r.Config.Keep
	if d.Keep != nil {
		keep = *d.Keep
	}
	late, incomplete := pp.lateErrors()
	return r.finish(ctx, res, m, keep, plans, pp.sortedOuts(), pp.seen, late, incomplete, discovered)
}

// start waits until every region is decided, uploads the pair in each
// region with a target and opens the gate; it reports whether any region
// has a target.
func (pp *pipeline) start(ctx context.Context) (bool, error) {
	if err := pp.waitDecided(ctx); err != nil {
		return false, err
	}
	ups := pp.withTargets()
	if len(ups) == 0 {
		return false, nil
	}
	for _, rr := range ups {
		if !rr.plan.accepts(pp.m) {
			continue // its targets are reported, not switched (refuseKeyType)
		}
		if err := pp.r.ensureCertificate(ctx, rr.plan, pp.m); err != nil {
			return true, err
		}
	}
	return true, pp.open()
}

// refuseKeyType leaves o's target on its certificate: its product cannot
// serve the pair's key type (an ECDSA pair on CLB). Reported with the
// target named, never retried.
func refuseKeyType(o *targetOutcome) {
	o.state, o.final = StateNotSwitched, []string{o.t.from}
	o.err = fmt.Errorf("rotation: %s keeps its certificate: the pair has an ECDSA key and this load balancer serves RSA certificates only (drop an RSA pair for it): %w", o.t.Target, ErrKeyType)
}
