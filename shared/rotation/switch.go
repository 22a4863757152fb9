package rotation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// targetOutcome is what happened to one target during the switch phases.
type targetOutcome struct {
	t        *target
	tr       TargetResult
	switched bool     // the switch to t.to was accepted
	verified bool     // the API reports t.to after the switch
	wrong    string   // the handshake served something else: roll back
	msgs     []string // problems to report
	err      error    // a failure (switch, verification, rollback)
	state    string   // the target's state so far (TargetResult.State)
	// final holds every certificate id the target may reference at the end
	// (one when the outcome is known, more when it is not), for cleanup.
	final []string
	// done is closed when the switch ended, probed when the handshakes
	// (started right after the switch, pr their finding) ended (pipeline).
	done, probed chan struct{}
	pr           probeResult
}

// observation is what the verification listings saw: region -> place ->
// certificate id, for every listener and extension they returned.
type observation map[string]map[string]string

func (o observation) set(region, place, certID string) {
	if o[region] == nil {
		o[region] = map[string]string{}
	}
	o[region][place] = certID
}

// switchOne switches o's target to o.t.to (nothing to do when it already
// references it).
func (r *Rotator) switchOne(ctx context.Context, o *targetOutcome) {
	o.tr.To, o.final = o.t.to, []string{o.t.from, o.t.to}
	if o.t.from == o.t.to {
		o.tr.Verified, o.final, o.state = VerifiedAPI, []string{o.t.to}, StateServing
		return
	}
	if err := ctx.Err(); err != nil {
		o.err = fmt.Errorf("rotation: switch %s: %w", o.t.Target, err)
		return
	}
	if err := r.setCertificate(ctx, o.t, o.t.from, o.t.to); err != nil {
		o.err = fmt.Errorf("rotation: switch %s to %s: %w", o.t.Target, o.t.to, err)
		if apierr.Permanent(err) {
			o.state, o.final = StateNotSwitched, []string{o.t.from} // refused: nothing changed
		}
		return
	}
	o.switched = true
}

// verifiedSwitch records what the API reports (now, or the error that
// prevented reading it) for a switched target.
func verifiedSwitch(o *targetOutcome, now string, err error) {
	switch {
	case err != nil:
		o.err = fmt.Errorf("rotation: verify %s: %w", o.t.Target, err)
	case now != o.t.to:
		o.msgs = append(o.msgs, fmt.Sprintf("%s: the API reports certificate %s after switching to %s", o.t.Target, now, o.t.to))
		o.final = append(o.final, now)
		if now == o.t.from {
			o.state = StateNotSwitched
		}
	default:
		o.verified, o.tr.Verified, o.final, o.state = true, VerifiedAPI, []string{o.t.to}, StateServing
	}
}

// verifiedRollback records what the API reports for a rolled-back target.
func verifiedRollback(o *targetOutcome, now string, err error) {
	switch {
	case err != nil:
		o.err = fmt.Errorf("rotation: verify rollback of %s: %w", o.t.Target, err)
		o.final, o.state = []string{o.t.from, o.t.to}, StateUnknown
	case now != o.t.from:
		o.msgs = append(o.msgs, fmt.Sprintf("%s: the API reports certificate %s after rolling back to %s", o.t.Target, now, o.t.from))
		o.final, o.state = []string{o.t.from, o.t.to, now}, StateUnknown
	}
}

// rollBack returns the probed targets that serve something else to their
// previous certificate (a target without one, or already on the new one
// before this rotation, is left not-served) and returns the rolled-back
// ones, sorted.
func (r *Rotator) rollBack(ctx context.Context, probe []*targetOutcome) []*targetOutcome {
	var back []*targetOutcome
	for _, o := range probe {
		if o.wrong == "" {
			continue
		}
		o.state = StateNotServed
		switch {
		case o.t.from == o.t.to:
			o.msgs = append(o.msgs, o.wrong+"; it already referenced the new certificate, so there is no previous one to roll back to")
			continue
		case o.t.from == "":
			o.msgs = append(o.msgs, o.wrong+"; no previous certificate to roll back to")
			continue
		}
		back = append(back, o)
	}
	var rolled []*targetOutcome
	var rmu sync.Mutex
	r.each(ctx, back, "roll back", func(ctx context.Context, o *targetOutcome) {
		if err := r.setCertificate(ctx, o.t, o.t.to, o.t.from); err != nil {
			o.msgs = append(o.msgs, o.wrong+"; the rollback failed")
			o.err = fmt.Errorf("rotation: roll back %s to %s: %w", o.t.Target, o.t.from, err)
			return
		}
		o.tr.RolledBack, o.state = true, StateRolledBack
		o.msgs = append(o.msgs, o.wrong+"; rolled back to "+o.t.from)
		o.final = []string{o.t.from}
		rmu.Lock()
		rolled = append(rolled, o)
		rmu.Unlock()
	})
	sort.Slice(rolled, func(i, j int) bool { return rolled[i].t.key() < rolled[j].t.key() })
	return rolled
}

