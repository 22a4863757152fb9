package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// Defaults of Options.
const (
	DefaultPrefix = "locks/"
	// DefaultTTL is the lease when the invocation has no deadline.
	DefaultTTL = 10 * time.Minute
	// DefaultMargin is the time kept after waiting for a lock, to do the
	// work itself (at most half of the time left when waiting starts).
	DefaultMargin = 30 * time.Second
	// DefaultSkew is added to the holder's deadline in its lease: the most
	// a contender's clock may run ahead of the holder's.
	DefaultSkew = 5 * time.Second
	// DefaultBaseDelay and DefaultMaxDelay bound the waits between tries
	// (exponential with full jitter).
	DefaultBaseDelay = 100 * time.Millisecond
	DefaultMaxDelay  = time.Second
	// DefaultMalformedAfter is how long after its LastModified a generation
	// object that is not a lease (malformed, or over MaxSize) blocks the
	// lock before it is passed over: longer than any lease we write lasts
	// without a deadline (DefaultTTL) plus the skew.
	DefaultMalformedAfter = DefaultTTL + DefaultSkew
	// MaxSize caps the read of a generation object.
	MaxSize = 4 << 10
)

// ErrLocked is returned (together with apierr.ErrTransient, so that FC
// retries the invocation) when another invocation held the lock for longer
// than this invocation could wait.
var ErrLocked = errors.New("lease: held by another invocation")

// ErrLost reports that the lease expired and a later generation was taken
// before it was released.
var ErrLost = errors.New("lease: expired and taken by another invocation before release")

// Options configure a lock (zero values: defaults).
type Options struct {
	// Prefix of the lock folders in the bucket (default "locks/"): lock
	// name lives under <Prefix><name>/, outside the OSS trigger's filter.
	Prefix string
	// TTL is the lease when ctx has no deadline; with a deadline the lease
	// ends at the deadline plus Skew.
	TTL time.Duration
	// Skew is added to the holder's deadline in its lease.
	Skew time.Duration
	// Margin is the time left for the work after waiting.
	Margin time.Duration
	// MalformedAfter bounds how long a generation object that is not a
	// lease blocks the lock (from its LastModified).
	MalformedAfter time.Duration
	// BaseDelay and MaxDelay bound the waits between tries.
	BaseDelay, MaxDelay time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Sleep waits d or until ctx ends, reporting whether d elapsed
	// (pause.For when nil; a simulated clock in tests).
	Sleep func(ctx context.Context, d time.Duration) bool
	// Jitter draws a duration in [0, n) for the backoff (math/rand/v2's N
	// when nil; seeded in tests).
	Jitter func(n time.Duration) time.Duration
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Skew <= 0 {
		o.Skew = DefaultSkew
	}
	if o.Margin <= 0 {
		o.Margin = DefaultMargin
	}
	if o.MalformedAfter <= 0 {
		o.MalformedAfter = DefaultMalformedAfter
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultBaseDelay
	}
	if o.MaxDelay < o.BaseDelay {
		o.MaxDelay = max(DefaultMaxDelay, o.BaseDelay)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = pause.For
	}
	if o.Jitter == nil {
		o.Jitter = mrand.N[time.Duration]
	}
	return o
}

// Lease is the body of a generation object.
type Lease struct {
	// Owner identifies the holder: the FC request id and a random token.
	Owner string `json:"owner"`
	// Generation is the fencing number (the object's key says it too).
	Generation uint64 `json:"generation"`
	// Acquired is when the contender started to take the lock.
	Acquired time.Time `json:"acquired"`
	// Expires is when other contenders may pass over this generation: the
	// holder's deadline plus the skew. The holder itself stops at
	// Expires-Skew by its own clock.
	Expires time.Time `json:"expires"`
}

// NewOwner returns a lock owner for an invocation: the request id (if any)
// and a random token, so that FC's retries of one request (same request id)
// never mistake each other's lease for their own.
func NewOwner(requestID string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	if requestID == "" {
		return hex.EncodeToString(b[:])
	}
	return requestID + "/" + hex.EncodeToString(b[:])
}

// Lock is a held lease.
type Lock struct {
	store    Store
	bucket   string
	dir      string
	owner    string
	gen      uint64
	deadline time.Time
	now      func() time.Time
	sleep    func(context.Context, time.Duration) bool
	// Waited reports that another invocation held the lock (or took a
	// generation this one contended for) while this one tried.
	Waited bool
}

// Generation is the lock's fencing number: every holder's is higher than
// every earlier holder's.
func (l *Lock) Generation() uint64 { return l.gen }

// Deadline is when the holder stops holding (by its own clock): the lease's
// Expires minus the skew.
func (l *Lock) Deadline() time.Time { return l.deadline }

// Held reports whether the lease is still this invocation's at now (its own
// clock): before Deadline. Work that writes must check it first.
func (l *Lock) Held(now time.Time) bool { return l != nil && now.Before(l.deadline) }

func parseLease(data []byte) (Lease, error) {
	var l Lease
	if err := json.Unmarshal(data, &l); err != nil {
		return Lease{}, err
	}
	if l.Owner == "" || l.Expires.IsZero() {
		return Lease{}, errors.New("not a lease")
	}
	return l, nil
}

// retryable reports whether a store error is worth another try (a lost or
// refused answer) rather than the end of Acquire.
func retryable(err error) bool {
	return !apierr.Permanent(err) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// backoff is the wait before try (exponential with full jitter).
func (o Options) backoff(try int) time.Duration {
	ceiling := o.BaseDelay << min(try, 20)
	if ceiling > o.MaxDelay || ceiling <= 0 {
		ceiling = o.MaxDelay
	}
	return o.BaseDelay/2 + o.Jitter(ceiling)
}

func where(bucket, dir string) string { return fmt.Sprintf("oss://%s/%s", bucket, dir) }
