package provisioning

import (
	"context"
	"fmt"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// Locker serialises Apply and Destroy of one instance across concurrent
// invocations (a double-clicked invoke, an FC retry overlapping a slow
// first attempt). Without it, two applies of the same payload could both
// believe they created the instance (the ClientToken returns the same one to
// both) and a failure in one would roll back what the other is using.
// Lock blocks until the key is free or ctx ends; release gives it back.
type Locker interface {
	Lock(ctx context.Context, key string) (release func(context.Context) error, err error)
}

// lockKey names the lock of one declared instance.
func lockKey(d Desired) string {
	return "provision/" + d.Region + "/" + d.LoadBalancer.Name
}

// withLock runs fn holding the instance's lock when a Locker is configured.
// A lock that cannot be had (held until the invocation's deadline, or the
// store failing) is returned as fn's error would be: the caller classifies
// it (transient: FC retries later).
func (p *Provisioner) withLock(ctx context.Context, d Desired, fn func() (Result, error)) (Result, error) {
	if p.Locks == nil {
		return fn()
	}
	release, err := p.Locks.Lock(ctx, lockKey(d))
	if err != nil {
		return Result{}, fmt.Errorf("provisioning: lock %s: %w", lockKey(d), err)
	}
	defer func() { _ = release(context.WithoutCancel(ctx)) }()
	return fn()
}

// lockFailed is the result of an action that could not take its lock: a
// permanent cause (the role may not write the lock object) is rejected
// without an error, anything else fails so that FC retries.
func lockFailed(action string, d Desired, err error) (Result, error) {
	res := Result{Action: action, Region: d.Region, Name: d.LoadBalancer.Name, Changes: []Change{}, Status: StatusFailed}
	if err != nil {
		res.Error = err.Error()
	}
	if apierr.Permanent(err) {
		res.Status = StatusRejected
		return res, nil
	}
	return res, err
}