// each runs fn for every outcome with bounded concurrency; an outcome the
// context ended before fn could run for is marked failed (transient).
func (r *Rotator) each(ctx context.Context, outs []*targetOutcome, what string, fn func(ctx context.Context, o *targetOutcome)) {
	ran := make([]bool, len(outs))
	forEach(ctx, len(outs), r.concurrency(), func(ctx context.Context, i int) error {
		ran[i] = true
		fn(ctx, outs[i])
		return nil
	})
	for i, o := range outs {
		if !ran[i] && o.err == nil {
			o.err = fmt.Errorf("rotation: %s %s: %w", what, o.t.Target, ctx.Err())
			o.tr.Verified, o.final, o.state = "", []string{o.t.from, o.t.to}, StateUnknown
		}
	}
}

// verifyJob is one verification listing: the listeners of up to 10 load
// balancers (lbIDs), or the extensions of one listener (lbID, port).
type verifyJob struct {
	region       string
	lane         string
	port         TargetPort
	lbIDs        []string
	lbID         string
	listenerPort int
	listenerID   string
	outs         []*targetOutcome
}

// verifyJobs groups outs into listings: the listener targets of a region
// by batch load balancers (sorted; inventory.Batches: the port's ReadBatch), the extension
// targets by listener. Each chunk is its own call so that the chunks run
// concurrently.
func verifyJobs(outs []*targetOutcome) []*verifyJob {
	var jobs []*verifyJob
	lbsOf := map[string][]string{}            // lane -> load balancers with listener targets
	outsOfLB := map[string][]*targetOutcome{} // lane/lb -> listener targets
	extJobs := map[string]*verifyJob{}        // lane/lb/port -> extension listing
	laneOf := map[string]*target{}            // lane -> one of its targets (region, port)
	for _, o := range outs {
		t := o.t
		laneOf[t.lane()] = t
		if t.extID == "" {
			k := t.lane() + "\x00" + t.LoadBalancerID
			if outsOfLB[k] == nil {
				lbsOf[t.lane()] = append(lbsOf[t.lane()], t.LoadBalancerID)
			}
			outsOfLB[k] = append(outsOfLB[k], o)
			continue
		}
		k := t.lane() + "\x00" + t.LoadBalancerID + "/" + fmt.Sprint(t.ListenerPort)
		j, ok := extJobs[k]
		if !ok {
			j = &verifyJob{region: t.Region, lane: t.lane(), port: t.port, lbID: t.LoadBalancerID, listenerPort: t.ListenerPort, listenerID: t.listenerID}
			extJobs[k] = j
			jobs = append(jobs, j)
		}
		j.outs = append(j.outs, o)
	}
	lanes := make([]string, 0, len(lbsOf))
	for lane := range lbsOf {
		lanes = append(lanes, lane)
	}
	sort.Strings(lanes)
	for _, lane := range lanes {
		ids, t := lbsOf[lane], laneOf[lane]
		sort.Strings(ids)
		for _, batch := range inventory.Batches(t.port, ids) {
			j := &verifyJob{region: t.Region, lane: lane, port: t.port, lbIDs: batch}
			for _, id := range j.lbIDs {
				j.outs = append(j.outs, outsOfLB[lane+"\x00"+id]...)
			}
			jobs = append(jobs, j)
		}
	}
	return jobs
}

// list makes j's listing: place -> certificate id of every listener or
// extension it returns.
func (r *Rotator) list(ctx context.Context, j *verifyJob) (map[string]string, error) {
	got := map[string]string{}
	if j.lbIDs != nil {
		ls, err := j.port.Listeners(ctx, j.region, j.lbIDs)
		for _, l := range ls {
			got[inventory.PlaceOfListener(l.LoadBalancerID, l.Port)] = l.CertificateID
		}
		return got, err
	}
	exts, err := j.port.SNI(ctx, j.region, inventory.TLSListener{LoadBalancerID: j.lbID, Port: j.listenerPort, ID: j.listenerID})
	for _, e := range exts {
		got[inventory.PlaceOfSNI(e.ID)] = e.CertificateID
	}
	return got, err
}

// answer is what a listing (got, or the error that prevented it) says o's
// target references: a target it does not return is gone.
func answer(o *targetOutcome, got map[string]string, err error) (string, error) {
	t := o.t
	if err != nil {
		return "", err
	}
	if now, ok := got[t.place()]; ok {
		return now, nil
	}
	if t.extID != "" {
		return "", fmt.Errorf("domain extension %s (%s) is gone: %w", t.extID, t.Domain, apierr.ErrNotFound)
	}
	return "", fmt.Errorf("listener %s/%s:%d is gone: %w", t.Region, t.LoadBalancerID, t.ListenerPort, apierr.ErrNotFound)
}

