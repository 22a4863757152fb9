package lease

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// releaseTries bounds the tries of the release marker's put.
const releaseTries = 3

// Release ends the lease: it writes generation g's release marker (so the
// next contender may take g+1 at once instead of waiting for the expiry)
// and collects the lower generations. It uses its own short deadline when
// ctx is already done, so that an invocation that ran out of time still
// releases. A lease already passed over (a higher generation exists) is
// left alone and reported with ErrLost; it never deletes anything of the
// current or a later generation.
func (l *Lock) Release(ctx context.Context) error {
	if l == nil {
		return nil
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
	}
	objs, err := l.store.List(ctx, l.bucket, l.dir)
	if err != nil {
		return fmt.Errorf("lease: release %s: %w", where(l.bucket, l.dir), err)
	}
	ls := readListing(l.dir, objs)
	if ls.top != l.gen {
		return fmt.Errorf("lease: release %s generation %d (highest %d): %w", where(l.bucket, l.dir), l.gen, ls.top, ErrLost)
	}
	if err := l.mark(ctx); err != nil {
		return err
	}
	for _, k := range ls.below {
		_ = l.store.Delete(ctx, l.bucket, k) // garbage: a failure leaves it for the next release
	}
	return nil
}

// mark writes generation l.gen's release marker (tried a few times).
func (l *Lock) mark(ctx context.Context) error {
	key := releasedKey(l.dir, l.gen)
	body, err := json.Marshal(map[string]string{"owner": l.owner})
	if err != nil {
		return fmt.Errorf("lease: release %s: %w", key, err)
	}
	for try := 1; ; try++ {
		_, err = l.store.PutIfAbsent(ctx, l.bucket, key, body, "application/json")
		if err == nil || try == releaseTries || !retryable(err) {
			break
		}
		if !l.sleep(ctx, DefaultBaseDelay) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lease: release %s: %w", key, err)
	}
	return nil
}
