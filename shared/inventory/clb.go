package inventory

import (
	"context"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// CLBAPI is the read side of the Classic Load Balancer API; *aliyun.SLB
// satisfies it. Each method pages internally.
type CLBAPI interface {
	ListServerCertificates(ctx context.Context, region string) ([]clb.ServerCertificate, error)
	ListLoadBalancers(ctx context.Context, region string) ([]clb.LoadBalancer, error)
	ListHTTPSListeners(ctx context.Context, region string, lbIDs []string) ([]clb.Listener, error)
	ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error)
}

// CLB is the Classic Load Balancer's Reader.
type CLB struct{ API CLBAPI }

// clbReadBatch: DescribeLoadBalancerListeners accepts 10 load balancer ids
// per call.
const clbReadBatch = 10

// Certificates lists the region's server certificates.
func (c CLB) Certificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	return c.API.ListServerCertificates(ctx, region)
}

// Instances lists the region's load balancers.
func (c CLB) Instances(ctx context.Context, region string) ([]Instance, error) {
	lbs, err := c.API.ListLoadBalancers(ctx, region)
	if err != nil {
		return nil, err
	}
	out := make([]Instance, len(lbs))
	for i, lb := range lbs {
		out[i] = Instance{ID: lb.ID, Address: lb.Address}
	}
	return out, nil
}

// Listeners lists the HTTPS listeners of lbIDs (another protocol a listing
// returns is left out).
func (c CLB) Listeners(ctx context.Context, region string, lbIDs []string) ([]TLSListener, error) {
	ls, err := c.API.ListHTTPSListeners(ctx, region, lbIDs)
	return CLBListeners(ls), err
}

// SNI lists the domain extensions of l.
func (c CLB) SNI(ctx context.Context, region string, l TLSListener) ([]SNICertificate, error) {
	exts, err := c.API.ListDomainExtensions(ctx, region, l.LoadBalancerID, l.Port)
	return CLBExtensions(exts), err
}

// ReadBatch is 10 load balancers per listing.
func (CLB) ReadBatch() int { return clbReadBatch }

// CLBListeners converts CLB HTTPS listeners (another protocol is left out).
func CLBListeners(ls []clb.Listener) []TLSListener {
	out := make([]TLSListener, 0, len(ls))
	for _, l := range ls {
		if l.Protocol != "" && l.Protocol != "https" {
			continue
		}
		out = append(out, TLSListener{LoadBalancerID: l.LoadBalancerID, Port: l.Port, Status: l.Status, CertificateID: l.ServerCertificateID})
	}
	return out
}

// CLBExtensions converts CLB domain extensions.
func CLBExtensions(exts []clb.DomainExtension) []SNICertificate {
	out := make([]SNICertificate, len(exts))
	for i, e := range exts {
		out[i] = SNICertificate{ID: e.ID, Domain: e.Domain, CertificateID: e.ServerCertificateID}
	}
	return out
}
