package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// Acquire takes lock name in bucket for owner. While another invocation
// holds an unexpired lease it waits (exponential backoff with full jitter)
// until the ctx deadline minus the margin; then it returns an error that Is
// ErrLocked and apierr.ErrTransient. Lost or refused answers of the store
// are tried again within the same bound; a permanent store error (access
// denied, a versioned bucket) is returned at once. See the package doc for
// the protocol and why two holders are impossible.
func Acquire(ctx context.Context, store Store, bucket, name, owner string, opts Options) (*Lock, error) {
	o := opts.withDefaults()
	start := o.Now()
	deadline := start.Add(o.TTL)
	waitUntil := deadline
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl
		margin := min(o.Margin, dl.Sub(start)/2)
		waitUntil = dl.Add(-margin)
	}
	a := &acquirer{o: o, lk: &Lock{store: store, bucket: bucket, dir: Dir(o.Prefix, name), owner: owner,
		deadline: deadline, now: o.Now, sleep: o.Sleep}}
	a.lease = Lease{Owner: owner, Acquired: start.UTC(), Expires: deadline.Add(o.Skew).UTC()}
	// The store calls of the acquisition end by waitUntil too (an adapter
	// may retry a throttled call until its ctx ends), keeping the margin.
	actx, cancel := context.WithDeadline(ctx, time.Now().Add(waitUntil.Sub(start)))
	defer cancel()
	lk, err := a.run(actx, waitUntil)
	if err != nil {
		a.abandon(ctx)
	}
	return lk, err
}

// run tries rounds until one holds, a permanent error, or waitUntil.
func (a *acquirer) run(ctx context.Context, waitUntil time.Time) (*Lock, error) {
	for try := 0; ; try++ {
		if err := ctx.Err(); err != nil {
			return nil, a.giveUp(timeUp{err})
		}
		next, err := a.round(ctx)
		switch {
		case next == held:
			return a.lk, nil
		case err != nil && !retryable(err):
			return nil, err
		case next == again:
			continue
		}
		a.lastErr = err
		wait := a.o.backoff(try)
		if a.o.Now().Add(wait).After(waitUntil) {
			return nil, a.giveUp(apierr.ErrTransient)
		}
		if !a.o.Sleep(ctx, wait) {
			return nil, a.giveUp(timeUp{ctx.Err()})
		}
	}
}

// timeUp is the ctx's error when the wait for the lock was cut by it (the
// acquisition's own deadline, waitUntil, or the invocation's end): as
// transient as giving up at waitUntil, so that FC's retry tries again.
type timeUp struct{ error }

func (t timeUp) Is(target error) bool { return target == apierr.ErrTransient }
func (t timeUp) Unwrap() error        { return t.error }

