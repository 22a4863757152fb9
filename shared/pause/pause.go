// Package pause waits out a delay unless the context ends first: the one
// "sleep d or until ctx is done" of the adapters' retries, the lease's
// backoff, the rotation's probe retries, the renewal's DNS checks, the
// provisioning's listener polls and the emulators' fault delays.
package pause

import (
	"context"
	"time"
)

// For waits d or until ctx is done, whichever comes first; it reports
// whether d elapsed. A d <= 0 does not wait: it reports whether ctx is
// still live.
func For(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
