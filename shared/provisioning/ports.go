package provisioning

import (
	"context"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// The ports below are the parts of the Classic Load Balancer API
// provisioning consumes, one per kind of resource; each step of Apply,
// Plan and Destroy takes only the ones it calls. The aliyun adapter
// satisfies all five as it is.

// Instances finds, describes, creates and deletes load balancer instances.
type Instances interface {
	ListLoadBalancers(ctx context.Context, region string) ([]clb.LoadBalancer, error)
	DescribeLoadBalancer(ctx context.Context, region, id string) (clb.LoadBalancer, []clb.Backend, error)
	CreateLoadBalancer(ctx context.Context, region string, spec clb.LoadBalancerSpec, clientToken string) (clb.LoadBalancer, error)
	DeleteLoadBalancer(ctx context.Context, region, id string) error
}

// Backends adds, reweights and removes an instance's backend servers.
type Backends interface {
	AddBackendServers(ctx context.Context, region, lbID string, b []clb.Backend) error
	RemoveBackendServers(ctx context.Context, region, lbID string, ids []string) error
}

// Listeners lists, creates, updates, starts and deletes HTTPS listeners.
type Listeners interface {
	ListHTTPSListeners(ctx context.Context, region string, lbIDs []string) ([]clb.Listener, error)
	DescribeHTTPSListener(ctx context.Context, region, lbID string, port int) (clb.Listener, []clb.DomainExtension, error)
	CreateHTTPSListener(ctx context.Context, region string, l clb.Listener) error
	SetHTTPSListenerAttribute(ctx context.Context, region string, l clb.Listener) error
	StartListener(ctx context.Context, region, lbID string, port int) error
	DeleteListener(ctx context.Context, region, lbID string, port int) error
}

// DomainExtensions manages the SNI certificates of a listener.
type DomainExtensions interface {
	ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error)
	CreateDomainExtension(ctx context.Context, region, lbID string, port int, domain, certID string) (string, error)
	SetDomainExtensionCertificate(ctx context.Context, region, extID, certID string) error
	DeleteDomainExtension(ctx context.Context, region, extID string) error
}

// Certificates lists, uploads and deletes server certificates.
type Certificates interface {
	ListServerCertificates(ctx context.Context, region string) ([]clb.ServerCertificate, error)
	UploadServerCertificate(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error)
	DeleteServerCertificate(ctx context.Context, region, id string) error
}
