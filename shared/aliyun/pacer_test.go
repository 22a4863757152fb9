package aliyun

import (
	"context"
	"errors"
	"math"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// fakeClock drives a pacer without real waiting: a wait of d moves the
// clock forward by d at once, unless block is set (then it never fires).
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	block bool
	waits []time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) after(d time.Duration) (<-chan time.Time, func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	if !c.block {
		c.t = c.t.Add(d)
		ch <- c.t
	}
	return ch, func() bool { return true }
}

func fakePacer(ceiling float64) (*pacer, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := newPacer(ceiling)
	p.now, p.after = c.now, c.after
	return p, c
}

func mustWait(t *testing.T, p *pacer, key string) ticket {
	t.Helper()
	tk, err := p.wait(context.Background(), key)
	if err != nil {
		t.Fatalf("wait(%s): %v", key, err)
	}
	return tk
}

// serverBucket is the service's token bucket on the fake clock.
type serverBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func (b *serverBucket) take(now time.Time) bool {
	b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// send makes one call through the pacer against b (retrying throttled
// attempts, as the retrier does); each attempt takes latency.
func send(t *testing.T, p *pacer, clk *fakeClock, b *serverBucket, key string, latency time.Duration) (attempts int) {
	t.Helper()
	for {
		tk := mustWait(t, p, key)
		attempts++
		ok := b.take(clk.now())
		clk.advance(latency)
		if ok {
			p.succeeded(tk)
			return attempts
		}
		p.throttled(tk)
	}
}

// TestPacerLearnsTheGrantedRate: against a 20/s bucket with a burst of 20,
// a lane starts unpaced (the burst goes at once), learns burst and rate from
// its first throttle, measures the granted rate between throttles (never
// halving below it), recovers to it, and an idle lane gets its burst again
// (the next rotation of the same invocation is not spaced out).
func TestPacerLearnsTheGrantedRate(t *testing.T) {
	const key = "cn-hangzhou/SetLoadBalancerHTTPSListenerAttribute"
	p, clk := fakePacer(0)
	b := &serverBucket{rate: 20, burst: 20, tokens: 20, last: clk.now()}
	start := clk.now()
	// 20 calls in 20 ms: all within the burst, no pause.
	for range 20 {
		if n := send(t, p, clk, b, key, time.Millisecond); n != 1 {
			t.Fatalf("a call within the burst took %d attempts", n)
		}
	}
	if len(clk.waits) != 0 || p.rate(key) != 0 {
		t.Fatalf("waits %v rate %v within the burst; want unpaced", clk.waits, p.rate(key))
	}
	// 100 more calls, one at a time: the first throttle gives burst 20 and
	// rate 20/s; later throttles measure the granted rate.
	attempts := 0
	for range 100 {
		attempts += send(t, p, clk, b, key, time.Millisecond)
	}
	elapsed := clk.now().Sub(start)
	if r := p.rate(key); r < 15 || r > 26 {
		t.Errorf("rate after 120 calls = %v, want near the granted 20/s", r)
	}
	// The service cannot do better than (120 - 20) / 20 = 5 s; the lane must
	// not collapse below it (AIMD halving did: 1 call/s floors).
	if elapsed > 5500*time.Millisecond {
		t.Errorf("120 calls took %v, want <= 5.5 s (bound 5 s)", elapsed)
	}
	if attempts > 115 {
		t.Errorf("%d attempts for 100 calls past the burst; want few refused", attempts)
	}
	// Idle for 2 s: the service's bucket refills; so does the lane's.
	clk.advance(2 * time.Second)
	idle := clk.now()
	for range 50 {
		send(t, p, clk, b, key, time.Millisecond)
	}
	if d := clk.now().Sub(idle); d > 1800*time.Millisecond {
		t.Errorf("50 calls after idling took %v; want about (50 - 20) / 20 = 1.5 s (the burst is used again)", d)
	}
	// Another key is not affected.
	if got := p.rate("cn-hangzhou/DescribeLoadBalancers"); got != 0 {
		t.Errorf("other action's rate = %v, want unpaced", got)
	}
}

func TestPacerBacksOffWithoutCollapsing(t *testing.T) {
	const key = "r/A"
	p, clk := fakePacer(0)
	l := &lane{rate: 40, burst: 1, tokens: 0, last: clk.now(), changed: make(chan struct{})}
	p.lanes[key] = l
	// A throttle early in an episode pauses, keeps the rate.
	p.throttled(mustWait(t, p, key))
	if r := p.rate(key); r != 40 {
		t.Fatalf("rate after the episode's first throttle = %v, want 40 (kept)", r)
	}
	// 10 accepted over the next 500 ms, then a throttle: granted 20/s.
	for range 10 {
		clk.advance(50 * time.Millisecond)
		p.succeeded(ticket{key: key, gen: l.gen})
	}
	p.throttled(ticket{key: key, gen: l.gen})
	if r := p.rate(key); math.Abs(r-20*pacerHeadroom) > 0.01 {
		t.Errorf("rate = %v, want the measured 20/s plus headroom", r)
	}
	// 20 calls in flight refused at once (each of the latest generation)
	// do not halve it 20 times: the measurement stays 20/s.
	for range 20 {
		p.throttled(ticket{key: key, gen: l.gen})
	}
	if r := p.rate(key); math.Abs(r-20*pacerHeadroom) > 0.01 {
		t.Errorf("rate after 20 throttles at once = %v, want 22 (no collapse)", r)
	}
	// Successes probe above it, additively.
	before := p.rate(key)
	for range 20 {
		p.succeeded(mustWait(t, p, key))
	}
	if r := p.rate(key); r <= before || r > before+5 {
		t.Errorf("rate after 20 successes = %v, want a little above %v", r, before)
	}
}

// TestPacerSlowLaneDoesNotCollapse: a lane that shares the service's
// bucket with others gets few calls through; a throttle after one accepted
// call in 300 ms does not measure "3/s" or less, and a long span with none
// does not take it to the floor.
func TestPacerSlowLaneDoesNotCollapse(t *testing.T) {
	const key = "r/A"
	p, clk := fakePacer(0)
	l := &lane{rate: 4, burst: 1, last: clk.now(), changed: make(chan struct{})}
	p.lanes[key] = l
	p.throttled(ticket{key: key, gen: l.gen}) // the episode starts
	clk.advance(150 * time.Millisecond)
	p.succeeded(ticket{key: key, gen: l.gen})
	clk.advance(150 * time.Millisecond)
	before := p.rate(key) // 4 plus one success's probing
	p.throttled(ticket{key: key, gen: l.gen})
	if r := p.rate(key); r != before {
		t.Errorf("rate after 1 accepted call in 300 ms = %v, want %v kept (too few samples to measure)", r, before)
	}
	clk.advance(900 * time.Millisecond) // 1.2 s since the episode began, 1 accepted
	p.throttled(ticket{key: key, gen: l.gen})
	if r := p.rate(key); math.Abs(r-2/1.2*pacerHeadroom) > 0.01 {
		t.Errorf("rate after 1 accepted call in 1.2 s = %v, want (1+1)/1.2 s plus headroom", r)
	}
}

func TestPacerSpacesCallsAndKeepsCeiling(t *testing.T) {
	const key = "r/A"
	p, clk := fakePacer(10)
	start := clk.now()
	var at []time.Duration
	for range 5 {
		tk := mustWait(t, p, key)
		at = append(at, clk.now().Sub(start))
		p.succeeded(tk)
	}
	for i, d := range at {
		if want := time.Duration(i) * 100 * time.Millisecond; d != want {
			t.Errorf("call %d at %v, want %v (10/s)", i, d, want)
		}
	}
	if got := p.rate(key); got != 10 {
		t.Errorf("rate = %v, want the ceiling 10 after successes", got)
	}
	// Unpaced lanes come back once their rate is high enough.
	q, _ := fakePacer(0)
	q.lanes["k"] = &lane{rate: pacerUnlimitedAbove - 0.001, burst: 1, changed: make(chan struct{})}
	q.succeeded(ticket{key: "k"})
	if got := q.rate("k"); got != 0 {
		t.Errorf("rate above %v = %v, want unpaced (0)", pacerUnlimitedAbove, got)
	}
}

func TestPacerWaitersRetakeSlotsAfterThrottle(t *testing.T) {
	const key = "r/A"
	p, clk := fakePacer(0)
	p.lanes[key] = &lane{rate: 10, burst: 1, tokens: -9, last: clk.now(), changed: make(chan struct{})}
	clk.block = true
	done := make(chan ticket)
	go func() {
		tk, err := p.wait(context.Background(), key)
		if err != nil {
			t.Error(err)
		}
		done <- tk
	}()
	// wait until the waiter sleeps on its slot
	for deadline := time.Now().Add(5 * time.Second); ; {
		clk.mu.Lock()
		n := len(clk.waits)
		clk.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("waiter never slept")
		}
		time.Sleep(time.Millisecond)
	}
	clk.mu.Lock()
	clk.block = false
	clk.mu.Unlock()
	p.throttled(ticket{key: key, gen: 0})
	tk := <-done
	if tk.gen != 1 {
		t.Errorf("waiter's ticket generation %d, want 1 (slot retaken after the throttle)", tk.gen)
	}
	clk.mu.Lock()
	defer clk.mu.Unlock()
	if len(clk.waits) != 2 || clk.waits[0] != time.Second || clk.waits[1] != 100*time.Millisecond {
		t.Errorf("waits %v, want 1s (behind 9 reservations), then one slot (100ms) after the throttle voided them", clk.waits)
	}
}

