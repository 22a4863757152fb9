package expiry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify/notifytest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// eventLog records what happened, in order, across goroutines.
type eventLog struct {
	mu  sync.Mutex
	evs []string
}

func (l *eventLog) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, fmt.Sprintf(format, args...))
}

func (l *eventLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.evs...)
}

// first and last return the index of the first/last event with the
// prefix, -1 when there is none.
func first(evs []string, prefix string) int {
	for i, e := range evs {
		if strings.HasPrefix(e, prefix) {
			return i
		}
	}
	return -1
}

func last(evs []string, prefix string) int {
	for i := len(evs) - 1; i >= 0; i-- {
		if strings.HasPrefix(evs[i], prefix) {
			return i
		}
	}
	return -1
}

// loggedInventory logs every inventory request; the request for the
// extensions of holdKey waits until the first probe has started (or
// guard passed, so that a sequential sweep fails the test instead of
// hanging).
type loggedInventory struct {
	*fakeCloud
	log          *eventLog
	holdKey      string
	probeStarted chan struct{}
	guard        time.Duration
}

func (i *loggedInventory) ListServerCertificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	i.log.add("inventory DescribeServerCertificates %s", region)
	return i.fakeCloud.ListServerCertificates(ctx, region)
}

func (i *loggedInventory) ListLoadBalancers(ctx context.Context, region string) ([]clb.LoadBalancer, error) {
	i.log.add("inventory DescribeLoadBalancers %s", region)
	return i.fakeCloud.ListLoadBalancers(ctx, region)
}

func (i *loggedInventory) ListHTTPSListeners(ctx context.Context, region string, ids []string) ([]clb.Listener, error) {
	i.log.add("inventory DescribeLoadBalancerListeners %s", region)
	return i.fakeCloud.ListHTTPSListeners(ctx, region, ids)
}

func (i *loggedInventory) ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error) {
	key := fmt.Sprintf("%s:%d", lbID, port)
	if key == i.holdKey {
		select {
		case <-i.probeStarted:
		case <-time.After(i.guard):
			i.log.add("guard: no probe started while the inventory was running")
		}
	}
	i.log.add("inventory DescribeDomainExtensions %s", key)
	return i.fakeCloud.ListDomainExtensions(ctx, region, lbID, port)
}

// slowProber logs the start and end of every handshake, yields for a
// moment (a slow network) and serves fingerprint fp for every target.
type slowProber struct {
	log     *eventLog
	fp      string
	once    sync.Once
	started chan struct{}
	delay   time.Duration
}

func (p *slowProber) Probe(ctx context.Context, address string, port int, sni string, _ time.Duration) ProbeResult {
	p.log.add("probe start %s:%d/%s", address, port, sni)
	p.once.Do(func() { close(p.started) })
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
	}
	p.log.add("probe end %s:%d/%s", address, port, sni)
	return ProbeResult{Reachable: true, FingerprintSHA1: p.fp}
}

// loggedRotator, loggedNotifier and loggedObjects log the sweep's actions.
type loggedRotator struct{ log *eventLog }

func (r loggedRotator) RotateName(_ context.Context, _ time.Time, name string, _ []clb.Target, _ rotation.Snapshots) (RotationOutcome, error) {
	r.log.add("act rotate %s", name)
	return RotationOutcome{Status: "rotated", OK: true}, nil
}

type loggedNotifier struct{ log *eventLog }

func (n loggedNotifier) Notify(_ context.Context, m notify.Message) error {
	n.log.add("act notify %s", m.Title)
	return nil
}

type loggedObjects struct {
	*memObjects
	log *eventLog
}

func (o loggedObjects) Put(ctx context.Context, b, key string, data []byte, ct string) error {
	o.log.add("act put %s", key)
	return o.memObjects.Put(ctx, b, key, data, ct)
}