// abandon releases, best effort, a generation this Acquire created but does
// not return (its create's answer was lost, or its confirmation failed), so
// that it does not block the lock until its lease expires. It never held
// that generation, so marking it released hands nothing over early.
func (a *acquirer) abandon(ctx context.Context) {
	if !a.wrote {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	for try := 0; try < releaseTries; try++ {
		if try > 0 && !a.o.Sleep(ctx, a.o.BaseDelay) {
			return
		}
		l, err := a.list(ctx)
		if err != nil {
			continue
		}
		if l.top == 0 || l.released {
			return
		}
		cur, _, err := a.inspect(ctx, l)
		if err != nil {
			continue
		}
		if cur.Owner != a.lk.owner || cur.Generation != l.top {
			return
		}
		a.lk.gen = l.top
		_ = a.lk.mark(ctx)
		return
	}
}

type outcome int

const (
	wait  outcome = iota // try again after a backoff
	again                // try again at once (the lock changed under us)
	held                 // this invocation holds the lock
)

type acquirer struct {
	o       Options
	lk      *Lock
	lease   Lease
	holder  Lease // the last live lease of another owner seen
	lastErr error // the last store error, reported when giving up
	wrote   bool  // a put of a generation was sent (it may have applied)
}

// giveUp builds the error of an Acquire that ends without the lock.
func (a *acquirer) giveUp(cause error) error {
	w := where(a.lk.bucket, a.lk.dir)
	switch {
	case a.holder.Owner != "":
		return fmt.Errorf("%w: %s held by %s until %s: %w", ErrLocked, w, a.holder.Owner,
			a.holder.Expires.UTC().Format(time.RFC3339), cause)
	case a.lastErr != nil:
		return fmt.Errorf("%w: %s: %w (last store error: %w)", ErrLocked, w, cause, a.lastErr)
	}
	return fmt.Errorf("%w: %s: %w", ErrLocked, w, cause)
}

// round lists the lock, decides which generation to contend for, creates it
// and confirms it.
func (a *acquirer) round(ctx context.Context) (outcome, error) {
	l, err := a.list(ctx)
	if err != nil {
		return wait, err
	}
	next := l.top + 1
	if l.top > 0 && !l.released {
		cur, live, err := a.inspect(ctx, l)
		switch {
		case errors.Is(err, apierr.ErrNotFound):
			return again, nil // passed over and collected meanwhile
		case err != nil:
			return wait, err
		case cur.Owner == a.lk.owner && cur.Generation == l.top:
			return a.ours(ctx, l.top) // a create whose answer was lost
		case live:
			a.holder, a.lk.Waited = cur, true
			return wait, nil
		}
	}
	lease := a.lease
	lease.Generation = next
	body, err := json.Marshal(lease)
	if err != nil {
		return wait, fmt.Errorf("lease: %s: %w", where(a.lk.bucket, a.lk.dir), err)
	}
	a.wrote = true
	created, err := a.lk.store.PutIfAbsent(ctx, a.lk.bucket, genKey(a.lk.dir, next), body, "application/json")
	if err != nil {
		// Maybe applied: the next round's listing shows it as ours if so.
		return wait, fmt.Errorf("lease: take %s: %w", genKey(a.lk.dir, next), err)
	}
	if !created {
		a.lk.Waited = true
		return again, nil
	}
	return a.confirm(ctx, next)
}

func (a *acquirer) list(ctx context.Context) (listing, error) {
	objs, err := a.lk.store.List(ctx, a.lk.bucket, a.lk.dir)
	if err != nil {
		return listing{}, fmt.Errorf("lease: list %s: %w", where(a.lk.bucket, a.lk.dir), err)
	}
	return readListing(a.lk.dir, objs), nil
}

// inspect reads the top generation: its lease and whether it is still live
// by this contender's clock. An object that is not a lease (malformed, or
// over MaxSize) is live until MalformedAfter past its LastModified.
func (a *acquirer) inspect(ctx context.Context, l listing) (Lease, bool, error) {
	key := genKey(a.lk.dir, l.top)
	data, err := a.lk.store.Get(ctx, a.lk.bucket, key, MaxSize)
	if err != nil && !errors.Is(err, apierr.ErrInvalid) {
		return Lease{}, false, fmt.Errorf("lease: read %s: %w", key, err)
	}
	now := a.o.Now()
	cur, perr := parseLease(data)
	if err != nil || perr != nil {
		bad := Lease{Owner: "(not a lease: " + key + ")", Expires: l.modified.Add(a.o.MalformedAfter)}
		return bad, now.Before(bad.Expires), nil
	}
	return cur, now.Before(cur.Expires), nil
}

// ours handles a top generation that holds our lease although no create
// of ours said so (its answer was lost). On an unversioned bucket the same
// put again is refused (the object exists) and the generation is confirmed;
// on a versioned bucket, where OSS ignores forbid-overwrite and so the body
// read may be ours only because ours was the last of several puts, the put
// succeeds and the store refuses it: the lock is never held there.
func (a *acquirer) ours(ctx context.Context, g uint64) (outcome, error) {
	lease := a.lease
	lease.Generation = g
	body, err := json.Marshal(lease)
	if err != nil {
		return wait, fmt.Errorf("lease: %s: %w", where(a.lk.bucket, a.lk.dir), err)
	}
	a.wrote = true
	if _, err := a.lk.store.PutIfAbsent(ctx, a.lk.bucket, genKey(a.lk.dir, g), body, "application/json"); err != nil {
		return wait, fmt.Errorf("lease: check %s: %w", genKey(a.lk.dir, g), err)
	}
	return a.confirm(ctx, g)
}

// confirm lists again after generation g was created (or found ours): the
// lock is held only when g is still the highest generation, so a create
// that landed late, on a generation already collected, never counts.
func (a *acquirer) confirm(ctx context.Context, g uint64) (outcome, error) {
	l, err := a.list(ctx)
	if err != nil {
		return wait, err
	}
	if l.top != g || l.released {
		a.lk.Waited = true
		return again, nil
	}
	if !a.lk.Held(a.o.Now()) {
		return wait, fmt.Errorf("lease: generation %d of %s confirmed after the deadline: %w", g, where(a.lk.bucket, a.lk.dir), apierr.ErrTransient)
	}
	a.lk.gen = g
	return held, nil
}
