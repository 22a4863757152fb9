package rotation

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
)

// LockStore is what the cross-instance lock needs from object storage;
// *aliyun.OSS satisfies it. PutIfAbsent must be atomic (OSS PutObject with
// x-oss-forbid-overwrite: true) and report an existing object as
// created=false with a nil error; Get reports a missing object with an error
// that Is apierr.ErrNotFound; Delete of a missing object returns nil.
type LockStore interface {
	PutIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string) (created bool, err error)
	Get(ctx context.Context, bucket, key string, maxSize int64) ([]byte, error)
	Delete(ctx context.Context, bucket, key string) error
}

// Defaults of LockOptions.
const (
	DefaultLockPrefix = "locks/"
	// DefaultLockTTL is the lease when the invocation has no deadline.
	DefaultLockTTL = 10 * time.Minute
	// DefaultLockMargin is the time kept after waiting for a lock, to do
	// the rotation itself (at most half of the time left when waiting starts).
	DefaultLockMargin = 30 * time.Second
	// DefaultLockSkew is added to the holder's deadline in its lease, for
	// clock skew between instances and the release after the deadline.
	DefaultLockSkew = 5 * time.Second
	// DefaultLockBaseDelay and DefaultLockMaxDelay bound the waits between
	// tries (exponential with full jitter).
	DefaultLockBaseDelay = 100 * time.Millisecond
	DefaultLockMaxDelay  = time.Second
	// maxLeaseSize caps the read of a lock object.
	maxLeaseSize = 4 << 10
)

// ErrLocked is returned (together with apierr.ErrTransient, so that FC
// retries the invocation) when another invocation held the pair's lock for
// longer than this invocation could wait.
var ErrLocked = errors.New("rotation: the pair is being rotated by another invocation")

// errLeaseLost reports that the lock was broken and taken by another
// invocation before it was released.
var errLeaseLost = errors.New("rotation: the lock was taken over by another invocation before release")

