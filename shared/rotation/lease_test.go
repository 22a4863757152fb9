package rotation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation/rotationtest"
)

const lockKey = "locks/www.lock"

// fastLock keeps the waits of the tests short.
var fastLock = rotation.LockOptions{BaseDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond, Margin: 50 * time.Millisecond}

func lease(t *testing.T, owner string, expires time.Time) []byte {
	t.Helper()
	b, err := json.Marshal(rotation.Lease{Owner: owner, Acquired: expires.Add(-time.Minute), Expires: expires})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func storedOwner(t *testing.T, s *rotationtest.Locks) string {
	t.Helper()
	b, ok := s.Object(bucket, lockKey)
	if !ok {
		return ""
	}
	var l rotation.Lease
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("lock object %s: %v", b, err)
	}
	return l.Owner
}

func TestLockKeyAndOwner(t *testing.T) {
	for _, tt := range []struct{ prefix, name, want string }{
		{"", "www", "locks/www.lock"},
		{"locks/", "site a ü", "locks/site a ü.lock"},
		{".rotator/", "www", ".rotator/www.lock"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			if got := rotation.LockKey(tt.prefix, tt.name); got != tt.want {
				t.Errorf("LockKey(%q, %q) = %q; want %q", tt.prefix, tt.name, got, tt.want)
			}
		})
	}
	a, b := rotation.NewOwner("req-1"), rotation.NewOwner("req-1")
	if a == b || len(a) <= len("req-1/") || a[:6] != "req-1/" {
		t.Errorf("owners %q %q: want distinct, prefixed with the request id", a, b)
	}
}

