package aliyun

import (
	"context"
	"math"
	"sync"
	"time"
)

// Tuning of the adaptive pacer.
const (
	// pacerMinRate is the lowest rate (calls per second) a lane is slowed
	// to, however often it is throttled.
	pacerMinRate = 1.0
	// pacerIncrease is the rate (calls per second) a paced lane gains per
	// second of successful calls: it probes for more than it was granted.
	pacerIncrease = 2.0
	// pacerUnlimitedAbove: a lane without a ceiling that climbs past this
	// rate is no longer paced at all.
	pacerUnlimitedAbove = 1000.0
	// pacerWindow is the span over which the calls accepted before a lane's
	// first throttle are counted (they are its burst and its first rate).
	pacerWindow = time.Second
	// pacerMinSpan is the shortest span between two throttles over which the
	// granted rate is measured; throttles closer to the episode's first one
	// only pause the lane.
	pacerMinSpan = 250 * time.Millisecond
	// pacerMinSamples is the fewest accepted calls a measurement of the
	// granted rate counts before half of pacerSpan has passed.
	pacerMinSamples = 4
	// pacerSpan is the longest span the granted rate is measured over (the
	// rate the service grants may change).
	pacerSpan = 2 * time.Second
	// pacerHeadroom multiplies a measured granted rate: a lane a little
	// above the rate loses one slot per throttle, one below it loses the
	// difference on every call (and the count lags by the calls in flight).
	pacerHeadroom = 1.1
	// pacerHistory is how many accepted calls and throttles a lane
	// remembers.
	pacerHistory = 512
)

// pacer spaces calls per key (for SLB: region and action), shared by every
// goroutine that uses one adapter (one invocation), so that what a lane
// learned carries over to every later call of that region and action.
//
// A lane models the service's token bucket. It starts unpaced (or at the
// configured ceiling): calls go as fast as the callers send them, so the
// service's burst is used. Its first throttle says the service's bucket is
// empty: the calls it accepted in the last second become the lane's burst
// and its first rate. Between two throttles the service's bucket was empty
// at both ends, so the calls it accepted in between, over the time between,
// are the rate it grants: every later throttle (at least pacerMinSpan after
// the first of its episode) sets the lane's rate to that measurement (plus
// pacerHeadroom), never to a fraction of it, so the lane backs off without
// collapsing. Successes
// raise the rate additively (probing for more). An idle lane refills its
// tokens up to its burst, so a later burst of calls (the next rotation of
// the same invocation) is not spaced out at the rate. A throttle empties
// the lane's tokens (one slot's pause). Callers wait for their slot instead
// of firing and being refused.
type pacer struct {
	ceiling  float64 // configured calls per second per key; 0 = adaptive only
	minRate  float64 // pacerMinRate (tests lower the pauses by raising it)
	increase float64 // pacerIncrease
	now      func() time.Time
	// after is the timer used by waiters (tests inject a fake clock).
	after func(d time.Duration) (<-chan time.Time, func() bool)

	mu    sync.Mutex
	lanes map[string]*lane
}

// lane is the state of one key.
type lane struct {
	rate    float64 // allowed calls per second; 0 = unpaced
	burst   float64 // most tokens an idle lane holds (>= 1)
	tokens  float64 // available now; negative: slots reserved by waiters
	last    time.Time
	gen     uint64 // incremented on every throttle the lane reacts to
	changed chan struct{}
	oks     ring      // accepted calls
	thr     ring      // throttles
	episode time.Time // first throttle of the current episode
	// learning: the episode is the lane's first (burst and first rate are
	// still being counted).
	learning bool
}

// ring is a bounded list of recent times.
type ring struct {
	t   []time.Time
	pos int
}

func (r *ring) add(t time.Time) {
	if len(r.t) < pacerHistory {
		r.t = append(r.t, t)
		return
	}
	r.t[r.pos] = t
	r.pos = (r.pos + 1) % pacerHistory
}

// since counts the times after from (and up to now).
func (r *ring) since(from time.Time) int {
	n := 0
	for _, t := range r.t {
		if t.After(from) {
			n++
		}
	}
	return n
}

