// Package albnlb provides the rotation's target ports for the Application
// Load Balancer and the Network Load Balancer: rotation.TargetPort over the
// ALB or NLB adapter and the CAS adapter of package aliyun.
//
// Certificates live in CAS (one per content, looked up by fingerprint
// before any upload) and are referenced as "<CertId>-<casRegion>". A
// listener's default certificate is switched with SetDefaultCertificate; an
// SNI (additional) certificate by associating the new certificate and then
// dissociating the one it supersedes, so the listener never lacks one. The
// adapters wait out Configuring listeners and asynchronous jobs.
//
// An additional certificate is reported as one SNI place per domain it
// holds (ID "<listenerId>|<domain>"): the rotation replaces it only when
// the pair covers every domain of it (discovery's coverage rule), and its
// read-back finds the place again under the new certificate.
package albnlb

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// Listeners is what the port needs from *aliyun.ALB or *aliyun.NLB.
type Listeners interface {
	ListLoadBalancers(ctx context.Context, region string) ([]aliyun.LBInstance, error)
	ListListeners(ctx context.Context, region string) ([]aliyun.LBListener, error)
	ListListenerCertificates(ctx context.Context, region, listenerID string) ([]aliyun.ListenerCertificate, error)
	SetDefaultCertificate(ctx context.Context, region, listenerID, certID string) error
	AssociateAdditionalCertificate(ctx context.Context, region, listenerID, certID string) error
	DissociateAdditionalCertificate(ctx context.Context, region, listenerID, certID string) error
}

// Certificates is what the port needs from *aliyun.CAS.
type Certificates interface {
	ListCertificates(ctx context.Context, region string) ([]aliyun.CASCertificate, error)
	UploadCertificate(ctx context.Context, region, pair, certPEM, keyPEM string) (aliyun.CASCertificate, error)
	DeleteCertificate(ctx context.Context, cert aliyun.CASCertificate) error
}

// Port is the TargetPort of one product ("alb" or "nlb").
type Port struct {
	Product string
	LB      Listeners
	CAS     Certificates

	mu        sync.Mutex
	known     map[string]aliyun.CASCertificate // identity -> certificate, from listings and uploads
	listeners map[string]*sync.Mutex           // region/listener id -> its writes' lock
}

// New returns the port of product over lb and cas.
func New(product string, lb Listeners, cas Certificates) *Port {
	return &Port{Product: product, LB: lb, CAS: cas, known: map[string]aliyun.CASCertificate{}}
}

func (p *Port) remember(cs ...aliyun.CASCertificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.known[c.Identity] = c
	}
}

func (p *Port) lookup(id string) (aliyun.CASCertificate, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.known[id]
	return c, ok
}

// Stored is a CAS certificate in the inventory's certificate shape (ID the
// "<CertId>-<casRegion>" identity, Region the CAS region); the ownership
// tags are set only on ours (aliyun.CASCertificate.Ours).
func Stored(c aliyun.CASCertificate) clb.ServerCertificate {
	tags := map[string]string{}
	if c.Ours() {
		tags[clb.OwnerTagKey] = clb.OwnerTagValue
	}
	return clb.ServerCertificate{ID: c.Identity, Name: c.Name, Region: c.Region, Fingerprint: c.Fingerprint,
		CommonName: c.CommonName, SANs: c.SANs, ExpireTime: c.NotAfter, CreateTime: c.NotBefore, Tags: tags}
}

// Certificates lists the CAS certificates of region's CAS region.
func (p *Port) Certificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	cs, err := p.CAS.ListCertificates(ctx, region)
	if err != nil {
		return nil, err
	}
	p.remember(cs...)
	return storedAll(cs), nil
}

func storedAll(cs []aliyun.CASCertificate) []clb.ServerCertificate {
	out := make([]clb.ServerCertificate, len(cs))
	for i, c := range cs {
		out[i] = Stored(c)
	}
	return out
}

// CASLister is what Store needs from *aliyun.CAS.
type CASLister interface {
	ListCertificates(ctx context.Context, region string) ([]aliyun.CASCertificate, error)
}

// Store is the CAS store ALB and NLB share, read in the inventory's terms
// (the expiry sweep's expiry.CertStore): its listing as
// clb.ServerCertificate (Stored), the store a region's certificates live
// in, and the CAS region a "<CertId>-<casRegion>" identity names.
type Store struct {
	CAS CASLister
}

// Certificates lists the CAS certificates of region's CAS region (one
// ListCertificates).
func (s Store) Certificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	cs, err := s.CAS.ListCertificates(ctx, region)
	if err != nil {
		return nil, err
	}
	return storedAll(cs), nil
}

// StoreKey names the CAS region region's certificates live in.
func (Store) StoreKey(region string) string { return "cas/" + aliyun.CASRegion(region) }

// IdentityRegion is the CAS region an identity "<CertId>-<casRegion>"
// names; false for anything else (a bare id is no CAS identity).
func (Store) IdentityRegion(id string) (string, bool) {
	_, casRegion, err := aliyun.ParseCASIdentity(id)
	return casRegion, err == nil
}

// Upload stores the pair in CAS once per content, under the pair's name
// (the pair tag's value; name when there is none).
func (p *Port) Upload(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error) {
	pair := strings.TrimPrefix(tags[clb.PairTagKey], "pair:")
	if pair == "" {
		pair = name
	}
	c, err := p.CAS.UploadCertificate(ctx, region, pair, certPEM, keyPEM)
	if err != nil {
		return clb.ServerCertificate{}, err
	}
	p.remember(c)
	return Stored(c), nil
}

// Delete deletes one of our CAS certificates (CAS refuses one a listener of
// any product uses: ErrConflict). A certificate the port has not listed is
// refused: it cannot tell whether it is ours.
func (p *Port) Delete(ctx context.Context, _ string, id string) error {
	c, ok := p.lookup(id)
	if !ok {
		return fmt.Errorf("%s: delete %s: not listed by this rotation, left alone: %w", p.Product, id, apierr.ErrInvalid)
	}
	return p.CAS.DeleteCertificate(ctx, c)
}

// OwnedBy reports whether c is a certificate the product uploaded for pair:
// its name is the one CAS naming gives that pair and content.
func (p *Port) OwnedBy(c clb.ServerCertificate, pair string) bool {
	return c.Ours() && c.Name == aliyun.CASCertificateName(pair, c.ExpireTime, c.Fingerprint)
}

// Instances lists the region's instances, addressed by DNS name.
func (p *Port) Instances(ctx context.Context, region string) ([]inventory.Instance, error) {
	lbs, err := p.LB.ListLoadBalancers(ctx, region)
	if err != nil {
		return nil, err
	}
	out := make([]inventory.Instance, len(lbs))
	for i, lb := range lbs {
		out[i] = inventory.Instance{ID: lb.ID, Address: lb.DNSName}
	}
	return out, nil
}

// ReadBatch 0: one listing covers every listener of the region, whatever
// the number of load balancers it is asked about.
func (p *Port) ReadBatch() int { return 0 }

// StoreKey names the CAS region region's certificates live in: ALB and NLB
// listeners of every region mapped to it share those certificates.
func (p *Port) StoreKey(region string) string { return Store{}.StoreKey(region) }

// AcceptsECDSA: ALB and NLB serve ECDSA certificates.
func (p *Port) AcceptsECDSA() bool { return true }
