package provisioning

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Destroy deletes the instance named in d (only if it carries our tag): its
// HTTPS listeners first, then the instance, then the server certificates
// we created that it used. A certificate still used by another listener or
// domain extension in the region, or not created by us, is kept and
// reported in Result.Kept. A missing instance gives status "absent".
func (p *Provisioner) Destroy(ctx context.Context, now time.Time, d Desired) (Result, error) {
	_ = now // destroy does not depend on time; kept for a uniform signature
	res, err := p.withLock(ctx, d, func() (Result, error) { return p.destroyLocked(ctx, d) })
	if res.Action == "" { // the lock was not had: nothing ran
		return lockFailed(ActionDestroy, d, err)
	}
	return res, err
}

func (p *Provisioner) destroyLocked(ctx context.Context, d Desired) (Result, error) {
	res := Result{Action: ActionDestroy, Region: d.Region, Name: d.LoadBalancer.Name, Changes: []Change{}}
	err := p.destroy(ctx, d, &res)
	if err == nil {
		if res.Status == "" {
			res.Status = StatusDestroyed
		}
		return res, nil
	}
	res.Error = err.Error()
	if apierr.Permanent(err) {
		res.Status = StatusRejected
		return res, nil
	}
	res.Status = StatusFailed
	return res, err
}

func (p *Provisioner) destroy(ctx context.Context, d Desired, res *Result) error {
	region := d.Region
	lb, found, err := findInstance(ctx, p.Instances, region, d.LoadBalancer.Name)
	if err != nil {
		return err
	}
	if !found {
		res.Status = StatusAbsent
		return nil
	}
	res.LoadBalancerID, res.Address = lb.ID, lb.Address

	listeners, err := p.Listeners.ListHTTPSListeners(ctx, region, []string{lb.ID})
	if err != nil {
		return fmt.Errorf("provisioning: list listeners of %s in %s: %w", lb.ID, region, err)
	}
	for i := range listeners { // a listing may leave the instance out
		listeners[i].LoadBalancerID = lb.ID
	}
	served, err := p.servedBy(ctx, region, listeners, "")
	if err != nil {
		return err
	}
	used := map[string]bool{} // certificate ids this instance serves
	for id := range served {
		used[id] = true
	}
	sort.Slice(listeners, func(i, j int) bool { return listeners[i].Port < listeners[j].Port })
	for _, l := range listeners {
		if err := p.Listeners.DeleteListener(ctx, region, lb.ID, l.Port); err != nil && !errors.Is(err, apierr.ErrNotFound) {
			return fmt.Errorf("provisioning: delete listener %s:%d in %s: %w", lb.ID, l.Port, region, err)
		}
		res.Changes = append(res.Changes, Change{Op: "delete", Resource: fmt.Sprintf("listener %d", l.Port)})
	}
	if err := p.Instances.DeleteLoadBalancer(ctx, region, lb.ID); err != nil && !errors.Is(err, apierr.ErrNotFound) {
		return fmt.Errorf("provisioning: delete load balancer %s in %s: %w", lb.ID, region, err)
	}
	res.Changes = append(res.Changes, Change{Op: "delete", Resource: "load balancer " + lb.Name + " " + lb.ID})

	if len(used) == 0 {
		return nil
	}
	return p.deleteCertificates(ctx, region, lb.ID, used, res)
}

// deleteCertificates deletes the certificates in ids that are ours and no
// longer used anywhere in the region.
func (p *Provisioner) deleteCertificates(ctx context.Context, region, goneID string, ids map[string]bool, res *Result) error {
	s := p.Certificates
	certs, err := s.ListServerCertificates(ctx, region)
	if err != nil {
		return fmt.Errorf("provisioning: list server certificates in %s: %w", region, err)
	}
	elsewhere, err := p.usage(ctx, region, goneID)
	if err != nil {
		return err
	}
	sort.Slice(certs, func(i, j int) bool { return certs[i].ID < certs[j].ID })
	for _, c := range certs {
		if !ids[c.ID] {
			continue
		}
		if !c.Ours() {
			res.Kept = append(res.Kept, KeptCertificate{ID: c.ID, Name: c.Name, Reason: "not created by slb-cert-rotator"})
			continue
		}
		if users := elsewhere[c.ID]; len(users) > 0 {
			res.Kept = append(res.Kept, KeptCertificate{ID: c.ID, Name: c.Name, Reason: "still used by " + strings.Join(users, ", ")})
			continue
		}
		err := s.DeleteServerCertificate(ctx, region, c.ID)
		switch {
		case errors.Is(err, apierr.ErrConflict):
			res.Kept = append(res.Kept, KeptCertificate{ID: c.ID, Name: c.Name, Reason: "the service says it is still in use"})
			continue
		case err != nil && !errors.Is(err, apierr.ErrNotFound):
			return fmt.Errorf("provisioning: delete server certificate %s in %s: %w", c.ID, region, err)
		}
		res.Changes = append(res.Changes, Change{Op: "delete", Resource: "certificate " + c.Name + " " + c.ID})
	}
	return nil
}

// usage maps certificate ids to the places (other than instance skip) that
// serve them in the region.
func (p *Provisioner) usage(ctx context.Context, region, skip string) (map[string][]string, error) {
	lbs, err := p.Instances.ListLoadBalancers(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("provisioning: list load balancers in %s: %w", region, err)
	}
	var ids []string
	for _, lb := range lbs {
		if lb.ID != skip {
			ids = append(ids, lb.ID)
		}
	}
	out := map[string][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	listeners, err := p.Listeners.ListHTTPSListeners(ctx, region, ids)
	if err != nil {
		return nil, fmt.Errorf("provisioning: list listeners in %s: %w", region, err)
	}
	return p.servedBy(ctx, region, listeners, skip)
}

// servedBy maps the ids of the certificates that listeners (other than
// those of instance skip) and their domain extensions serve to the places
// that serve them.
func (p *Provisioner) servedBy(ctx context.Context, region string, listeners []clb.Listener, skip string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, l := range listeners {
		if skip != "" && l.LoadBalancerID == skip {
			continue
		}
		t := clb.Target{Region: region, LoadBalancerID: l.LoadBalancerID, ListenerPort: l.Port}
		if l.ServerCertificateID != "" {
			out[l.ServerCertificateID] = append(out[l.ServerCertificateID], t.String())
		}
		exts, err := p.Extensions.ListDomainExtensions(ctx, region, l.LoadBalancerID, l.Port)
		if err != nil {
			return nil, fmt.Errorf("provisioning: list domain extensions of %s:%d in %s: %w", l.LoadBalancerID, l.Port, region, err)
		}
		for _, e := range exts {
			if e.ServerCertificateID == "" {
				continue
			}
			et := t
			et.Domain = e.Domain
			out[e.ServerCertificateID] = append(out[e.ServerCertificateID], et.String())
		}
	}
	return out, nil
}
