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
	// pacerIncrease is the least rate (calls per second) a lane gains per
	// second of successful calls at its current rate: each success adds
	// max(pacerIncrease, peak-rate)/rate, where peak is the rate at the
	// last decrease. Below that peak the lane so recovers quickly (the gap
	// shrinks about e-fold per second); above it, it probes additively.
	pacerIncrease = 2.0
	// pacerUnlimitedAbove: a lane without a ceiling that climbs past this
	// rate is no longer paced at all.
	pacerUnlimitedAbove = 1000.0
	// pacerWindow is the span over which an unpaced lane's send rate is
	// measured (the rate halved on its first throttle).
	pacerWindow = time.Second
	// pacerHistory is how many send times an unpaced lane remembers.
	pacerHistory = 256
	// pacerMinSpan is the shortest span a measured send rate is averaged
	// over (a burst of n calls within it counts as n/pacerMinSpan).
	pacerMinSpan = 100 * time.Millisecond
)

// pacer spaces calls per key (for SLB: region and action), shared by every
// goroutine that uses one adapter. It adapts the rate of each key by AIMD:
// a throttled call halves the key's rate (once per generation: calls sent
// before the last decrease do not decrease it again) and pauses the key for
// one slot at the new rate; every successful call raises it additively
// (faster while below the rate of the last decrease), up to the ceiling or,
// without one, until the key is unpaced again. A key starts unpaced (or at
// the ceiling); its first throttle halves its measured send rate. Callers
// wait for their slot instead of firing and being refused.
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
	rate    float64   // allowed calls per second; 0 = unpaced
	peak    float64   // rate at the last decrease
	next    time.Time // earliest start of the next call
	gen     uint64    // incremented on every decrease
	changed chan struct{}
	sent    []time.Time // ring of recent send times (unpaced lanes)
	sentPos int
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
		l = &lane{rate: p.ceiling, changed: make(chan struct{})}
		p.lanes[key] = l
	}
	return l
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
		at := now
		if l.next.After(at) {
			at = l.next
		}
		var reserved time.Time
		if l.rate > 0 {
			reserved = at.Add(time.Duration(float64(time.Second) / l.rate))
			l.next = reserved
		}
		if !at.After(now) {
			t := ticket{key: key, gen: l.gen}
			l.recordLocked(now)
			p.mu.Unlock()
			return t, nil
		}
		if dl, ok := ctx.Deadline(); ok && at.After(dl) {
			if l.rate > 0 && l.next.Equal(reserved) {
				l.next = at // give the slot back
			}
			p.mu.Unlock()
			return ticket{}, errNoSlot{at: at}
		}
		changed := l.changed
		p.mu.Unlock()

		timer, stop := p.after(at.Sub(now))
		select {
		case <-ctx.Done():
			stop()
			return ticket{}, ctx.Err()
		case <-changed:
			// the rate went down: take a new slot at the new rate
			stop()
			continue
		case <-timer:
		}
		p.mu.Lock()
		l.recordLocked(p.now())
		t := ticket{key: key, gen: l.gen}
		p.mu.Unlock()
		return t, nil
	}
}

// recordLocked remembers a send time of an unpaced lane.
func (l *lane) recordLocked(t time.Time) {
	if l.rate > 0 {
		return
	}
	if len(l.sent) < pacerHistory {
		l.sent = append(l.sent, t)
		return
	}
	l.sent[l.sentPos] = t
	l.sentPos = (l.sentPos + 1) % pacerHistory
}

// recentRateLocked is the send rate over the last pacerWindow: the sends
// in it over the span they cover (at least pacerMinSpan).
func (l *lane) recentRateLocked(now time.Time) float64 {
	n := 0
	oldest := now
	for _, t := range l.sent {
		if now.Sub(t) < pacerWindow {
			n++
			if t.Before(oldest) {
				oldest = t
			}
		}
	}
	span := max(now.Sub(oldest), pacerMinSpan)
	return float64(n) / span.Seconds()
}

// throttled reports that the call of t was refused as over the rate.
func (p *pacer) throttled(t ticket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.laneLocked(t.key)
	if t.gen != l.gen {
		return // sent before the last decrease: already accounted for
	}
	now := p.now()
	cur := l.rate
	if cur <= 0 {
		cur = l.recentRateLocked(now)
	}
	l.peak = cur
	l.rate = math.Max(p.minRate, cur/2)
	if p.ceiling > 0 {
		l.rate = math.Min(l.rate, p.ceiling)
	}
	l.sent, l.sentPos = nil, 0
	l.gen++
	pause := now.Add(time.Duration(float64(time.Second) / l.rate))
	l.next = pause
	close(l.changed)
	l.changed = make(chan struct{})
}

// succeeded reports that the call of t was accepted (whatever its outcome
// other than throttling).
func (p *pacer) succeeded(t ticket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.laneLocked(t.key)
	if l.rate <= 0 {
		return
	}
	l.rate += math.Max(p.increase, l.peak-l.rate) / l.rate
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
