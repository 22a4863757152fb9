package provisioning

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// ClientToken derives CreateLoadBalancer's idempotency token from the
// canonical instance spec: the same payload always yields the same token,
// so a retried invocation cannot create a second instance. attempt > 0
// yields a fresh token for the case where the service answers a reused
// token with an instance that no longer exists.
func ClientToken(region string, spec clb.LoadBalancerSpec, attempt int) string {
	canon := struct {
		Region, Name, AddressType, Spec, PayType, MasterZone, SlaveZone string
		Bandwidth, Attempt                                              int
	}{region, spec.Name, spec.AddressType, spec.Spec, spec.PayType, spec.MasterZone, spec.SlaveZone, spec.Bandwidth, attempt}
	b, _ := json.Marshal(canon)
	sum := sha256.Sum256(b)
	return "scr-" + hex.EncodeToString(sum[:])[:60] // 64 ASCII characters
}

// InstanceSpec is the instance Apply creates: the payload's instance
// with our owner tag.
func (d Desired) InstanceSpec() clb.LoadBalancerSpec {
	i := d.LoadBalancer
	return clb.LoadBalancerSpec{Name: i.Name, AddressType: i.AddressType, Spec: i.Spec, PayType: i.PayType,
		MasterZone: i.MasterZoneID, SlaveZone: i.SlaveZoneID, Bandwidth: i.Bandwidth,
		Tags: map[string]string{clb.OwnerTagKey: clb.OwnerTagValue}}
}

// findInstance finds the instance by name. An instance of that name
// without our tag is never adopted: that is a conflict.
func findInstance(ctx context.Context, s Instances, region, name string) (clb.LoadBalancer, bool, error) {
	lbs, err := s.ListLoadBalancers(ctx, region)
	if err != nil {
		return clb.LoadBalancer{}, false, fmt.Errorf("provisioning: list load balancers in %s: %w", region, err)
	}
	var ours, foreign []clb.LoadBalancer
	for _, lb := range lbs {
		if lb.Name != name {
			continue
		}
		if lb.Tags[clb.OwnerTagKey] == clb.OwnerTagValue {
			ours = append(ours, lb)
		} else {
			foreign = append(foreign, lb)
		}
	}
	switch {
	case len(ours) == 1:
		return ours[0], true, nil
	case len(ours) > 1:
		ids := make([]string, len(ours))
		for i, lb := range ours {
			ids[i] = lb.ID
		}
		return clb.LoadBalancer{}, false, fmt.Errorf("provisioning: %d instances named %s in %s carry our tag (%s); delete the extra ones: %w",
			len(ours), name, region, strings.Join(ids, ", "), apierr.ErrConflict)
	case len(foreign) > 0:
		return clb.LoadBalancer{}, false, fmt.Errorf("provisioning: instance %s (%s) in %s exists but was not created by slb-cert-rotator (no %s=%s tag); tag it to adopt it or choose another name: %w",
			name, foreign[0].ID, region, clb.OwnerTagKey, clb.OwnerTagValue, apierr.ErrConflict)
	}
	return clb.LoadBalancer{}, false, nil
}

// checkImmutable warns about instance attributes that differ from the
// payload but that apply does not change (they need a new instance).
func (r *run) checkImmutable(lb clb.LoadBalancer, d Desired) {
	want := d.LoadBalancer
	diff := func(field, have, wantV string) {
		if have != "" && wantV != "" && have != wantV {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("loadBalancer.%s is %s on %s, payload says %s; not changed (recreate the instance to change it)", field, have, lb.ID, wantV))
		}
	}
	diff("spec", lb.Spec, want.Spec)
	diff("payType", lb.PayType, want.PayType)
	diff("addressType", lb.AddressType, want.AddressType)
	diff("masterZoneId", lb.MasterZone, want.MasterZoneID)
	diff("slaveZoneId", lb.SlaveZone, want.SlaveZoneID)
}

func (r *run) createInstance(ctx context.Context, d Desired) (clb.LoadBalancer, error) {
	s, region := r.p.Instances, r.region
	spec := d.InstanceSpec()
	change := Change{Op: "create", Resource: "load balancer " + spec.Name,
		Detail: fmt.Sprintf("%s, %s, %s/%s, %s", spec.Spec, spec.PayType, spec.MasterZone, spec.SlaveZone, spec.AddressType)}
	if r.dry {
		r.res.Changes = append(r.res.Changes, change)
		return clb.LoadBalancer{ID: placeholder}, nil
	}
	const attempts = 3
	for attempt := 0; attempt < attempts; attempt++ {
		token := ClientToken(region, spec, attempt)
		lb, err := s.CreateLoadBalancer(ctx, region, spec, token)
		if err != nil {
			return clb.LoadBalancer{}, fmt.Errorf("provisioning: create load balancer %s in %s: %w", spec.Name, region, err)
		}
		// A reused token may answer with an instance deleted since (an
		// earlier apply, destroyed): check it exists, else use the next token.
		full, _, err := s.DescribeLoadBalancer(ctx, region, lb.ID)
		if errors.Is(err, apierr.ErrNotFound) {
			continue
		}
		if err != nil {
			return clb.LoadBalancer{}, fmt.Errorf("provisioning: describe new load balancer %s in %s: %w", lb.ID, region, err)
		}
		if lb.Address == "" {
			lb.Address = full.Address
		}
		id := lb.ID
		change.Resource += " " + id
		r.res.Changes = append(r.res.Changes, change)
		r.undo = append(r.undo, undoStep{change: Change{Op: "delete", Resource: change.Resource}, fn: func(ctx context.Context) error {
			return s.DeleteLoadBalancer(ctx, region, id)
		}})
		return lb, nil
	}
	return clb.LoadBalancer{}, fmt.Errorf("provisioning: create load balancer %s in %s: the service kept answering with deleted instances: %w", spec.Name, region, apierr.ErrTransient)
}
