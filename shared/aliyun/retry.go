package aliyun

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// Defaults of RetryPolicy's zero value.
const (
	DefaultMaxAttempts = 5
	DefaultBaseDelay   = 100 * time.Millisecond
	DefaultMaxDelay    = 5 * time.Second
	// DefaultMaxThrottleDelay caps the backoff between throttled attempts.
	DefaultMaxThrottleDelay = 2 * time.Second
	// DefaultThrottleTimeout bounds the throttled retries of a call whose
	// ctx has no deadline.
	DefaultThrottleTimeout = 2 * time.Minute
)

// RetryPolicy bounds the adapter's own retries of transient failures
// (busy, 5xx, timeouts, resets). Waits are exponential with full jitter:
// before retry n (1-based) the adapter sleeps a uniformly random duration in
// [0, min(MaxDelay, BaseDelay*2^(n-1))). It never sleeps past the ctx
// deadline: when the next wait would end after it, the last error is
// returned at once. The zero value is the default policy.
//
// Throttling (a request to slow down, not a failure) does not use up
// MaxAttempts: a throttled call is retried until the ctx deadline (or, when
// the ctx has none, for ThrottleTimeout), with a backoff capped at
// MaxThrottleDelay; the SLB adapter also slows the throttled action down
// for every caller (see SLBOptions.QPS).
type RetryPolicy struct {
	// MaxAttempts is the total number of tries (first call included);
	// 0 means DefaultMaxAttempts, 1 disables retries.
	MaxAttempts int
	// BaseDelay is the first backoff ceiling; 0 means DefaultBaseDelay.
	BaseDelay time.Duration
	// MaxDelay caps every backoff ceiling; 0 means DefaultMaxDelay.
	MaxDelay time.Duration
	// MaxThrottleDelay caps the backoff between throttled attempts; 0 means
	// DefaultMaxThrottleDelay.
	MaxThrottleDelay time.Duration
	// ThrottleTimeout bounds how long a throttled call is retried when its
	// ctx has no deadline; 0 means DefaultThrottleTimeout.
	ThrottleTimeout time.Duration
	// Seed, when non-zero, makes the jitter sequence deterministic (tests).
	Seed uint64
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.MaxThrottleDelay <= 0 {
		p.MaxThrottleDelay = DefaultMaxThrottleDelay
	}
	if p.ThrottleTimeout <= 0 {
		p.ThrottleTimeout = DefaultThrottleTimeout
	}
	return p
}

// Ceiling is the upper bound of the wait before retry n (1-based).
func (p RetryPolicy) Ceiling(n int) time.Duration {
	p = p.withDefaults()
	d := p.BaseDelay
	for i := 1; i < n; i++ {
		if d >= p.MaxDelay/2 {
			return p.MaxDelay
		}
		d *= 2
	}
	if d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d
}

// retrier runs calls under a policy; it is safe for concurrent use.
type retrier struct {
	policy RetryPolicy
	mu     sync.Mutex
	rnd    *rand.Rand // nil: the goroutine-safe global source
}

func newRetrier(p RetryPolicy) *retrier {
	r := &retrier{policy: p.withDefaults()}
	if p.Seed != 0 {
		r.rnd = rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	}
	return r
}

func (r *retrier) jitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	if r.rnd == nil {
		return rand.N(ceiling)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Duration(r.rnd.Int64N(int64(ceiling)))
}

// do calls op until it succeeds, fails with a non-transient error, the
// attempts are used up, or the ctx deadline leaves no room for the next
// wait. op receives the 0-based attempt number. The returned *APIError (if
// any) carries the number of attempts made. Throttled attempts do not count
// against MaxAttempts (see RetryPolicy).
func (r *retrier) do(ctx context.Context, op func(attempt int) error) error {
	return r.doPaced(ctx, nil, "", op)
}

// doPaced is do with every attempt (the first included) waiting for a slot
// of pc's lane key, and reporting its outcome to it; pc nil means no
// pacing.
func (r *retrier) doPaced(ctx context.Context, pc *pacer, key string, op func(attempt int) error) error {
	var err error
	tries := 0     // attempts made
	failures := 0  // transient failures other than throttling
	throttles := 0 // consecutive throttled attempts
	var throttledSince time.Time
	var lastAnswer error // the service's last own answer (an HTTP status)
	for {
		if tries > 0 && !r.pause(ctx, pc != nil, throttles, failures, throttledSince) {
			break
		}
		aerr, werr := attempt(ctx, pc, key, op, tries)
		if werr != nil {
			if err == nil {
				// no attempt yet: report why none was made
				err = werr
			}
			break
		}
		err = aerr
		tries++
		if serviceAnswer(err) {
			lastAnswer = err
		}
		throttled := isThrottled(err)
		if err == nil {
			return nil
		}
		if !retryable(err) || ctx.Err() != nil {
			break
		}
		if throttled {
			if throttles == 0 {
				throttledSince = time.Now()
			}
			throttles++
			continue
		}
		throttles = 0
		failures++
		if failures >= r.policy.MaxAttempts {
			break
		}
	}
	// When the deadline cut the last attempt on its way, what the service
	// said before (Throttling, 503 ...) explains the failure better than
	// "context deadline exceeded".
	if outOfTime(ctx) && lastAnswer != nil && !serviceAnswer(err) {
		err = lastAnswer
	}
	var ae *APIError
	if errors.As(err, &ae) {
		ae.Attempts = tries
	}
	return err
}

// outOfTime reports whether ctx has ended or its deadline is so close that
// a call failing now failed for lack of time (each attempt's timeout is cut
// to the deadline, so it may fire a moment before ctx does: on a busy
// machine ctx.Err stays nil for a while after the deadline).
func outOfTime(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < 20*time.Millisecond
}

// pause waits before the next attempt. Throttled attempts wait for the
// lane when paced (the lane's lowered rate is the backoff), else a capped
// exponential backoff; other failures back off exponentially. It reports
// false when retrying must stop: throttled past ThrottleTimeout without a
// deadline, no room left before the deadline, or ctx done.
func (r *retrier) pause(ctx context.Context, paced bool, throttles, failures int, throttledSince time.Time) bool {
	var wait time.Duration
	if throttles > 0 {
		if !paced {
			wait = r.jitter(min(r.policy.Ceiling(throttles), r.policy.MaxThrottleDelay))
		}
		if _, ok := ctx.Deadline(); !ok && time.Since(throttledSince)+wait > r.policy.ThrottleTimeout {
			return false
		}
	} else {
		wait = r.jitter(r.policy.Ceiling(failures))
	}
	if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
		return false
	}
	return pause.For(ctx, wait)
}

// attempt makes call number n of op, first waiting for a slot of pc's
// lane key when pc is set, and reports the outcome to the lane. werr is
// the lane's error when it gave no slot (op was not called).
func attempt(ctx context.Context, pc *pacer, key string, op func(attempt int) error, n int) (err, werr error) {
	var t ticket
	if pc != nil {
		if t, werr = pc.wait(ctx, key); werr != nil {
			return nil, werr
		}
	}
	err = op(n)
	if pc != nil {
		if isThrottled(err) {
			pc.throttled(t)
		} else {
			pc.succeeded(t)
		}
	}
	return err, nil
}

// serviceAnswer reports whether err is the service's own refusal (it has
// an HTTP status), not a transport failure.
func serviceAnswer(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.HTTPStatus != 0
}

// isThrottled reports whether err is an *APIError refused as over a rate
// limit.
func isThrottled(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Throttled()
}

func retryable(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && errors.Is(ae, apierr.ErrTransient)
}
