package faults

import (
	"math"
	"math/rand"
	"sort"
	"sync"
	"time"
)

// Rule describes the faults for one action ("" = the default for every
// action without a rule of its own). Rates are probabilities in [0,1],
// checked in the order throttle, server error, timeout, reset.
type Rule struct {
	// Action is the API action (SLB: "UploadServerCertificate"; OSS: the
	// operation name the OSS emulator reports). Empty = every action.
	Action string
	// Latency is added before the request is handled.
	Latency time.Duration
	// ThrottleRate is the probability of a Throttling refusal.
	ThrottleRate float64
	// ServerErrorRate is the probability of a 5xx answer.
	ServerErrorRate float64
	// TimeoutRate is the probability the request is held until the client
	// gives up.
	TimeoutRate float64
	// ResetRate is the probability the connection is reset.
	ResetRate float64
	// QPS is a per-action token bucket rate; requests over it are throttled,
	// not queued. 0 = no limit.
	QPS float64
	// Burst is the bucket size for QPS; 0 = ceil(QPS) (one second's worth).
	Burst int
	// LostRate is the probability that a write, after it took effect, loses
	// its answer: the client sees a 5xx, a timeout or a reset (equal odds)
	// although the state changed. Emulators consult it through DecideAfter
	// for their write actions only.
	LostRate float64
}

// Decision is what the emulator must do with one request.
type Decision struct {
	// Delay to wait (respecting the request context) before anything else.
	Delay time.Duration
	// Throttle: answer with the service's throttling error.
	Throttle bool
	// ServerError: answer with a 5xx; Status says which (500 or 503).
	ServerError bool
	// Status is 500 (InternalError) or 503 (ServiceUnavailable) when
	// ServerError is set, else 0.
	Status int
	// Timeout: hold the request until the client gives up (see Hold).
	Timeout bool
	// Reset: hijack and close the connection (see Reset).
	Reset bool
	// QPSLimited is set with Throttle when the QPS bucket refused the call.
	QPSLimited bool
}

// Faulty reports whether the decision asks for anything but a delay.
func (d Decision) Faulty() bool { return d.Throttle || d.ServerError || d.Timeout || d.Reset }

// ActionStats counts what the injector decided for one action.
type ActionStats struct {
	Calls     int `json:"calls"`
	Throttled int `json:"throttled"`
	Errors    int `json:"errors"` // 5xx
	Timeouts  int `json:"timeouts"`
	Resets    int `json:"resets"`
	// Lost counts writes applied whose answer was then lost (DecideAfter).
	Lost int `json:"lost,omitempty"`
}

type bucket struct {
	tokens float64
	last   time.Time
}

// Injector decides faults. It is safe for concurrent use; a nil *Injector
// injects nothing.
type Injector struct {
	mu      sync.Mutex
	rnd     *rand.Rand
	after   *rand.Rand // DecideAfter's own stream: Decide replays unchanged
	rules   map[string]Rule
	buckets map[string]*bucket
	stats   map[string]*ActionStats
	now     func() time.Time
}

// New returns an injector with no rules whose random choices come from seed.
func New(seed int64) *Injector {
	return &Injector{
		rnd:     rand.New(rand.NewSource(seed)),
		after:   rand.New(rand.NewSource(seed ^ 0x5eed_a17e)),
		rules:   map[string]Rule{},
		buckets: map[string]*bucket{},
		stats:   map[string]*ActionStats{},
		now:     time.Now,
	}
}

// SetClock replaces the clock used by the QPS buckets (tests).
func (i *Injector) SetClock(now func() time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.now = now
}

// Set replaces the rule for r.Action (and resets its QPS bucket).
func (i *Injector) Set(r Rule) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules[r.Action] = r
	for k := range i.buckets {
		if r.Action == "" || k == r.Action {
			delete(i.buckets, k)
		}
	}
}