// TestProbesOverlapTheInventoryAndActionsWait: probes start while the
// inventory is still requesting pages (the extension listing of the last
// load balancer's last listener is requested only after a probe started;
// a sweep that probes after the inventory never gets there and trips the
// guard), and nothing is rotated,
// notified or written before the inventory and every probe are done.
func TestProbesOverlapTheInventoryAndActionsWait(t *testing.T) {
	log := &eventLog{}
	cloud := newCloud()
	r := cloud.addRegion("cn-hangzhou", 12, 3, cert("c1", 1, days(5), "www.example.com"))
	cloud.addRegion("cn-beijing", 4, 2, cert("c2", 1, days(5), "www.example.com"))
	lastLB := r.lbs[len(r.lbs)-1]
	r.addExtensions(lastLB.ID, 445, clbExt("api.example.com", "c1"))
	prober := &slowProber{log: log, fp: fp(1), started: make(chan struct{}), delay: 2 * time.Millisecond}
	inv := &loggedInventory{fakeCloud: cloud, log: log, holdKey: lastLB.ID + ":445", probeStarted: prober.started, guard: 10 * time.Second}
	s := &Sweeper{
		Inventory: inventory.CLB{API: inv}, Objects: loggedObjects{newObjects(), log}, Bucket: bucket,
		Pairs:    staticPairs{{Name: "www-next", Domains: []string{"www.example.com"}, NotAfter: days(90), Fingerprint: fp(9)}},
		Rotator:  loggedRotator{log},
		Prober:   prober,
		Notifier: loggedNotifier{log},
		// Few workers on both sides, so that a sequential sweep could not
		// pass by luck.
		Concurrency: 2, ProbeConcurrency: 3,
	}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou", "cn-beijing"}, Probe: true, AutoRotate: true})
	if err != nil {
		t.Fatal(err)
	}
	evs := log.snapshot()
	if i := first(evs, "guard"); i >= 0 {
		t.Fatalf("probes did not overlap the inventory: %s", evs[i])
	}
	firstProbe, lastPage := first(evs, "probe start"), last(evs, "inventory")
	if firstProbe < 0 || firstProbe > lastPage {
		t.Errorf("first probe at event %d, last inventory request at %d: probes must start during the inventory", firstProbe, lastPage)
	}
	if held := last(evs, "inventory DescribeDomainExtensions "+lastLB.ID+":445"); held < 0 || firstProbe > held {
		t.Errorf("first probe at event %d, the held extension listing requested at %d: want the probe first", firstProbe, held)
	}
	firstAct := first(evs, "act")
	if firstAct < 0 {
		t.Fatalf("nothing acted: %v", evs)
	}
	if lastProbe := last(evs, "probe end"); lastProbe > firstAct || lastPage > firstAct {
		t.Errorf("an action (%s, event %d) ran before the inventory (last %d) and the probes (last end %d) completed",
			evs[firstAct], firstAct, lastPage, lastProbe)
	}
	for _, want := range []string{"act rotate www-next", "act notify", "act put reports/"} {
		if first(evs, want) < 0 {
			t.Errorf("no %q event", want)
		}
	}
	// 12×3 + 1 SNI extension + 4×2 targets, all served as configured.
	if want := (ProbeCounts{Probed: 45, Matched: 45}); rep.Probes != want {
		t.Errorf("probes = %+v, want %+v", rep.Probes, want)
	}
	if starts, ends := strings.Count(strings.Join(evs, "\n"), "probe start"), strings.Count(strings.Join(evs, "\n"), "probe end"); starts != 45 || ends != 45 {
		t.Errorf("%d probes started, %d ended, want 45", starts, ends)
	}
}

// timeoutProber reports an address as timed out (after a real wait of the
// probe timeout, which is what the sweep measures) or serves fp.
type timeoutProber struct {
	mu    sync.Mutex
	dead  map[string]bool
	fp    string
	dials map[string]int
}

func (p *timeoutProber) Probe(ctx context.Context, address string, port int, _ string, timeout time.Duration) ProbeResult {
	p.mu.Lock()
	p.dials[address]++
	dead := p.dead[address]
	p.mu.Unlock()
	if dead {
		select {
		case <-time.After(timeout):
		case <-ctx.Done():
		}
		return ProbeResult{Err: fmt.Sprintf("%s:%d: i/o timeout", address, port)}
	}
	return ProbeResult{Reachable: true, FingerprintSHA1: p.fp}
}

// TestTimedOutAddressIsDialledOnce: once a port of an address times out,
// its other ports and SNI targets are reported unreachable without a dial,
// even though they are offered one by one while the inventory runs.
func TestTimedOutAddressIsDialledOnce(t *testing.T) {
	cloud := newCloud()
	r := cloud.addRegion("cn-hangzhou", 6, 4, cert("c1", 1, days(100), "www.example.com"))
	dead := r.lbs[2].Address
	r.addExtensions(r.lbs[2].ID, 444, clbExt("api.example.com", "c1"))
	p := &timeoutProber{dead: map[string]bool{dead: true}, fp: fp(1), dials: map[string]int{}}
	s := &Sweeper{Inventory: cloud.reader(), Prober: p, ProbeTimeout: 20 * time.Millisecond, Concurrency: 3, ProbeConcurrency: 4}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}, Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.dials[dead] != 1 {
		t.Errorf("the timed-out address was dialled %d times, want 1", p.dials[dead])
	}
	if want := (ProbeCounts{Probed: 25, Matched: 20, Unreachable: 5}); rep.Probes != want {
		t.Errorf("probes = %+v, want %+v", rep.Probes, want)
	}
	notDialled := 0
	for _, u := range rep.Unreachable {
		if u.Address != dead {
			t.Errorf("unreachable %+v, want only %s", u, dead)
		}
		if strings.HasPrefix(u.Detail, "not dialled: ") {
			notDialled++
		}
	}
	if notDialled != 4 {
		t.Errorf("%d targets reported as not dialled, want 4: %+v", notDialled, rep.Unreachable)
	}
}

