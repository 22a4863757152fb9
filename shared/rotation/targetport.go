package rotation

import (
	"context"
	"fmt"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// The rotation plans, switches, verifies, rolls back and cleans up targets
// (a listener's default certificate, an SNI certificate) through a
// TargetPort: one per load-balancer product. The algorithm only knows the
// product-neutral shapes below; CLBPort is the Classic Load Balancer's.

// Place is what a switch points at a certificate: the default certificate
// of listener (LoadBalancerID, ListenerPort, ListenerID) when SNIID is
// empty, else the SNI place SNIID (Domain is its domain).
type Place struct {
	Region         string
	LoadBalancerID string
	ListenerPort   int
	ListenerID     string
	SNIID          string
	Domain         string
}

// TargetPort is what the rotation needs from one load-balancer product.
// Errors answer apierr (ErrNotFound for a listener that does not exist,
// ErrConflict for a certificate in use, ErrQuota, ErrTransient).
type TargetPort interface {
	// Reader is the read side: Certificates, Instances, Listeners (at most
	// ReadBatch load balancers per call), SNI, ReadBatch.
	inventory.Reader
	// Upload stores a certificate (tags mark it ours and name its pair).
	Upload(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error)
	// Delete removes a stored certificate (ErrConflict while referenced).
	Delete(ctx context.Context, region, id string) error
	// Listener describes the listener of lbID with id listenerID (when the
	// product names listeners) or on port, and its SNI certificates
	// (ErrNotFound when there is none).
	Listener(ctx context.Context, region, lbID string, port int, listenerID string) (inventory.TLSListener, []inventory.SNICertificate, error)
	// Switch points place at certificate to (from is what it references now).
	Switch(ctx context.Context, place Place, from, to string) error
}

// CLBPort is the Classic Load Balancer's TargetPort over the SLB API: the
// reads are inventory.CLB's.
type CLBPort struct{ SLB SLB }

func (c CLBPort) reader() inventory.CLB { return inventory.CLB{API: c.SLB} }

// Certificates lists the region's server certificates.
func (c CLBPort) Certificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	return c.reader().Certificates(ctx, region)
}

// Upload uploads a server certificate.
func (c CLBPort) Upload(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error) {
	return c.SLB.UploadServerCertificate(ctx, region, name, certPEM, keyPEM, tags)
}

// Delete deletes a server certificate.
func (c CLBPort) Delete(ctx context.Context, region, id string) error {
	return c.SLB.DeleteServerCertificate(ctx, region, id)
}

// Instances lists the region's load balancers.
func (c CLBPort) Instances(ctx context.Context, region string) ([]inventory.Instance, error) {
	return c.reader().Instances(ctx, region)
}

// Listeners lists the HTTPS listeners of lbIDs.
func (c CLBPort) Listeners(ctx context.Context, region string, lbIDs []string) ([]inventory.TLSListener, error) {
	return c.reader().Listeners(ctx, region, lbIDs)
}

// SNI lists the domain extensions of l.
func (c CLBPort) SNI(ctx context.Context, region string, l inventory.TLSListener) ([]inventory.SNICertificate, error) {
	return c.reader().SNI(ctx, region, l)
}

// ReadBatch is inventory.CLB's.
func (c CLBPort) ReadBatch() int { return c.reader().ReadBatch() }

// Listener describes the HTTPS listener on lbID:port.
func (c CLBPort) Listener(ctx context.Context, region, lbID string, port int, _ string) (inventory.TLSListener, []inventory.SNICertificate, error) {
	l, exts, err := c.SLB.DescribeHTTPSListener(ctx, region, lbID, port)
	if err != nil {
		return inventory.TLSListener{}, nil, err
	}
	return inventory.TLSListener{LoadBalancerID: l.LoadBalancerID, Port: l.Port, Status: l.Status, CertificateID: l.ServerCertificateID}, inventory.CLBExtensions(exts), nil
}

// Switch sets a listener's or a domain extension's certificate.
func (c CLBPort) Switch(ctx context.Context, p Place, _, to string) error {
	if p.SNIID != "" {
		return c.SLB.SetDomainExtensionCertificate(ctx, p.Region, p.SNIID, to)
	}
	return c.SLB.SetListenerCertificate(ctx, p.Region, p.LoadBalancerID, p.ListenerPort, to)
}

// Product is one load-balancer product the rotation works through.
type Product struct {
	Name string // clb.ProductCLB, clb.ProductALB or clb.ProductNLB
	Port TargetPort
}

// products are the rotation's products: Rotator.Products, else CLB over SLB.
func (r *Rotator) products() []Product {
	if len(r.Products) > 0 {
		return r.Products
	}
	return []Product{{Name: clb.ProductCLB, Port: CLBPort{SLB: r.SLB}}}
}

// product finds a configured product by name ("" is CLB).
func (r *Rotator) product(name string) (Product, bool) {
	if name == "" {
		name = clb.ProductCLB
	}
	for _, p := range r.products() {
		if p.Name == name {
			return p, true
		}
	}
	return Product{}, false
}

// laneKey names one product in one region: the region alone for CLB (so
// CLB results and keys read as before), else "<product>/<region>".
func laneKey(product, region string) string {
	if product == "" || product == clb.ProductCLB {
		return region
	}
	return product + "/" + region
}

func (p *regionPlan) lane() string { return laneKey(p.product, p.region) }

func (t *target) lane() string { return laneKey(t.product, t.Region) }

// productLabel is the product a result names ("" for CLB).
func (t *target) productLabel() string {
	if t.product == clb.ProductCLB {
		return ""
	}
	return t.product
}

// ecdsaTaker is implemented by a port whose listeners serve ECDSA
// certificates (ALB, NLB); the others (CLB) take RSA only.
type ecdsaTaker interface{ AcceptsECDSA() bool }

func takesECDSA(port TargetPort) bool {
	t, ok := port.(ecdsaTaker)
	return ok && t.AcceptsECDSA()
}

// takesECDSA reports whether any product of the rotation serves ECDSA: an
// ECDSA pair is then loaded (and applied to those products only).
func (r *Rotator) takesECDSA() bool {
	for _, p := range r.products() {
		if takesECDSA(p.Port) {
			return true
		}
	}
	return false
}

// ErrKeyType marks a target left alone because its product cannot serve the
// pair's key type (an ECDSA pair on a CLB listener); permanent.
var ErrKeyType = fmt.Errorf("the product does not accept this key type: %w", apierr.ErrInvalid)

// accepts reports whether lane p can take m (an ECDSA pair needs a port
// that serves ECDSA).
func (p *regionPlan) accepts(m *material) bool { return !m.ecdsa || takesECDSA(p.port) }
