package reliability

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
)

// lockWatch records every write of a pair's lock as the bucket applies it
// (whatever became of the answer): when each generation was created, with
// its lease, and when each was released.
type lockWatch struct {
	mu       sync.Mutex
	dir      string
	created  map[uint64]lockWrite
	released map[uint64]time.Time
	writes   int
}

type lockWrite struct {
	at    time.Time
	lease lease.Lease
	ok    bool // the body is a lease
}

// watchLock starts recording the writes of lock name in e's bucket.
func watchLock(e *env, name string) *lockWatch {
	w := &lockWatch{dir: lease.Dir("", name), created: map[uint64]lockWrite{}, released: map[uint64]time.Time{}}
	e.Cloud.OSS.OnWrite(func(ev oss.ObjectEvent) {
		g, released, ok := lease.ParseKey(w.dir, ev.Key)
		if ev.Bucket != e.Bucket || !ok {
			return
		}
		body, _ := e.Cloud.OSS.Object(ev.Bucket, ev.Key)
		w.mu.Lock()
		defer w.mu.Unlock()
		w.writes++
		if released {
			if _, seen := w.released[g]; !seen {
				w.released[g] = ev.Time
			}
			return
		}
		if _, seen := w.created[g]; !seen {
			var l lease.Lease
			err := json.Unmarshal(body, &l)
			w.created[g] = lockWrite{at: ev.Time, lease: l, ok: err == nil && l.Owner != ""}
		}
	})
	return w
}

// check asserts that the lock never had two holders (see violations); it
// returns the number of generations seen.
func (w *lockWatch) check(t *testing.T, when string) int {
	t.Helper()
	for _, v := range w.violations() {
		t.Errorf("%s: two lock holders: %s", when, v)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.created)
}

// violations lists each generation N+1 created before generation N had
// been released or its lease had expired (one clock here, so no skew).
// Together with forbid-overwrite (one creator per generation) that is the
// lock's whole guarantee.
func (w *lockWatch) violations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for g, next := range w.created {
		prev, ok := w.created[g-1]
		if g == 1 || !ok {
			continue
		}
		rel, released := w.released[g-1]
		switch {
		case released && !rel.After(next.at):
		case prev.ok && !next.at.Before(prev.lease.Expires):
		default:
			out = append(out, fmt.Sprintf("generation %d (%s) created at %s while generation %d (%s, expires %s) was neither released nor expired",
				g, next.lease.Owner, next.at.Format(time.RFC3339Nano), g-1, prev.lease.Owner, prev.lease.Expires.Format(time.RFC3339Nano)))
		}
	}
	sort.Strings(out)
	return out
}

// TestReliabilityLockWatchCanFail proves the holder check sees an overlap.
func TestReliabilityLockWatchCanFail(t *testing.T) {
	t0 := time.Now()
	w := &lockWatch{created: map[uint64]lockWrite{
		1: {at: t0, lease: lease.Lease{Owner: "a", Expires: t0.Add(time.Minute)}, ok: true},
		2: {at: t0.Add(time.Second), lease: lease.Lease{Owner: "b", Expires: t0.Add(time.Hour)}, ok: true},
		3: {at: t0.Add(2 * time.Hour), lease: lease.Lease{Owner: "c", Expires: t0.Add(3 * time.Hour)}, ok: true},
	}, released: map[uint64]time.Time{}}
	if v := w.violations(); len(v) != 1 || !strings.Contains(v[0], "generation 2 (b)") {
		t.Fatalf("violations %v; want generation 2 taken while 1 was held", v)
	}
	w.released[1] = t0.Add(500 * time.Millisecond)
	if v := w.violations(); len(v) != 0 {
		t.Fatalf("violations %v after the release of generation 1", v)
	}
}