// budgetProber answers the first n handshakes at once and blocks the
// next ones until the context ends (the deadline).
type budgetProber struct {
	mu    sync.Mutex
	n     int
	calls int
	fp    string
}

func (p *budgetProber) Probe(ctx context.Context, _ string, _ int, _ string, _ time.Duration) ProbeResult {
	p.mu.Lock()
	p.calls++
	fast := p.calls <= p.n
	p.mu.Unlock()
	if fast {
		return ProbeResult{Reachable: true, FingerprintSHA1: p.fp}
	}
	<-ctx.Done()
	return ProbeResult{Err: "dial: " + ctx.Err().Error()}
}

func TestProbesOutOfTimeAreSkippedWithOneProblem(t *testing.T) {
	tests := []struct {
		name         string
		deadline     time.Duration // of the invocation's context
		probeTimeout time.Duration
		fast         int // handshakes answered before the prober blocks
		wantProbed   int
		wantCalls    int
	}{
		// A probe timeout longer than the whole budget: no handshake can
		// start at all, the prober is never called.
		{name: "budget spent before the first probe", deadline: time.Minute, probeTimeout: time.Hour, fast: 100, wantProbed: 0, wantCalls: 0},
		// Three handshakes answer, the fourth hangs until the working
		// deadline cuts it: that one and the rest are out of time.
		{name: "budget spent mid-way", deadline: 2 * time.Second, probeTimeout: 100 * time.Millisecond, fast: 3, wantProbed: 3, wantCalls: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cloud := newCloud()
			cloud.addRegion("cn-hangzhou", 4, 2, cert("c1", 1, days(100), "www.example.com"))
			p := &budgetProber{n: tc.fast, fp: fp(1)}
			objs := newObjects()
			rec := &notifytest.Recorder{}
			s := &Sweeper{Inventory: cloud.reader(), Objects: objs, Bucket: bucket, Prober: p, Notifier: rec,
				ProbeTimeout: tc.probeTimeout, Concurrency: 1, ProbeConcurrency: 1}
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			rep, err := s.Sweep(ctx, now, Request{Regions: []string{"cn-hangzhou"}, Probe: true})
			if err != nil {
				t.Fatalf("a sweep out of probe time still reports normally: %v", err)
			}
			want := ProbeCounts{Probed: tc.wantProbed, Matched: tc.wantProbed, OutOfTime: 8 - tc.wantProbed, Skipped: 8 - tc.wantProbed}
			if rep.Probes != want {
				t.Errorf("probes = %+v, want %+v", rep.Probes, want)
			}
			if p.calls != tc.wantCalls {
				t.Errorf("prober called %d times, want %d", p.calls, tc.wantCalls)
			}
			if len(rep.Unreachable) != 0 || len(rep.Drift) != 0 {
				t.Errorf("out-of-time probes reported as findings: unreachable %+v drift %+v", rep.Unreachable, rep.Drift)
			}
			var probeProblems []Problem
			for _, pr := range rep.Errors {
				if pr.Stage == "probe" {
					probeProblems = append(probeProblems, pr)
				}
			}
			if len(probeProblems) != 1 || !strings.Contains(probeProblems[0].Error, fmt.Sprintf("%d of 8 probe targets not probed for lack of time", 8-tc.wantProbed)) || !probeProblems[0].Transient {
				t.Errorf("probe problems = %+v, want one summary", probeProblems)
			}
			if len(rep.Errors) != 1 {
				t.Errorf("errors = %+v, want only the probe summary", rep.Errors)
			}
			if rep.ReportKey == "" || objs.puts == 0 {
				t.Errorf("report not written: key %q, puts %d", rep.ReportKey, objs.puts)
			}
			if rec.Len() != 1 || !strings.Contains(strings.Join(rec.Messages()[0].Lines, "\n"), "lack of time") {
				t.Errorf("notification = %+v, want one naming the skipped probes", rec.Messages())
			}
		})
	}
}
