package lease_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease/leasetest"
)

const (
	bucket = "certs"
	gen1   = "locks/www/g00000000000000000001"
	gen2   = "locks/www/g00000000000000000002"
)

// fast keeps the waits of the tests short.
var fast = lease.Options{BaseDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond, Margin: 50 * time.Millisecond}

func TestDirAndOwner(t *testing.T) {
	for _, tt := range []struct{ prefix, name, want string }{
		{"", "www", "locks/www/"},
		{"locks/", "site a ü", "locks/site a ü/"},
		{".rotator/", "provision/cn-x/lb", ".rotator/provision/cn-x/lb/"},
	} {
		if got := lease.Dir(tt.prefix, tt.name); got != tt.want {
			t.Errorf("Dir(%q, %q) = %q; want %q", tt.prefix, tt.name, got, tt.want)
		}
	}
	a, b := lease.NewOwner("req-1"), lease.NewOwner("req-1")
	if a == b || !strings.HasPrefix(a, "req-1/") || len(a) <= len("req-1/") {
		t.Errorf("owners %q %q: want distinct, prefixed with the request id", a, b)
	}
}

func TestAcquireRelease(t *testing.T) {
	s := &leasetest.Store{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lk, err := lease.Acquire(ctx, s, bucket, "www", "me", fast)
	if err != nil || lk.Waited || lk.Generation() != 1 {
		t.Fatalf("acquire: %v (lock %+v)", err, lk)
	}
	b, _ := s.Object(bucket, gen1)
	var l lease.Lease
	if err := json.Unmarshal(b, &l); err != nil || l.Owner != "me" || l.Generation != 1 || l.Acquired.IsZero() {
		t.Fatalf("lease %s: %v", b, err)
	}
	dl, _ := ctx.Deadline()
	if want := dl.Add(lease.DefaultSkew); !l.Expires.Equal(want.UTC()) || !lk.Deadline().Equal(dl) {
		t.Errorf("expires %s, deadline %s; want the ctx deadline %s plus the skew", l.Expires, lk.Deadline(), dl)
	}
	if !lk.Held(time.Now()) || lk.Held(dl) {
		t.Error("Held must be true before the deadline and false from it")
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	// The next holder takes generation 2 at once and collects generation 1.
	lk2, err := lease.Acquire(ctx, s, bucket, "www", "next", fast)
	if err != nil || lk2.Generation() != 2 || lk2.Waited {
		t.Fatalf("second acquire: %v %+v", err, lk2)
	}
	if err := lk2.Release(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{bucket + "/" + gen2, bucket + "/" + gen2 + ".released"}
	if got := s.Keys(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("objects after two rotations %v; want %v", got, want)
	}
}

func TestContention(t *testing.T) {
	s := &leasetest.Store{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := lease.Acquire(ctx, s, bucket, "www", "first", fast)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	note := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	done := make(chan *lease.Lock)
	go func() {
		lk, err := lease.Acquire(ctx, s, bucket, "www", "second", fast)
		if err != nil {
			t.Error(err)
		}
		note("second acquired")
		done <- lk
	}()
	for s.Calls("Get") < 2 { // the second is polling, not holding
		time.Sleep(time.Millisecond)
	}
	note("first releases")
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	second := <-done
	if second == nil || !second.Waited || second.Generation() != 2 {
		t.Fatalf("second %+v: want generation 2, waited", second)
	}
	if events[0] != "first releases" || events[1] != "second acquired" {
		t.Errorf("order %v", events)
	}
	if got := s.Owner(t, bucket, gen2); got != "second" {
		t.Errorf("owner of generation 2 %q", got)
	}
}

func TestManyAcquirersOneAtATime(t *testing.T) {
	s := &leasetest.Store{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	holders, maxHolders := 0, 0
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			lk, err := lease.Acquire(ctx, s, bucket, "www", fmt.Sprintf("owner-%d", i), fast)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			holders++
			maxHolders = max(maxHolders, holders)
			mu.Unlock()
			time.Sleep(3 * time.Millisecond)
			mu.Lock()
			holders--
			mu.Unlock()
			if err := lk.Release(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if maxHolders != 1 {
		t.Errorf("%d holders at once; want 1", maxHolders)
	}
	if n := len(s.Keys()); n != 2 {
		t.Errorf("left %v; want the last generation and its marker", s.Keys())
	}
}

// An expired, malformed or oversized top generation is passed over (a new
// generation is created above it, nothing of it deleted before), the
// malformed ones only after MalformedAfter from their LastModified.
func TestPassesOverDeadOrBadGeneration(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name     string
		body     []byte
		modified time.Time
		wantErr  bool
	}{
		{"expired lease", leasetest.Body(t, "dead", 1, now.Add(-time.Second)), now, false},
		{"not a lease, past its bound", []byte("garbage"), now.Add(-time.Hour), false},
		{"oversized, past its bound", bytes.Repeat([]byte("x"), lease.MaxSize+1), now.Add(-time.Hour), false},
		{"lease without owner, past its bound", []byte(`{"expires":"2999-01-01T00:00:00Z"}`), now.Add(-time.Hour), false},
		{"not a lease, fresh", []byte("garbage"), now, true},
		{"oversized, fresh", bytes.Repeat([]byte("x"), 5000), now, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mod := tt.modified
			s := &leasetest.Store{Now: func() time.Time { return mod }}
			s.Set(bucket, gen1, tt.body)
			s.Now = nil
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			lk, err := lease.Acquire(ctx, s, bucket, "www", "me", fast)
			if tt.wantErr {
				if !errors.Is(err, lease.ErrLocked) || !errors.Is(err, apierr.ErrTransient) {
					t.Fatalf("lock %+v err %v; want ErrLocked until the bound", lk, err)
				}
				return
			}
			if err != nil || lk.Generation() != 2 || s.Owner(t, bucket, gen2) != "me" {
				t.Fatalf("lock %+v err %v", lk, err)
			}
			if s.Calls("Delete") != 0 {
				t.Errorf("%d deletes while taking the lock; want none", s.Calls("Delete"))
			}
			if err := lk.Release(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.Object(bucket, gen1); ok {
				t.Error("the passed-over generation was not collected at release")
			}
		})
	}
}

func TestReleaseAfterTakeover(t *testing.T) {
	s := &leasetest.Store{}
	lk, err := lease.Acquire(context.Background(), s, bucket, "www", "me", fast)
	if err != nil {
		t.Fatal(err)
	}
	// We overran our lease and another invocation took generation 2.
	other := leasetest.Body(t, "other", 2, time.Now().Add(time.Minute))
	s.Set(bucket, gen2, other)
	if err := lk.Release(context.Background()); !errors.Is(err, lease.ErrLost) {
		t.Fatalf("release of a lock taken over: %v; want ErrLost", err)
	}
	if b, ok := s.Object(bucket, gen2); !ok || !bytes.Equal(b, other) {
		t.Fatal("the other holder's generation was touched")
	}
	if s.Calls("Delete") != 0 || len(s.Keys()) != 2 {
		t.Errorf("%d deletes, objects %v", s.Calls("Delete"), s.Keys())
	}
}

func TestReleaseAfterDeadline(t *testing.T) {
	s := &leasetest.Store{}
	ctx, cancel := context.WithCancel(context.Background())
	lk, err := lease.Acquire(ctx, s, bucket, "www", "me", fast)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("release after the ctx ended: %v", err)
	}
	if _, ok := s.Object(bucket, gen1+".released"); !ok {
		t.Fatal("no release marker")
	}
}

func TestWaitBoundedByDeadline(t *testing.T) {
	s := &leasetest.Store{}
	s.Set(bucket, gen1, leasetest.Body(t, "busy", 1, time.Now().Add(time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	lk, err := lease.Acquire(ctx, s, bucket, "www", "me", fast)
	if lk != nil || !errors.Is(err, lease.ErrLocked) || !errors.Is(err, apierr.ErrTransient) || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("lock %v err %v; want ErrLocked naming the holder, transient", lk, err)
	}
	dl, _ := ctx.Deadline()
	if time.Now().After(dl) {
		t.Error("gave up after the deadline; want the margin kept")
	}
	if s.Calls("List") < 2 || s.Calls("PutIfAbsent") != 0 {
		t.Errorf("%d lists, %d puts; want it to wait and look again, never contend", s.Calls("List"), s.Calls("PutIfAbsent"))
	}
}

// A wait cut by the ctx's deadline inside a backoff (a loaded machine, a
// slow store) is as transient as giving up before it.
func TestWaitCutByDeadlineIsTransient(t *testing.T) {
	s := &leasetest.Store{}
	s.Set(bucket, gen1, leasetest.Body(t, "busy", 1, time.Now().Add(time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	opts := fast
	opts.Sleep = func(ctx context.Context, _ time.Duration) bool { <-ctx.Done(); return false }
	_, err := lease.Acquire(ctx, s, bucket, "www", "me", opts)
	if !errors.Is(err, lease.ErrLocked) || !errors.Is(err, apierr.ErrTransient) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v; want ErrLocked, transient, and the deadline as its cause", err)
	}
}

func TestCanceledWhileWaiting(t *testing.T) {
	s := &leasetest.Store{}
	s.Set(bucket, gen1, leasetest.Body(t, "busy", 1, time.Now().Add(time.Hour)))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for s.Calls("Get") < 1 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := lease.Acquire(ctx, s, bucket, "www", "me", lease.Options{BaseDelay: time.Second, MaxDelay: time.Second})
	if !errors.Is(err, lease.ErrLocked) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v; want ErrLocked and context.Canceled", err)
	}
}

// A create applied whose answer was lost: the next round finds the
// generation ours, checks the put is refused (unversioned) and holds it.
func TestLostAnswerIsOurs(t *testing.T) {
	s := &leasetest.Store{LoseAnswer: true}
	lk, err := lease.Acquire(context.Background(), s, bucket, "www", "me", fast)
	if err != nil || lk.Generation() != 1 || lk.Waited {
		t.Fatalf("acquire: %v %+v", err, lk)
	}
	if s.Calls("PutIfAbsent") != 2 || s.Calls("Delete") != 0 {
		t.Errorf("puts %d deletes %d; want 2 (the lost one, the check) and 0", s.Calls("PutIfAbsent"), s.Calls("Delete"))
	}
}

func TestStoreErrors(t *testing.T) {
	s := &leasetest.Store{Err: fmt.Errorf("ListObjects AccessDenied: %w", apierr.ErrAccessDenied)}
	_, err := lease.Acquire(context.Background(), s, bucket, "www", "me", fast)
	if !errors.Is(err, apierr.ErrAccessDenied) || errors.Is(err, lease.ErrLocked) {
		t.Fatalf("err %v; want the store's access denied", err)
	}
	// Transient failures are tried again until the wait ends.
	s2 := &leasetest.Store{Err: fmt.Errorf("503: %w", apierr.ErrTransient)}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = lease.Acquire(ctx, s2, bucket, "www", "me", fast)
	if !errors.Is(err, lease.ErrLocked) || !errors.Is(err, apierr.ErrTransient) || s2.Calls("List") < 2 {
		t.Fatalf("err %v after %d lists; want retries, then ErrLocked", err, s2.Calls("List"))
	}
}

// The race: two breakers read the same expired lease. With
// generations each can only create the next one; the loser never deletes
// the winner's object.
func TestTwoBreakersOneHolder(t *testing.T) {
	s := &leasetest.Store{}
	s.Set(bucket, gen1, leasetest.Body(t, "dead-holder", 1, time.Now().Add(-time.Second)))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	first, err := lease.Acquire(ctx, s, bucket, "www", "breaker-1", fast)
	if err != nil || first.Generation() != 2 {
		t.Fatalf("first breaker: %v", err)
	}
	second, err := lease.Acquire(ctx, s, bucket, "www", "breaker-2", fast)
	if second != nil || !errors.Is(err, lease.ErrLocked) {
		t.Fatalf("second breaker got %+v (err %v) while the first holds", second, err)
	}
	if s.Owner(t, bucket, gen2) != "breaker-1" || s.Calls("Delete") != 0 {
		t.Errorf("owner %q, deletes %d", s.Owner(t, bucket, gen2), s.Calls("Delete"))
	}
}

// A store that cannot promise forbid-overwrite (a versioned bucket) makes
// Acquire fail permanently rather than hold.
func TestVersionedBucketRefused(t *testing.T) {
	s := &leasetest.Store{Err: fmt.Errorf("oss: versioned bucket: %w", apierr.ErrInvalid)}
	lk, err := lease.Acquire(context.Background(), s, bucket, "www", "me", fast)
	if lk != nil || !errors.Is(err, apierr.ErrInvalid) {
		t.Fatalf("lock %+v err %v", lk, err)
	}
}

// lossyGenerations applies every put of a generation and loses its answer.
type lossyGenerations struct{ *leasetest.Store }

func (l lossyGenerations) PutIfAbsent(ctx context.Context, bucket, key string, data []byte, ct string) (bool, error) {
	if _, err := l.Store.PutIfAbsent(ctx, bucket, key, data, ct); err != nil || strings.HasSuffix(key, ".released") {
		return true, err
	}
	return false, fmt.Errorf("answer lost: %w", apierr.ErrTransient)
}

// An Acquire that gives up after creating a generation it cannot confirm
// releases that generation, so it does not block the lock until expiry.
func TestGiveUpReleasesOwnGeneration(t *testing.T) {
	s := &leasetest.Store{}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	lk, err := lease.Acquire(ctx, lossyGenerations{s}, bucket, "www", "me", fast)
	if lk != nil || !errors.Is(err, lease.ErrLocked) {
		t.Fatalf("lock %+v err %v; want ErrLocked (no answer ever confirmed)", lk, err)
	}
	if _, ok := s.Object(bucket, gen1+".released"); !ok {
		t.Fatalf("generation 1, created but never held, was left blocking: %v", s.Keys())
	}
	next, err := lease.Acquire(context.Background(), s, bucket, "www", "next", fast)
	if err != nil || next.Generation() != 2 || next.Waited {
		t.Fatalf("next acquire: %+v %v; want generation 2 at once", next, err)
	}
}

// lateCreate delays our first put of generation 2 past two other holdings:
// by the time it lands, generation 2 was created, released and collected,
// and generation 3 is held. The put then creates a fresh generation 2.
type lateCreate struct {
	*leasetest.Store
	t    *testing.T
	once bool
}

func (l *lateCreate) PutIfAbsent(ctx context.Context, bucket, key string, data []byte, ct string) (bool, error) {
	if key == gen2 && !l.once {
		l.once = true
		l.Set(bucket, gen2, leasetest.Body(l.t, "other", 2, time.Now().Add(time.Minute)))
		l.Set(bucket, gen2+".released", []byte(`{"owner":"other"}`))
		l.Set(bucket, "locks/www/g00000000000000000003", leasetest.Body(l.t, "third", 3, time.Now().Add(time.Hour)))
		_ = l.Delete(ctx, bucket, gen1)
		_ = l.Delete(ctx, bucket, gen1+".released")
		_ = l.Delete(ctx, bucket, gen2)
		_ = l.Delete(ctx, bucket, gen2+".released")
	}
	return l.Store.PutIfAbsent(ctx, bucket, key, data, ct)
}

// A create that lands late on a collected generation succeeds, yet must not
// make a holder: the confirming listing sees the higher generation.
func TestLateCreateOnCollectedGenerationDoesNotHold(t *testing.T) {
	s := &lateCreate{Store: &leasetest.Store{}, t: t}
	s.Set(bucket, gen1, leasetest.Body(t, "first", 1, time.Now().Add(time.Minute)))
	s.Set(bucket, gen1+".released", []byte(`{"owner":"first"}`))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	lk, err := lease.Acquire(ctx, s, bucket, "www", "me", fast)
	if lk != nil || !errors.Is(err, lease.ErrLocked) || !strings.Contains(err.Error(), "third") {
		t.Fatalf("lock %+v err %v: a late create on a collected generation made a second holder beside generation 3's", lk, err)
	}
	if s.Store.Owner(t, bucket, gen2) != "me" {
		t.Fatal("the late put was meant to land (the scenario did not happen)")
	}
}