// verifyAPI reads back the certificate of every target of outs (grouped by
// verifyJobs), the listings running with bounded concurrency. report is
// called once per outcome (sequentially) with the certificate id the API
// reports or the error that prevented reading it. Every listener and
// extension the listings return is recorded in seen.
func (r *Rotator) verifyAPI(ctx context.Context, outs []*targetOutcome, seen observation, report func(o *targetOutcome, now string, err error)) {
	if len(outs) == 0 {
		return
	}
	jobs := verifyJobs(outs)
	gots := make([]map[string]string, len(jobs))
	errs := make([]error, len(jobs))
	ran := make([]bool, len(jobs))
	forEach(ctx, len(jobs), r.concurrency(), func(ctx context.Context, i int) error {
		ran[i] = true
		gots[i], errs[i] = r.list(ctx, jobs[i])
		return nil
	})
	for i, j := range jobs {
		if !ran[i] {
			errs[i] = ctx.Err() // the context ended before its listing
		}
		if errs[i] == nil {
			for place, c := range gots[i] {
				seen.set(j.lane, place, c)
			}
		}
		for _, o := range j.outs {
			now, err := answer(o, gots[i], errs[i])
			report(o, now, err)
		}
	}
}

// probeResult is what a target's handshakes found: verified (tls or
// probe-skipped), or wrong (what it serves instead), or err (the context
// ended), and a note to report.
type probeResult struct {
	verified, wrong, note string
	err                   error
}

// probeTarget makes the handshake of a switched target: tls when the new
// fingerprint is served, probe-skipped when unreachable, wrong set when
// something else is served (after probeAttempts tries).
func (r *Rotator) probeTarget(ctx context.Context, t *target, m *material) probeResult {
	sni := probeName(t, m)
	timeout := r.Config.ProbeTimeout
	if timeout <= 0 {
		timeout = DefaultProbeTimeout
	}
	delay := r.Config.ProbeRetryDelay
	if delay <= 0 {
		delay = 300 * time.Millisecond
	}
	var pr ProbeResult
	for attempt := 0; attempt < probeAttempts; attempt++ {
		if attempt > 0 && !pause.For(ctx, delay) {
			return probeResult{err: fmt.Errorf("rotation: verify %s: %w", t.Target, ctx.Err())}
		}
		pr = r.Prober.Probe(ctx, t.address, t.ListenerPort, sni, timeout)
		if !pr.Reachable {
			return probeResult{verified: VerifiedProbeSkipped}
		}
		if sameFingerprint(pr.FingerprintSHA1, m.fingerprint) {
			return probeResult{verified: VerifiedTLS}
		}
	}
	served := pr.FingerprintSHA1
	if served == "" {
		served = "no certificate (" + pr.Err + ")"
	}
	return probeResult{wrong: fmt.Sprintf("%s: %s:%d (SNI %q) serves %s instead of %s", t.Target, t.address, t.ListenerPort, sni, served, m.fingerprint)}
}

// applyProbe records the handshakes' finding on a target the API reports
// on the new certificate.
func applyProbe(o *targetOutcome, pr probeResult) {
	if pr.note != "" {
		o.msgs = append(o.msgs, pr.note)
	}
	switch {
	case pr.err != nil:
		o.err = pr.err
		o.tr.Verified, o.final, o.state = "", []string{o.t.from, o.t.to}, StateUnknown
	case pr.wrong != "":
		// Not verified: the handshake contradicts the API.
		o.tr.Verified, o.wrong = "", pr.wrong
	case pr.verified != "":
		o.tr.Verified = pr.verified
	}
}

// setCertificate points t at certID through the product's port (from is
// what t references when the call is made).
func (r *Rotator) setCertificate(ctx context.Context, t *target, from, certID string) error {
	return t.port.Switch(ctx, Place{Region: t.Region, LoadBalancerID: t.LoadBalancerID, ListenerPort: t.ListenerPort,
		ListenerID: t.listenerID, SNIID: t.extID, Domain: t.Domain}, from, certID)
}

// collectOutcomes fills res.Targets (the targets not left serving the new
// certificate first, then in the order of outs) and res.Errors and returns
// the transient failures joined (nil when there are none).
func collectOutcomes(res *Result, outs []*targetOutcome) error {
	var transient []error
	res.Targets = make([]TargetResult, len(outs))
	for i, o := range outs {
		if o.state != StateServing {
			o.tr.Verified = "" // only a target serving the new certificate is verified
		}
		o.tr.State = o.state
		res.Targets[i] = o.tr
		res.Errors = append(res.Errors, o.msgs...)
		if o.err == nil {
			continue
		}
		if apierr.Permanent(o.err) {
			res.Errors = append(res.Errors, o.err.Error())
		} else {
			transient = append(transient, o.err)
		}
	}
	sort.Strings(res.Errors)
	sort.SliceStable(res.Targets, func(i, j int) bool { return stateRank[res.Targets[i].State] > stateRank[res.Targets[j].State] })
	return errors.Join(transient...)
}
