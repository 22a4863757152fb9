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

func TestPacerAIMD(t *testing.T) {
	const key = "cn-hangzhou/DescribeDomainExtensions"
	p, clk := fakePacer(0)
	// Unpaced: 40 calls within one second go at once.
	var first []ticket
	for range 40 {
		first = append(first, mustWait(t, p, key))
		clk.advance(25 * time.Millisecond)
	}
	if len(clk.waits) != 0 || p.rate(key) != 0 {
		t.Fatalf("unpaced lane waited %v, rate %v", clk.waits, p.rate(key))
	}
	// The first throttle halves the measured rate (40 calls in the last
	// second); the other calls of that generation do not halve it again.
	for _, tk := range first {
		p.throttled(tk)
	}
	if got := p.rate(key); got != 20 {
		t.Fatalf("rate after the first throttle = %v, want 20 (half of 40/s)", got)
	}
	// A call sent after the decrease that is throttled halves it again.
	tk := mustWait(t, p, key)
	if len(clk.waits) != 1 || clk.waits[0] != 50*time.Millisecond {
		t.Errorf("waits %v, want one pause of 50ms (one slot at 20/s)", clk.waits)
	}
	p.throttled(tk)
	if got := p.rate(key); got != 10 {
		t.Fatalf("rate after the second throttle = %v, want 10", got)
	}
	// Successes raise it: quickly back towards the rate of the last
	// decrease (20), then additively (+2/s per second of calls).
	for range 5 {
		p.succeeded(mustWait(t, p, key))
	}
	if got := p.rate(key); got < 13 || got > 15 {
		t.Errorf("rate after 5 successes = %v, want 13..15 (recovering towards 20)", got)
	}
	for range 40 {
		p.succeeded(mustWait(t, p, key))
	}
	if got := p.rate(key); got < 20 || got > 25 {
		t.Errorf("rate after 45 successes = %v, want 20..25 (past the peak, additive)", got)
	}
	// Repeated throttles never go below the floor.
	for range 20 {
		p.throttled(mustWait(t, p, key))
	}
	if got := p.rate(key); got != pacerMinRate {
		t.Errorf("rate after 20 throttles = %v, want the floor %v", got, pacerMinRate)
	}
	// Another key is not affected.
	if got := p.rate("cn-hangzhou/DescribeLoadBalancers"); got != 0 {
		t.Errorf("other action's rate = %v, want unpaced", got)
	}
	if got := p.rate("cn-shanghai/DescribeDomainExtensions"); got != 0 {
		t.Errorf("other region's rate = %v, want unpaced", got)
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
	q.lanes["k"] = &lane{rate: pacerUnlimitedAbove - 0.001, changed: make(chan struct{})}
	q.succeeded(ticket{key: "k"})
	if got := q.rate("k"); got != 0 {
		t.Errorf("rate above %v = %v, want unpaced (0)", pacerUnlimitedAbove, got)
	}
}

func TestPacerWaitersRetakeSlotsAfterDecrease(t *testing.T) {
	const key = "r/A"
	p, clk := fakePacer(0)
	p.lanes[key] = &lane{rate: 10, next: clk.now().Add(time.Second), changed: make(chan struct{})}
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
		t.Errorf("waiter's ticket generation %d, want 1 (slot retaken after the decrease)", tk.gen)
	}
	clk.mu.Lock()
	defer clk.mu.Unlock()
	if len(clk.waits) != 2 || clk.waits[1] != 200*time.Millisecond {
		t.Errorf("waits %v, want a second wait of one slot at the halved rate (200ms)", clk.waits)
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