func TestPacerNoSlotBeforeDeadline(t *testing.T) {
	const key = "r/A"
	p, clk := fakePacer(1)
	p.succeeded(mustWait(t, p, key)) // next slot is 1s away
	ctx, cancel := context.WithDeadline(context.Background(), clk.now().Add(500*time.Millisecond))
	defer cancel()
	_, err := p.wait(ctx, key)
	var ns errNoSlot
	if !errors.As(err, &ns) {
		t.Fatalf("err = %v, want errNoSlot", err)
	}
	// the refused slot was given back: the next caller gets it
	mustWait(t, p, key)
	if got := clk.now().Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); got != time.Second {
		t.Errorf("next call at +%v, want +1s", got)
	}
}

func TestThrottlingRetriedPastMaxAttemptsWithinDeadline(t *testing.T) {
	f := newFakeSLB(t)
	const throttled = 12 // far more than fastRetry.MaxAttempts (4)
	f.on("DescribeLoadBalancers", func(_ url.Values, n int) (int, any) {
		if n < throttled {
			return 400, apiErr("Throttling", "Request was denied due to request throttling.")
		}
		return 200, ok(map[string]any{"TotalCount": 0, "PageNumber": 1, "PageSize": 100, "LoadBalancers": map[string]any{"LoadBalancer": []any{}}})
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := newTestSLB(f).ListLoadBalancers(ctx, "cn-hangzhou"); err != nil {
		t.Fatalf("err = %v, want success after %d throttled attempts", err, throttled)
	}
	if n := f.count("DescribeLoadBalancers"); n != throttled+1 {
		t.Errorf("attempts = %d, want %d", n, throttled+1)
	}

	// Other transient errors keep their bounded attempts.
	g := newFakeSLB(t)
	g.on("DescribeLoadBalancers", func(url.Values, int) (int, any) { return 503, apiErr("ServiceUnavailable", "down") })
	if _, err := newTestSLB(g).ListLoadBalancers(ctx, "cn-hangzhou"); !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err = %v, want ErrTransient", err)
	}
	if n := g.count("DescribeLoadBalancers"); n != fastRetry.MaxAttempts {
		t.Errorf("503 attempts = %d, want %d", n, fastRetry.MaxAttempts)
	}

	// Throttled throughout: ends at the deadline, as a transient Throttling
	// error that counts its attempts.
	h := newFakeSLB(t)
	h.on("DescribeLoadBalancers", func(url.Values, int) (int, any) { return 400, apiErr("Throttling", "slow down") })
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	_, err := newTestSLB(h).ListLoadBalancers(short, "cn-hangzhou")
	var ae *APIError
	if !errors.Is(err, apierr.ErrTransient) || !errors.As(err, &ae) {
		t.Fatalf("err = %v, want a transient APIError (throttled, or cut by the deadline)", err)
	}
	// The error counts the client's attempts: the server saw all of them,
	// or all but the last when the deadline cut that one on its way out.
	if n := h.count("DescribeLoadBalancers"); n <= fastRetry.MaxAttempts || (ae.Attempts != n && ae.Attempts != n+1) {
		t.Errorf("attempts = %d (error says %d), want more than %d and the error's count n or n+1", n, ae.Attempts, fastRetry.MaxAttempts)
	}
}

// TestPacedCallsUnderServerRateLimit: 8 goroutines share one *SLB against
// an endpoint that refuses calls over 40/s (burst 5). All 80 calls must
// succeed with the default policy (no patient retry override), and the
// pacer must keep the refused attempts well below the useful ones.
func TestPacedCallsUnderServerRateLimit(t *testing.T) {
	f := newFakeSLB(t)
	var mu sync.Mutex
	tokens, last := 5.0, time.Now()
	f.on("DescribeDomainExtensions", func(url.Values, int) (int, any) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		tokens = math.Min(5, tokens+now.Sub(last).Seconds()*40)
		last = now
		if tokens < 1 {
			return 400, apiErr("Throttling", "Request was denied due to request throttling.")
		}
		tokens--
		return 200, ok(map[string]any{"DomainExtensions": map[string]any{"DomainExtension": []any{}}})
	})
	s := NewSLB(testCreds, SLBOptions{Endpoint: f.endpoint(), Timeout: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	var failed atomic.Int32
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := s.ListDomainExtensions(ctx, "cn-hangzhou", "lb-1", 443+g*10+i); err != nil {
					failed.Add(1)
					t.Errorf("call failed: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed", failed.Load())
	}
	attempts := f.count("DescribeDomainExtensions")
	if refused := attempts - 80; refused > 80 {
		t.Errorf("%d refused attempts for 80 useful calls, want at most 80", refused)
	}
	if r := s.pacer.rate("cn-hangzhou/DescribeDomainExtensions"); r == 0 || r > 100 {
		t.Errorf("pacer rate = %v, want a paced rate near the limit", r)
	}
	t.Logf("%d attempts for 80 calls", attempts)
}