// LockOptions configure the cross-instance lock (zero values: defaults).
type LockOptions struct {
	// Prefix of the lock objects in the certificate bucket (default
	// "locks/"): the lock of pair name is <Prefix><name>.lock, outside the
	// OSS trigger's filter (no .pem suffix, not under CERT_PREFIX).
	Prefix string
	// TTL is the lease when the invocation has no deadline; with a
	// deadline the lease ends at the deadline plus Skew.
	TTL time.Duration
	// Skew is added to the holder's deadline in its lease.
	Skew time.Duration
	// Margin is the time left for the rotation after waiting.
	Margin time.Duration
	// BaseDelay and MaxDelay bound the waits between tries.
	BaseDelay, MaxDelay time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (o LockOptions) withDefaults() LockOptions {
	if o.Prefix == "" {
		o.Prefix = DefaultLockPrefix
	}
	if o.TTL <= 0 {
		o.TTL = DefaultLockTTL
	}
	if o.Skew <= 0 {
		o.Skew = DefaultLockSkew
	}
	if o.Margin <= 0 {
		o.Margin = DefaultLockMargin
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = DefaultLockBaseDelay
	}
	if o.MaxDelay < o.BaseDelay {
		o.MaxDelay = max(DefaultLockMaxDelay, o.BaseDelay)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// LockKey is the object key of pair name's lock.
func LockKey(prefix, name string) string {
	if prefix == "" {
		prefix = DefaultLockPrefix
	}
	return prefix + name + ".lock"
}

// Lease is the body of a lock object.
type Lease struct {
	// Owner identifies the holder: the FC request id and a random token.
	Owner string `json:"owner"`
	// Acquired is when the lease was taken.
	Acquired time.Time `json:"acquired"`
	// Expires is when the lease may be broken (the holder died).
	Expires time.Time `json:"expires"`
}

// NewOwner returns a lock owner for an invocation: the request id (if any)
// and a random token, so that FC's retries of one request (same request
// id) never mistake each other's lease for their own.
func NewOwner(requestID string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	if requestID == "" {
		return hex.EncodeToString(b[:])
	}
	return requestID + "/" + hex.EncodeToString(b[:])
}

// Lock is a held cross-instance lock.
type Lock struct {
	store  LockStore
	bucket string
	key    string
	owner  string
	// Waited reports that the lock was held by another invocation first.
	Waited bool
}

// AcquireLock takes the lease lock bucket/key for owner. While another
// invocation holds an unexpired lease it waits (exponential backoff with
// full jitter) until the ctx deadline minus the margin; then it returns an
// error that Is ErrLocked and apierr.ErrTransient. An expired lease (its
// holder died) is broken: deleted, then contended for again (one
// PutIfAbsent wins); a breaker that won checks again after BaseDelay that
// no other breaker of the same lease deleted its lock in between. Store
// errors are returned wrapped.
func AcquireLock(ctx context.Context, store LockStore, bucket, key, owner string, opts LockOptions) (*Lock, error) {
	o := opts.withDefaults()
	start := o.Now()
	expires := start.Add(o.TTL)
	waitUntil := expires
	if dl, ok := ctx.Deadline(); ok {
		expires = dl.Add(o.Skew)
		margin := min(o.Margin, dl.Sub(start)/2)
		waitUntil = dl.Add(-margin)
	}
	body, err := json.Marshal(Lease{Owner: owner, Acquired: start.UTC(), Expires: expires.UTC()})
	if err != nil {
		return nil, fmt.Errorf("rotation: lock %s: %w", key, err)
	}
	l := &Lock{store: store, bucket: bucket, key: key, owner: owner}
	var holder Lease
	broke := false
	for try := 0; ; try++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("rotation: take lock oss://%s/%s: %w", bucket, key, err)
		}
		created, err := store.PutIfAbsent(ctx, bucket, key, body, "application/json")
		if err != nil {
			return nil, fmt.Errorf("rotation: take lock oss://%s/%s: %w", bucket, key, err)
		}
		if created {
			if !broke {
				return l, nil
			}
			// We broke an expired lease: another breaker that read the same
			// lease may delete ours in the moment between its read and its
			// delete. Let that moment pass, then check that we still hold it.
			if !sleepCtx(ctx, o.BaseDelay) {
				return nil, fmt.Errorf("rotation: take lock oss://%s/%s: %w", bucket, key, ctx.Err())
			}
			data, err := store.Get(ctx, bucket, key, maxLeaseSize)
			if err != nil && !errors.Is(err, apierr.ErrNotFound) {
				return nil, fmt.Errorf("rotation: read lock oss://%s/%s: %w", bucket, key, err)
			}
			if cur, perr := parseLease(data); err == nil && perr == nil && cur.Owner == owner {
				return l, nil
			}
			broke = false
			l.Waited = true
			continue
		}
		data, err := store.Get(ctx, bucket, key, maxLeaseSize)
		switch {
		case errors.Is(err, apierr.ErrNotFound):
			continue // released in between: try again at once
		case err != nil:
			return nil, fmt.Errorf("rotation: read lock oss://%s/%s: %w", bucket, key, err)
		}
		cur, perr := parseLease(data)
		if perr == nil && cur.Owner == owner {
			return l, nil // our own write, whose answer was lost
		}
		now := o.Now()
		if perr != nil || !now.Before(cur.Expires) {
			// The holder died (or the object is not a lease): break it.
			if err := store.Delete(ctx, bucket, key); err != nil {
				return nil, fmt.Errorf("rotation: break expired lock oss://%s/%s: %w", bucket, key, err)
			}
			broke = true
			continue
		}
		holder = cur
		l.Waited = true
		ceiling := o.BaseDelay << min(try, 20)
		if ceiling > o.MaxDelay || ceiling <= 0 {
			ceiling = o.MaxDelay
		}
		wait := o.BaseDelay/2 + mrand.N(ceiling)
		if now.Add(wait).After(waitUntil) {
			return nil, fmt.Errorf("%w: lock oss://%s/%s held by %s until %s: %w", ErrLocked, bucket, key,
				holder.Owner, holder.Expires.UTC().Format(time.RFC3339), apierr.ErrTransient)
		}
		if !sleepCtx(ctx, wait) {
			return nil, fmt.Errorf("%w: lock oss://%s/%s held by %s: %w", ErrLocked, bucket, key, holder.Owner, ctx.Err())
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

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

// Release deletes the lock object if this lock's owner still holds it. It
// uses its own short deadline when ctx is already done, so that an
// invocation that ran out of time still releases. A lock already taken over
// (broken after expiry) is left alone and reported.
func (l *Lock) Release(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
	}
	data, err := l.store.Get(ctx, l.bucket, l.key, maxLeaseSize)
	if errors.Is(err, apierr.ErrNotFound) {
		return fmt.Errorf("rotation: release lock oss://%s/%s: %w", l.bucket, l.key, errLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("rotation: release lock oss://%s/%s: %w", l.bucket, l.key, err)
	}
	if cur, err := parseLease(data); err != nil || cur.Owner != l.owner {
		return fmt.Errorf("rotation: release lock oss://%s/%s: %w", l.bucket, l.key, errLeaseLost)
	}
	if err := l.store.Delete(ctx, l.bucket, l.key); err != nil {
		return fmt.Errorf("rotation: release lock oss://%s/%s: %w", l.bucket, l.key, err)
	}
	return nil
}
