package provisioning

import (
	"context"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
)

// The shared in-memory CLB satisfies every port as it is.
var (
	_ Instances        = (*clbtest.SLB)(nil)
	_ Backends         = (*clbtest.SLB)(nil)
	_ Listeners        = (*clbtest.SLB)(nil)
	_ DomainExtensions = (*clbtest.SLB)(nil)
	_ Certificates     = (*clbtest.SLB)(nil)
)

func newFake() *clbtest.SLB { return &clbtest.SLB{} }

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
