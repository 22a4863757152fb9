package provisioning

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Provisioner applies, plans and destroys the desired state of one load
// balancer. The zero values of the tuning fields are sensible defaults.
type Provisioner struct {
	Instances    Instances
	Backends     Backends
	Listeners    Listeners
	Extensions   DomainExtensions
	Certificates Certificates
	Pairs        PairLoader
	// WaitTimeout bounds the wait for a started listener to be running
	// (default 2 minutes; the ctx deadline bounds it too).
	WaitTimeout time.Duration
	// PollInterval is the first delay between status polls; it doubles up
	// to 2 s (default 200 ms).
	PollInterval time.Duration
	// RollbackTimeout bounds the rollback after a failure; the rollback
	// runs even when ctx is already done (default 1 minute).
	RollbackTimeout time.Duration
	// Locks serialises Apply and Destroy of one instance across invocations
	// (nil: no lock). Plan never locks.
	Locks Locker
}

// Apply converges the load balancer to d: it creates what is missing,
// updates what differs, starts the listeners and waits until they run. A
// second Apply with the same d makes no write call. When a step fails,
// everything this call created is deleted again in reverse order. Permanent
// failures give a "rejected" result and a nil error; transient ones give a
// "failed" result and the error, so that Function Compute retries.
func (p *Provisioner) Apply(ctx context.Context, now time.Time, d Desired) (Result, error) {
	res, err := p.withLock(ctx, d, func() (Result, error) { return p.converge(ctx, now, d, false) })
	if res.Action == "" { // the lock was not had: nothing ran
		return lockFailed(ActionApply, d, err)
	}
	return res, err
}

// Plan lists the changes Apply would make, calling only read actions.
func (p *Provisioner) Plan(ctx context.Context, now time.Time, d Desired) (Result, error) {
	return p.converge(ctx, now, d, true)
}

// run is the state of one Apply or Plan.
type run struct {
	p      *Provisioner
	region string
	dry    bool
	res    *Result
	undo   []undoStep
}

type undoStep struct {
	change Change
	fn     func(ctx context.Context) error
}

// write records c and, unless planning, performs it. undo, when non-nil,
// is what deletes the thing again if a later step fails.
func (r *run) write(c Change, do func() error, undo func(ctx context.Context) error) error {
	if !r.dry {
		if err := do(); err != nil {
			return err
		}
	}
	r.res.Changes = append(r.res.Changes, c)
	if undo != nil && !r.dry {
		r.undo = append(r.undo, undoStep{change: Change{Op: "delete", Resource: c.Resource}, fn: undo})
	}
	return nil
}

// call is write with do's error wrapped as "provisioning: <what>: <err>".
func (r *run) call(c Change, what string, do func() error, undo func(ctx context.Context) error) error {
	return r.write(c, func() error {
		if err := do(); err != nil {
			return fmt.Errorf("provisioning: %s: %w", what, err)
		}
		return nil
	}, undo)
}

const placeholder = "(new)"

func (p *Provisioner) converge(ctx context.Context, now time.Time, d Desired, dry bool) (Result, error) {
	action := ActionApply
	if dry {
		action = ActionPlan
	}
	res := Result{Action: action, Region: d.Region, Name: d.LoadBalancer.Name, Changes: []Change{}}
	r := &run{p: p, region: d.Region, dry: dry, res: &res}
	if err := r.converge(ctx, now, d); err != nil {
		return r.fail(ctx, err)
	}
	switch {
	case len(res.Changes) == 0:
		res.Status = StatusUnchanged
	case dry:
		res.Status = StatusPlanned
	default:
		res.Status = StatusApplied
	}
	return res, nil
}

// fail rolls back what this run created and classifies err.
func (r *run) fail(ctx context.Context, err error) (Result, error) {
	if len(r.undo) > 0 {
		timeout := r.p.RollbackTimeout
		if timeout <= 0 {
			timeout = time.Minute
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		for i := len(r.undo) - 1; i >= 0; i-- {
			u := r.undo[i]
			if uerr := u.fn(rctx); uerr != nil && !errors.Is(uerr, apierr.ErrNotFound) {
				r.res.RollbackErrors = append(r.res.RollbackErrors, u.change.String()+": "+uerr.Error())
				continue
			}
			r.res.RolledBack = append(r.res.RolledBack, u.change)
		}
	}
	r.res.Error = err.Error()
	if apierr.Permanent(err) {
		r.res.Status = StatusRejected
		var ve *ValidationError
		if errors.As(err, &ve) {
			r.res.Problems = ve.Strings()
		}
		return *r.res, nil
	}
	r.res.Status = StatusFailed
	return *r.res, err
}

func (r *run) converge(ctx context.Context, now time.Time, d Desired) error {
	s, region := r.p.Instances, d.Region

	// 1. Load every pair first: a bad pair must stop us before any write.
	leaves := map[string]leaf{}
	for _, name := range pairNames(d) {
		pair, err := r.p.Pairs.LoadPair(ctx, name, now)
		if err != nil {
			return fmt.Errorf("provisioning: certificate pair %s: %w", name, err)
		}
		l, err := inspect(pair)
		if err != nil {
			return err
		}
		leaves[name] = l
	}

	// 2. The instance.
	lb, found, err := findInstance(ctx, s, region, d.LoadBalancer.Name)
	if err != nil {
		return err
	}
	var backends []clb.Backend
	if found {
		r.checkImmutable(lb, d)
		var full clb.LoadBalancer
		full, backends, err = s.DescribeLoadBalancer(ctx, region, lb.ID)
		if err != nil {
			return fmt.Errorf("provisioning: describe load balancer %s in %s: %w", lb.ID, region, err)
		}
		if full.Address != "" {
			lb.Address = full.Address
		}
	} else {
		lb, err = r.createInstance(ctx, d)
		if err != nil {
			return err
		}
	}
	r.res.LoadBalancerID = lb.ID
	r.res.Address = lb.Address

	// 3. Backends.
	if err := r.backends(ctx, lb.ID, found, backends, d.Backends); err != nil {
		return err
	}

	// 4. Certificates: one per pair, reused by fingerprint.
	certIDs := map[string]string{}
	if len(leaves) > 0 {
		if err := r.certificates(ctx, leaves, certIDs); err != nil {
			return err
		}
	}

	// 5. Listeners.
	return r.listeners(ctx, lb.ID, found, d.Listeners, certIDs)
}
