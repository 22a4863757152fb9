package provisioning

import (
	"context"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
)

// fakeSLB is the shared in-memory CLB fitted to the Instances port the way
// functions/provision fits the adapter: InstanceSpec mapped onto the
// fake's spec.
type fakeSLB struct{ *clbtest.SLB }

var (
	_ Instances        = fakeSLB{}
	_ Backends         = fakeSLB{}
	_ Listeners        = fakeSLB{}
	_ DomainExtensions = fakeSLB{}
	_ Certificates     = fakeSLB{}
)

func newFake() fakeSLB { return fakeSLB{&clbtest.SLB{}} }

func (f fakeSLB) CreateLoadBalancer(ctx context.Context, region string, spec InstanceSpec, token string) (clb.LoadBalancer, error) {
	return f.SLB.CreateLoadBalancer(ctx, region, clb.LoadBalancer{Name: spec.Name, AddressType: spec.AddressType, Spec: spec.Spec,
		PayType: spec.PayType, MasterZone: spec.MasterZoneID, SlaveZone: spec.SlaveZoneID, Bandwidth: spec.Bandwidth, Tags: spec.Tags}, token)
}

// fakePairs serves pairs by name.
type fakePairs struct {
	pairs map[string]Pair
	err   error
	calls int
}

func (p *fakePairs) LoadPair(ctx context.Context, name string, now time.Time) (Pair, error) {
	p.calls++
	if p.err != nil {
		return Pair{}, p.err
	}
	pair, ok := p.pairs[name]
	if !ok {
		return Pair{}, fmt.Errorf("fake: certs/%s/: no pair: %w", name, apierr.ErrNotFound)
	}
	return pair, nil
}