func TestLockAcquireRelease(t *testing.T) {
	s := &rotationtest.Locks{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lk, err := rotation.AcquireLock(ctx, s, bucket, lockKey, "me", fastLock)
	if err != nil || lk.Waited {
		t.Fatalf("acquire: %v (waited %v)", err, lk != nil && lk.Waited)
	}
	b, _ := s.Object(bucket, lockKey)
	var l rotation.Lease
	if err := json.Unmarshal(b, &l); err != nil || l.Owner != "me" || l.Acquired.IsZero() {
		t.Fatalf("lease %s: %v", b, err)
	}
	dl, _ := ctx.Deadline()
	if want := dl.Add(rotation.DefaultLockSkew); l.Expires.Sub(want).Abs() > time.Millisecond {
		t.Errorf("expires %s; want the deadline plus the skew %s", l.Expires, want)
	}
	if err := lk.Release(ctx); err != nil {
		t.Fatalf("release: %v", err)
	}
	if keys := s.Keys(); len(keys) != 0 {
		t.Fatalf("objects left after release: %v", keys)
	}
}

func TestLockContention(t *testing.T) {
	s := &rotationtest.Locks{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := rotation.AcquireLock(ctx, s, bucket, lockKey, "first", fastLock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var events []string
	note := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
	done := make(chan *rotation.Lock)
	go func() {
		lk, err := rotation.AcquireLock(ctx, s, bucket, lockKey, "second", fastLock)
		if err != nil {
			t.Error(err)
		}
		note("second acquired")
		done <- lk
	}()
	// The second acquirer must be polling, not holding.
	for s.Calls("Get") < 2 {
		time.Sleep(time.Millisecond)
	}
	if got := storedOwner(t, s); got != "first" {
		t.Fatalf("owner %q while the first holds the lock", got)
	}
	note("first releases")
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	second := <-done
	if second == nil {
		t.Fatal("second acquirer failed")
	}
	if !second.Waited {
		t.Error("second acquirer did not report that it waited")
	}
	if events[0] != "first releases" || events[1] != "second acquired" {
		t.Errorf("order %v", events)
	}
	if got := storedOwner(t, s); got != "second" {
		t.Errorf("owner %q; want second", got)
	}
	if err := second.Release(ctx); err != nil || len(s.Keys()) != 0 {
		t.Errorf("release: %v, left %v", err, s.Keys())
	}
}

func TestLockManyAcquirersOneAtATime(t *testing.T) {
	s := &rotationtest.Locks{}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	holders, maxHolders := 0, 0
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lk, err := rotation.AcquireLock(ctx, s, bucket, lockKey, fmt.Sprintf("owner-%d", i), fastLock)
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
		}()
	}
	wg.Wait()
	if maxHolders != 1 {
		t.Errorf("%d holders at once; want 1", maxHolders)
	}
	if len(s.Keys()) != 0 {
		t.Errorf("left %v", s.Keys())
	}
}

func TestLockBreaksExpiredLease(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"expired lease", nil},
		{"not a lease", []byte("garbage")},
		{"lease without owner", []byte(`{"expires":"2999-01-01T00:00:00Z"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &rotationtest.Locks{}
			body := tt.body
			if body == nil {
				body = lease(t, "dead-holder", time.Now().Add(-time.Second))
			}
			s.Set(bucket, lockKey, body)
			lk, err := rotation.AcquireLock(context.Background(), s, bucket, lockKey, "me", fastLock)
			if err != nil {
				t.Fatal(err)
			}
			if got := storedOwner(t, s); got != "me" {
				t.Fatalf("owner %q after breaking; want me", got)
			}
			if s.Calls("Delete") != 1 {
				t.Errorf("%d deletes; want 1 (the break)", s.Calls("Delete"))
			}
			if err := lk.Release(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLockReleaseOnlyByOwner(t *testing.T) {
	s := &rotationtest.Locks{}
	lk, err := rotation.AcquireLock(context.Background(), s, bucket, lockKey, "me", fastLock)
	if err != nil {
		t.Fatal(err)
	}
	// Our lease was broken (we overran it) and another invocation holds it.
	other := lease(t, "other", time.Now().Add(time.Minute))
	s.Set(bucket, lockKey, other)
	err = lk.Release(context.Background())
	if err == nil {
		t.Fatal("release of a lock taken over reported success")
	}
	if b, ok := s.Object(bucket, lockKey); !ok || string(b) != string(other) {
		t.Fatalf("the other holder's lock was touched: %s %v", b, ok)
	}
	if s.Calls("Delete") != 0 {
		t.Errorf("%d deletes", s.Calls("Delete"))
	}
	// Gone altogether: reported, nothing deleted.
	s2 := &rotationtest.Locks{}
	lk2, _ := rotation.AcquireLock(context.Background(), s2, bucket, lockKey, "me", fastLock)
	_ = s2.Delete(context.Background(), bucket, lockKey)
	if err := lk2.Release(context.Background()); err == nil {
		t.Error("release of a vanished lock reported success")
	}
}

func TestLockReleaseAfterDeadline(t *testing.T) {
	s := &rotationtest.Locks{}
	ctx, cancel := context.WithCancel(context.Background())
	lk, err := rotation.AcquireLock(ctx, s, bucket, lockKey, "me", fastLock)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := lk.Release(ctx); err != nil || len(s.Keys()) != 0 {
		t.Fatalf("release after the ctx ended: %v, left %v", err, s.Keys())
	}
}

func TestLockWaitBoundedByDeadline(t *testing.T) {
	s := &rotationtest.Locks{}
	s.Set(bucket, lockKey, lease(t, "busy", time.Now().Add(time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	lk, err := rotation.AcquireLock(ctx, s, bucket, lockKey, "me", fastLock)
	took := time.Since(start)
	if lk != nil || !errors.Is(err, rotation.ErrLocked) || !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("lock %v err %v; want ErrLocked and transient", lk, err)
	}
	dl, _ := ctx.Deadline()
	if time.Now().After(dl) {
		t.Errorf("gave up after the deadline (took %s); want the margin kept", took)
	}
	if s.Calls("PutIfAbsent") < 2 {
		t.Errorf("%d tries; want it to wait and try again", s.Calls("PutIfAbsent"))
	}
	if got := storedOwner(t, s); got != "busy" {
		t.Errorf("the holder's lock was touched: owner %q", got)
	}
	if err != nil && strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Error("error mentions key material")
	}
}

func TestLockCanceledWhileWaiting(t *testing.T) {
	s := &rotationtest.Locks{}
	s.Set(bucket, lockKey, lease(t, "busy", time.Now().Add(time.Hour)))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for s.Calls("Get") < 1 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := rotation.AcquireLock(ctx, s, bucket, lockKey, "me", rotation.LockOptions{BaseDelay: time.Second, MaxDelay: time.Second})
	if !errors.Is(err, rotation.ErrLocked) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v; want ErrLocked and context.Canceled", err)
	}
}

func TestLockLostAnswerIsOurs(t *testing.T) {
	s := &rotationtest.Locks{LoseAnswer: true}
	lk, err := rotation.AcquireLock(context.Background(), s, bucket, lockKey, "me", fastLock)
	if err != nil || lk.Waited {
		t.Fatalf("acquire: %v", err)
	}
	if s.Calls("PutIfAbsent") != 1 || s.Calls("Delete") != 0 {
		t.Errorf("puts %d deletes %d; want 1 and 0", s.Calls("PutIfAbsent"), s.Calls("Delete"))
	}
}

func TestLockStoreErrors(t *testing.T) {
	s := &rotationtest.Locks{Err: fmt.Errorf("PutObject AccessDenied: %w", apierr.ErrAccessDenied)}
	_, err := rotation.AcquireLock(context.Background(), s, bucket, lockKey, "me", fastLock)
	if !errors.Is(err, apierr.ErrAccessDenied) || errors.Is(err, rotation.ErrLocked) {
		t.Fatalf("err %v; want the store's access denied", err)
	}
}

func lockWorld(t *testing.T) (*world, *rotationtest.Locks) {
	t.Helper()
	w := newWorld(t)
	s := &rotationtest.Locks{}
	w.r.Locks = s
	w.r.Config.Lock = fastLock
	return w, s
}

func TestRotateTakesLockOnlyForWrites(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, w *world) (key string, dry bool)
		status rotation.Status
		locked bool
	}{
		{"rotation", func(t *testing.T, w *world) (string, bool) {
			w.lb(zjk, "lb-1", "127.0.0.2")
			w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
			w.putPair("www", issue(t, "www.example.com"))
			return "certs/www/fullchain.pem", false
		}, rotation.StatusRotated, true},
		{"one half only", func(t *testing.T, w *world) (string, bool) {
			w.objs.Put(bucket, "certs/www/fullchain.pem", issue(t, "www.example.com").CertPEM)
			return "certs/www/fullchain.pem", false
		}, rotation.StatusWaiting, false},
		{"bad pair", func(t *testing.T, w *world) (string, bool) {
			w.objs.Put(bucket, "certs/www/fullchain.pem", []byte("not PEM"))
			w.objs.Put(bucket, "certs/www/privkey.pem", []byte("not PEM"))
			return "certs/www/fullchain.pem", false
		}, rotation.StatusRejected, false},
		{"dry run", func(t *testing.T, w *world) (string, bool) {
			w.lb(zjk, "lb-1", "127.0.0.2")
			w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
			w.putPair("www", issue(t, "www.example.com"))
			return "certs/www/fullchain.pem", true
		}, rotation.StatusDryRun, false},
		{"outside the prefix", func(t *testing.T, w *world) (string, bool) {
			return "incoming/www.pem", false
		}, rotation.StatusIgnored, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, s := lockWorld(t)
			key, dry := tt.setup(t, w)
			res, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Key: key, DryRun: dry, Owner: "req-1/x"})
			if err != nil || res.Status != tt.status {
				t.Fatalf("status %s reason %q err %v; want %s", res.Status, res.Reason, err, tt.status)
			}
			if got := s.Calls("PutIfAbsent") > 0; got != tt.locked {
				t.Errorf("lock taken %v; want %v", got, tt.locked)
			}
			if keys := s.Keys(); len(keys) != 0 {
				t.Errorf("lock objects left: %v", keys)
			}
			if len(res.Errors) != 0 && tt.status != rotation.StatusRejected {
				t.Errorf("errors %v", res.Errors)
			}
		})
	}
}

func TestRotateWaitsForAnotherInstance(t *testing.T) {
	w, s := lockWorld(t)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
	p := issue(t, "www.example.com")
	w.putPair("www", p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Another instance holds the pair's lock.
	other, err := rotation.AcquireLock(ctx, s, bucket, lockKey, "other-instance", fastLock)
	if err != nil {
		t.Fatal(err)
	}
	type out struct {
		res rotation.Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := w.r.Rotate(ctx, w.now, rotation.Request{Bucket: bucket, Key: "certs/www/privkey.pem"})
		done <- out{res, err}
	}()
	for s.Calls("Get") < 2 {
		time.Sleep(time.Millisecond)
	}
	if n := w.slb.Calls("UploadServerCertificate") + w.slb.Calls("DescribeServerCertificates"); n != 0 {
		t.Fatalf("%d certificate calls while another instance holds the lock", n)
	}
	gets := len(w.objs.Gets())
	if err := other.Release(ctx); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil || o.res.Status != rotation.StatusRotated {
		t.Fatalf("status %s err %v", o.res.Status, o.err)
	}
	if len(w.objs.Gets()) <= gets {
		t.Error("the pair was not read again after waiting")
	}
	if w.slb.Calls("UploadServerCertificate") != 1 || len(s.Keys()) != 0 {
		t.Errorf("uploads %d, lock objects left %v", w.slb.Calls("UploadServerCertificate"), s.Keys())
	}
}

func TestRotateGivesUpWhileLockedTransient(t *testing.T) {
	w, s := lockWorld(t)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
	w.putPair("www", issue(t, "www.example.com"))
	s.Set(bucket, lockKey, lease(t, "busy", time.Now().Add(time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := w.r.Rotate(ctx, w.now, rotation.Request{Bucket: bucket, Key: "certs/www/fullchain.pem"})
	if !errors.Is(err, rotation.ErrLocked) || !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err %v; want ErrLocked, transient", err)
	}
	if n := w.slb.Calls("UploadServerCertificate") + w.slb.Calls("SetLoadBalancerHTTPSListenerAttribute"); n != 0 {
		t.Errorf("%d writes without the lock", n)
	}
	if storedOwner(t, s) != "busy" {
		t.Error("the holder's lock was removed")
	}
}

func TestRotateLockPermanentErrorRejects(t *testing.T) {
	w, s := lockWorld(t)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
	w.putPair("www", issue(t, "www.example.com"))
	s.Err = fmt.Errorf("oss PutObject AccessDenied: %w", apierr.ErrAccessDenied)
	res, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Key: "certs/www/fullchain.pem"})
	if err != nil || res.Status != rotation.StatusRejected || !strings.Contains(res.Reason, "lock") {
		t.Fatalf("status %s reason %q err %v", res.Status, res.Reason, err)
	}
	if w.slb.Calls("UploadServerCertificate") != 0 {
		t.Error("uploaded without the lock")
	}
}

// racingBreaker is a lock store where another invocation, which read the
// same expired lease, deletes our fresh lock and puts its own right after
// our PutIfAbsent (the double-breaker race).
type racingBreaker struct {
	*rotationtest.Locks
	once sync.Once
	body []byte
}

func (r *racingBreaker) PutIfAbsent(ctx context.Context, bucket, key string, data []byte, ct string) (bool, error) {
	created, err := r.Locks.PutIfAbsent(ctx, bucket, key, data, ct)
	if created && r.Locks.Calls("Delete") > 0 {
		r.once.Do(func() { r.Locks.Set(bucket, key, r.body) })
	}
	return created, err
}

func TestLockDoubleBreakerYields(t *testing.T) {
	s := &racingBreaker{Locks: &rotationtest.Locks{}}
	s.body = lease(t, "other-breaker", time.Now().Add(time.Hour))
	s.Set(bucket, lockKey, lease(t, "dead-holder", time.Now().Add(-time.Second)))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	lk, err := rotation.AcquireLock(ctx, s, bucket, lockKey, "me", fastLock)
	if lk != nil || !errors.Is(err, rotation.ErrLocked) {
		t.Fatalf("lock %v err %v: both breakers think they hold the lock", lk, err)
	}
	if got := storedOwner(t, s.Locks); got != "other-breaker" {
		t.Errorf("owner %q; the other breaker's lock must stay", got)
	}
}
