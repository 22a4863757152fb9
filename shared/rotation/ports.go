package rotation

import (
	"context"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// CertificateStore manages the server certificates of a region.
type CertificateStore interface {
	ListServerCertificates(ctx context.Context, region string) ([]clb.ServerCertificate, error)
	UploadServerCertificate(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error)
	DeleteServerCertificate(ctx context.Context, region, id string) error
}

// ListenerInventory finds the HTTPS listeners and domain extensions of a region.
type ListenerInventory interface {
	ListLoadBalancers(ctx context.Context, region string) ([]clb.LoadBalancer, error)
	ListHTTPSListeners(ctx context.Context, region string, lbIDs []string) ([]clb.Listener, error)
	ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error)
	DescribeHTTPSListener(ctx context.Context, region, lbID string, port int) (clb.Listener, []clb.DomainExtension, error)
}

// CertificateSwitcher points a listener or a domain extension at a certificate.
type CertificateSwitcher interface {
	SetListenerCertificate(ctx context.Context, region, lbID string, port int, certID string) error
	SetDomainExtensionCertificate(ctx context.Context, region, extID, certID string) error
}

// SLB is everything the rotation needs from the load balancer API;
// *aliyun.SLB satisfies it.
type SLB interface {
	CertificateStore
	ListenerInventory
	CertificateSwitcher
}

// ProbeResult is what a TLS handshake saw (the fields of tlsprobe.Result the
// rotation uses).
type ProbeResult struct {
	// Reachable is false when the address could not be reached in time.
	Reachable bool
	// FingerprintSHA1 of the served leaf, colon hex as SLB shows it.
	FingerprintSHA1 string
	// Err describes a failure, if any.
	Err string
}

// Prober performs a TLS handshake and reports the served leaf.
type Prober interface {
	Probe(ctx context.Context, address string, port int, serverName string, timeout time.Duration) ProbeResult
}

// ProbeFunc adapts a function (such as a wrapper of tlsprobe.Probe) to Prober.
type ProbeFunc func(ctx context.Context, address string, port int, serverName string, timeout time.Duration) ProbeResult

// Probe calls f.
func (f ProbeFunc) Probe(ctx context.Context, address string, port int, serverName string, timeout time.Duration) ProbeResult {
	return f(ctx, address, port, serverName, timeout)
}
