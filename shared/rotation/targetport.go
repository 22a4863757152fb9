package rotation

import (
	"context"
	"fmt"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// The rotation plans, switches, verifies, rolls back and cleans up targets
// (a listener's default certificate, an SNI certificate) through a
// TargetPort: one per load-balancer product. The algorithm only knows the
// product-neutral shapes below; CLBPort is the Classic Load Balancer's.

// Instance is one load balancer as the rotation sees it.
type Instance struct {
	ID string
	// Address is what a TLS handshake dials (a VIP or a DNS name).
	Address string
}

// TLSListener is one TLS-terminating listener and its default certificate.
type TLSListener struct {
	LoadBalancerID string
	Port           int
	// ID names the listener where the product does (ALB, NLB); "" on CLB,
	// whose listeners are named by load balancer and port.
	ID     string
	Status string
	// CertificateID is the default certificate's id in the product's store.
	CertificateID string
}

// SNICertificate is one SNI certificate of a listener: a CLB domain
// extension, an ALB or NLB additional certificate.
type SNICertificate struct {
	// ID names the SNI place (a CLB domain extension id).
	ID            string
	Domain        string
	CertificateID string
	// Default marks a domain answered by the listener's default certificate
	// because no SNI certificate holds it (an ALB or NLB SNI certificate
	// superseded by a default that covers its domains): it is read back,
	// never a target.
	Default bool
}

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
	// Certificates lists the certificates of the store the product's
	// listeners reference in region.
	Certificates(ctx context.Context, region string) ([]clb.ServerCertificate, error)
	// Upload stores a certificate (tags mark it ours and name its pair).
	Upload(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error)
	// Delete removes a stored certificate (ErrConflict while referenced).
	Delete(ctx context.Context, region, id string) error
	// Instances lists the region's load balancers.
	Instances(ctx context.Context, region string) ([]Instance, error)
	// Listeners lists the TLS listeners of the load balancers lbIDs (at most
	// ReadBatch of them per call is what the rotation asks for at once).
	Listeners(ctx context.Context, region string, lbIDs []string) ([]TLSListener, error)
	// SNI lists the SNI certificates of listener l.
	SNI(ctx context.Context, region string, l TLSListener) ([]SNICertificate, error)
	// Listener describes the listener of lbID with id listenerID (when the
	// product names listeners) or on port, and its SNI certificates
	// (ErrNotFound when there is none).
	Listener(ctx context.Context, region, lbID string, port int, listenerID string) (TLSListener, []SNICertificate, error)
	// Switch points place at certificate to (from is what it references now).
	Switch(ctx context.Context, place Place, from, to string) error
	// ReadBatch is how many load balancers one Listeners call covers.
	ReadBatch() int
}

// CLBPort is the Classic Load Balancer's TargetPort over the SLB API.
type CLBPort struct{ SLB SLB }

// clbReadBatch: DescribeLoadBalancerListeners accepts 10 ids per call.
const clbReadBatch = 10

// Certificates lists the region's server certificates.
func (c CLBPort) Certificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	return c.SLB.ListServerCertificates(ctx, region)
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
func (c CLBPort) Instances(ctx context.Context, region string) ([]Instance, error) {
	lbs, err := c.SLB.ListLoadBalancers(ctx, region)
	if err != nil {
		return nil, err
	}
	out := make([]Instance, len(lbs))
	for i, lb := range lbs {
		out[i] = Instance{ID: lb.ID, Address: lb.Address}
	}
	return out, nil
}

// Listeners lists the HTTPS listeners of lbIDs.
func (c CLBPort) Listeners(ctx context.Context, region string, lbIDs []string) ([]TLSListener, error) {
	ls, err := c.SLB.ListHTTPSListeners(ctx, region, lbIDs)
	return clbListeners(ls), err
}

// SNI lists the domain extensions of l.
func (c CLBPort) SNI(ctx context.Context, region string, l TLSListener) ([]SNICertificate, error) {
	exts, err := c.SLB.ListDomainExtensions(ctx, region, l.LoadBalancerID, l.Port)
	return clbExtensions(exts), err
}

// Listener describes the HTTPS listener on lbID:port.
func (c CLBPort) Listener(ctx context.Context, region, lbID string, port int, _ string) (TLSListener, []SNICertificate, error) {
	l, exts, err := c.SLB.DescribeHTTPSListener(ctx, region, lbID, port)
	if err != nil {
		return TLSListener{}, nil, err
	}
	return clbListeners([]clb.Listener{l})[0], clbExtensions(exts), nil
}

// Switch sets a listener's or a domain extension's certificate.
func (c CLBPort) Switch(ctx context.Context, p Place, _, to string) error {
	if p.SNIID != "" {
		return c.SLB.SetDomainExtensionCertificate(ctx, p.Region, p.SNIID, to)
	}
	return c.SLB.SetListenerCertificate(ctx, p.Region, p.LoadBalancerID, p.ListenerPort, to)
}

// ReadBatch is 10 load balancers per listing.
func (CLBPort) ReadBatch() int { return clbReadBatch }

func clbListeners(ls []clb.Listener) []TLSListener {
	out := make([]TLSListener, len(ls))
	for i, l := range ls {
		out[i] = TLSListener{LoadBalancerID: l.LoadBalancerID, Port: l.Port, Status: l.Status, CertificateID: l.ServerCertificateID}
	}
	return out
}

func clbExtensions(exts []clb.DomainExtension) []SNICertificate {
	out := make([]SNICertificate, len(exts))
	for i, e := range exts {
		out[i] = SNICertificate{ID: e.ID, Domain: e.Domain, CertificateID: e.ServerCertificateID}
	}
	return out
}

// Product names for Product.Name and deploy.yaml's target type.
const (
	ProductCLB = "clb"
	ProductALB = "alb"
	ProductNLB = "nlb"
)

// Product is one load-balancer product the rotation works through.
type Product struct {
	Name string // ProductCLB, ProductALB or ProductNLB
	Port TargetPort
}

// products are the rotation's products: Rotator.Products, else CLB over SLB.
func (r *Rotator) products() []Product {
	if len(r.Products) > 0 {
		return r.Products
	}
	return []Product{{Name: ProductCLB, Port: CLBPort{SLB: r.SLB}}}
}

// product finds a configured product by name ("" is CLB).
func (r *Rotator) product(name string) (Product, bool) {
	if name == "" {
		name = ProductCLB
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
	if product == "" || product == ProductCLB {
		return region
	}
	return product + "/" + region
}

func (p *regionPlan) lane() string { return laneKey(p.product, p.region) }

func (t *target) lane() string { return laneKey(t.product, t.Region) }

// productLabel is the product a result names ("" for CLB).
func (t *target) productLabel() string {
	if t.product == ProductCLB {
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

// readBatch is how many load balancers one verification listing of port
// names.
func readBatch(port TargetPort) int {
	if b := port.ReadBatch(); b > 0 {
		return b
	}
	return 1
}