// earliest is the earliest time in [from, to], if any.
func (r *ring) earliest(from, to time.Time) (time.Time, bool) {
	var best time.Time
	found := false
	for _, t := range r.t {
		if !t.Before(from) && !t.After(to) && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	return best, found
}

// ticket is one granted slot: the key and the generation it was sent in.
type ticket struct {
	key string
	gen uint64
}

func newPacer(ceiling float64) *pacer {
	if ceiling < 0 || math.IsNaN(ceiling) || math.IsInf(ceiling, 0) {
		ceiling = 0
	}
	return &pacer{ceiling: ceiling, minRate: pacerMinRate, increase: pacerIncrease, now: time.Now,
		lanes: map[string]*lane{}, after: realAfter}
}

func realAfter(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// laneLocked returns key's lane; the caller holds p.mu.
func (p *pacer) laneLocked(key string) *lane {
	l := p.lanes[key]
	if l == nil {
		l = &lane{rate: p.ceiling, burst: 1, tokens: 1, last: p.now(), changed: make(chan struct{})}
		p.lanes[key] = l
	}
	return l
}

// refillLocked adds the tokens earned since the last refill, up to burst.
func (l *lane) refillLocked(now time.Time) {
	if l.rate > 0 && now.After(l.last) {
		l.tokens = math.Min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
}

// errNoSlot is returned by wait when the key's next slot is after the ctx
// deadline.
type errNoSlot struct{ at time.Time }

func (e errNoSlot) Error() string {
	return "client-side rate limit: no slot before the deadline (next at " + e.at.Format(time.RFC3339Nano) + ")"
}

// wait blocks until the caller may send a call for key, or the ctx ends, or
// the slot would start after the ctx deadline (errNoSlot, slot released).
func (p *pacer) wait(ctx context.Context, key string) (ticket, error) {
	for {
		p.mu.Lock()
		l := p.laneLocked(key)
		now := p.now()
		if l.rate <= 0 {
			t := ticket{key: key, gen: l.gen}
			p.mu.Unlock()
			return t, nil
		}
		l.refillLocked(now)
		l.tokens-- // take a token, or reserve the next one
		if l.tokens >= 0 {
			t := ticket{key: key, gen: l.gen}
			p.mu.Unlock()
			return t, nil
		}
		at := now.Add(time.Duration(-l.tokens / l.rate * float64(time.Second)))
		gen := l.gen
		if dl, ok := ctx.Deadline(); ok && at.After(dl) {
			l.tokens++ // give the slot back
			p.mu.Unlock()
			return ticket{}, errNoSlot{at: at}
		}
		changed := l.changed
		p.mu.Unlock()

		timer, stop := p.after(at.Sub(now))
		select {
		case <-ctx.Done():
			stop()
			p.mu.Lock()
			if l.gen == gen {
				l.tokens++ // give the slot back
			}
			p.mu.Unlock()
			return ticket{}, ctx.Err()
		case <-changed:
			// throttled meanwhile: the reservations are void, take a new slot
			stop()
			continue
		case <-timer:
		}
		return ticket{key: key, gen: gen}, nil
	}
}

// throttled reports that the call of t was refused as over the rate.
func (p *pacer) throttled(t ticket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.laneLocked(t.key)
	now := p.now()
	last, seen := l.thr.earliest(now.Add(-pacerSpan), now)
	l.thr.add(now)
	switch {
	case l.rate <= 0:
		// The first throttle of an unpaced lane: what the service accepted
		// in the last second is its burst and, spread over the second, a
		// first rate.
		n := float64(l.oks.since(now.Add(-pacerWindow)))
		l.burst = math.Max(1, n)
		l.rate = math.Max(p.minRate, n/pacerWindow.Seconds())
		l.episode, l.learning = now, true
	case !seen:
		l.episode, l.learning = now, false // a new episode: keep the rate learned before
	default:
		if l.episode.Before(now.Add(-pacerSpan)) {
			l.episode = last
		}
		span, oks := now.Sub(l.episode), l.oks.since(l.episode)
		if span >= pacerMinSpan && (oks >= pacerMinSamples || span >= pacerSpan/2) {
			// Few samples over a long span: count one more (never lower a
			// lane to nothing on the noise of a slow lane's count).
			n := float64(max(oks, min(oks+1, pacerMinSamples)))
			l.rate, l.learning = math.Max(p.minRate, n/span.Seconds()*pacerHeadroom), false
		} else {
			// Early in the episode: the answers of the calls accepted with
			// the first throttle's may have come after it; count them.
			n := float64(l.oks.since(now.Add(-pacerWindow)))
			if l.learning && n > l.burst {
				l.burst, l.rate = n, math.Max(l.rate, n/pacerWindow.Seconds())
			}
			if t.gen != l.gen {
				return // sent before the last pause: already accounted for
			}
		}
	}
	if p.ceiling > 0 {
		l.rate = math.Min(l.rate, p.ceiling)
	}
	// The service's bucket is empty: so is ours (one slot's pause).
	l.tokens, l.last = 0, now
	l.gen++
	close(l.changed)
	l.changed = make(chan struct{})
}

// succeeded reports that the call of t was accepted (whatever its outcome
// other than throttling).
func (p *pacer) succeeded(t ticket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.laneLocked(t.key)
	l.oks.add(p.now())
	if l.rate <= 0 {
		return
	}
	l.rate += p.increase / l.rate
	switch {
	case p.ceiling > 0 && l.rate > p.ceiling:
		l.rate = p.ceiling
	case p.ceiling == 0 && l.rate > pacerUnlimitedAbove:
		l.rate = 0
	}
}

// rate is key's current allowed rate (0 = unpaced).
func (p *pacer) rate(key string) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.laneLocked(key).rate
}
