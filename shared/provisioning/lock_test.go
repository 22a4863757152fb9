package provisioning

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// fakeLocker is an in-memory Locker that records who held which key.
type fakeLocker struct {
	mu       sync.Mutex
	held     map[string]bool
	taken    []string
	released int
	err      error
}

func (l *fakeLocker) Lock(_ context.Context, key string) (func(context.Context) error, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return nil, l.err
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	if l.held[key] {
		return nil, fmt.Errorf("%s held: %w", key, apierr.ErrTransient)
	}
	l.held[key] = true
	l.taken = append(l.taken, key)
	return func(context.Context) error {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.held, key)
		l.released++
		return nil
	}, nil
}

func TestApplyAndDestroyHoldTheInstanceLock(t *testing.T) {
	e := newEnv(t)
	lk := &fakeLocker{}
	e.p.Locks = lk
	d := seed(t)
	wantKey := "provision/" + d.Region + "/" + d.LoadBalancer.Name

	e.apply(t, d)
	if _, err := e.p.Plan(context.Background(), e.now, d); err != nil {
		t.Fatal(err)
	}
	if res, err := e.p.Destroy(context.Background(), e.now, d); err != nil || res.Status != StatusDestroyed {
		t.Fatalf("destroy: %+v, %v", res, err)
	}
	if len(lk.taken) != 2 || lk.taken[0] != wantKey || lk.taken[1] != wantKey || lk.released != 2 {
		t.Errorf("locks taken %q released %d; want apply and destroy (not plan) to take and release %q", lk.taken, lk.released, wantKey)
	}
}

// faultCase is a fault injected into Apply and the outcome it must give:
// the status and whether the error is returned (FC retries).
type faultCase struct {
	name       string
	err        error
	wantStatus outcome.Status
	wantErr    bool
}

func TestApplyWithoutTheLockWritesNothing(t *testing.T) {
	tests := []faultCase{
		{"held by another invocation until the deadline", fmt.Errorf("lock held: %w", apierr.ErrTransient), StatusFailed, true},
		{"the role may not write the lock object", fmt.Errorf("oss: PutObject locks/: %w", apierr.ErrAccessDenied), StatusRejected, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.p.Locks = &fakeLocker{err: tc.err}
			res, err := e.p.Apply(context.Background(), e.now, seed(t))
			if (err != nil) != tc.wantErr || res.Status != tc.wantStatus || res.Error == "" {
				t.Errorf("Apply = status %s error %q, %v; want %s (error returned: %v)", res.Status, res.Error, err, tc.wantStatus, tc.wantErr)
			}
			if err != nil && !errors.Is(err, apierr.ErrTransient) {
				t.Errorf("Apply error %v is not transient", err)
			}
			if w := e.slb.Writes(); len(w) != 0 {
				t.Errorf("writes without the lock: %v", w)
			}
		})
	}
}