// Rules returns the current rules sorted by action.
func (i *Injector) Rules() []Rule {
	if i == nil {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	out := make([]Rule, 0, len(i.rules))
	for _, r := range i.rules {
		out = append(out, r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Action < out[b].Action })
	return out
}

// Clear removes every rule and QPS bucket (statistics are kept; see
// ResetStats).
func (i *Injector) Clear() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.rules = map[string]Rule{}
	i.buckets = map[string]*bucket{}
}

// ResetStats zeroes the statistics.
func (i *Injector) ResetStats() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.stats = map[string]*ActionStats{}
}

// Decide returns the faults for one call of action and counts it. Every call
// draws the same number of random values, whatever the rates, so a given
// seed replays the same decisions for the same sequence of actions.
func (i *Injector) Decide(action string) Decision {
	if i == nil {
		return Decision{}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	st := i.stats[action]
	if st == nil {
		st = &ActionStats{}
		i.stats[action] = st
	}
	st.Calls++

	// Fixed draws: throttle, 5xx, 5xx kind, timeout, reset.
	var u [5]float64
	for k := range u {
		u[k] = i.rnd.Float64()
	}
	r, ok := i.rules[action]
	if !ok {
		r, ok = i.rules[""]
	}
	if !ok {
		return Decision{}
	}
	d := Decision{Delay: r.Latency}
	if r.QPS > 0 && !i.take(action, r) {
		d.Throttle, d.QPSLimited = true, true
	}
	switch {
	case d.Throttle:
	case u[0] < r.ThrottleRate:
		d.Throttle = true
	case u[1] < r.ServerErrorRate:
		d.ServerError = true
		d.Status = 503
		if u[2] < 0.5 {
			d.Status = 500
		}
	case u[3] < r.TimeoutRate:
		d.Timeout = true
	case u[4] < r.ResetRate:
		d.Reset = true
	}
	switch {
	case d.Throttle:
		st.Throttled++
	case d.ServerError:
		st.Errors++
	case d.Timeout:
		st.Timeouts++
	case d.Reset:
		st.Resets++
	}
	return d
}

// DecideAfter returns the fault for the answer of one write of action that
// has just taken effect: ServerError (with Status), Timeout or Reset when the
// rule's LostRate draws a loss, else the zero Decision. It never throttles
// or delays (those are decided before the action by Decide). Its random
// choices come from a stream of their own, so adding LostRate to a rule
// leaves the replay of Decide for the same seed unchanged; two draws per
// call whatever the rates.
func (i *Injector) DecideAfter(action string) Decision {
	if i == nil {
		return Decision{}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	u, kind := i.after.Float64(), i.after.Float64()
	r, ok := i.rules[action]
	if !ok {
		r, ok = i.rules[""]
	}
	if !ok || u >= r.LostRate {
		return Decision{}
	}
	st := i.stats[action]
	if st == nil {
		st = &ActionStats{}
		i.stats[action] = st
	}
	st.Lost++
	switch {
	case kind < 1.0/6:
		return Decision{ServerError: true, Status: 500}
	case kind < 2.0/6:
		return Decision{ServerError: true, Status: 503}
	case kind < 4.0/6:
		return Decision{Timeout: true}
	default:
		return Decision{Reset: true}
	}
}

// take consumes one token of action's bucket; the caller holds i.mu.
func (i *Injector) take(action string, r Rule) bool {
	now := i.now()
	burst := float64(r.Burst)
	if burst <= 0 {
		burst = math.Max(1, math.Ceil(r.QPS))
	}
	b := i.buckets[action]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		i.buckets[action] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(burst, b.tokens+el*r.QPS)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// Stats returns a copy of the per-action counters.
func (i *Injector) Stats() map[string]ActionStats {
	if i == nil {
		return map[string]ActionStats{}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	out := make(map[string]ActionStats, len(i.stats))
	for k, v := range i.stats {
		out[k] = *v
	}
	return out
}
