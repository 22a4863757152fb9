package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease/leasetest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// lockKey is the first generation of pair www's lock.
const lockKey = "locks/www/g00000000000000000001"

// fastLock keeps the waits of the tests short.
var fastLock = lease.Options{BaseDelay: 2 * time.Millisecond, MaxDelay: 10 * time.Millisecond, Margin: 50 * time.Millisecond}

func lockWorld(t *testing.T) (*world, *leasetest.Store) {
	t.Helper()
	w := newWorld(t)
	s := &leasetest.Store{}
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
			if keys := s.Keys(); tt.locked && len(keys) != 2 || !tt.locked && len(keys) != 0 {
				t.Errorf("lock objects left: %v; want a released generation when locked, nothing otherwise", keys)
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
	other, err := lease.Acquire(ctx, s, bucket, "www", "other-instance", fastLock)
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
		t.Error("the pair was not read again under the lock")
	}
	if w.slb.Calls("UploadServerCertificate") != 1 || len(s.Keys()) != 2 {
		t.Errorf("uploads %d, lock objects left %v", w.slb.Calls("UploadServerCertificate"), s.Keys())
	}
}

func TestRotateGivesUpWhileLockedTransient(t *testing.T) {
	w, s := lockWorld(t)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
	w.putPair("www", issue(t, "www.example.com"))
	s.Set(bucket, lockKey, leasetest.Body(t, "busy", 1, time.Now().Add(time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := w.r.Rotate(ctx, w.now, rotation.Request{Bucket: bucket, Key: "certs/www/fullchain.pem"})
	if !errors.Is(err, lease.ErrLocked) || !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err %v; want ErrLocked, transient", err)
	}
	if n := w.slb.Calls("UploadServerCertificate") + w.slb.Calls("SetLoadBalancerHTTPSListenerAttribute"); n != 0 {
		t.Errorf("%d writes without the lock", n)
	}
	if s.Owner(t, bucket, lockKey) != "busy" {
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
