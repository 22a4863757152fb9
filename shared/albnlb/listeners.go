package albnlb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// Listeners lists the TLS listeners (ALB HTTPS and QUIC, NLB TCPSSL) of the
// load balancers lbIDs with their default certificates (ALB's listing does
// not give it: each listener is read for it).
func (p *Port) Listeners(ctx context.Context, region string, lbIDs []string) ([]inventory.TLSListener, error) {
	ls, err := p.BareListeners(ctx, region, lbIDs)
	if err != nil {
		return nil, err
	}
	out := make([]inventory.TLSListener, 0, len(ls))
	for _, l := range ls {
		if l.CertificateID == "" { // ALB's listing does not give it
			cs, err := p.LB.ListListenerCertificates(ctx, region, l.ID)
			if err != nil {
				return out, err
			}
			l.CertificateID = defaultOf(held(l, cs))
		}
		out = append(out, l)
	}
	return out, nil
}

// BareListeners lists the TLS listeners of the load balancers lbIDs (one
// listing of the region), with the default certificate where the listing
// gives it (NLB).
func (p *Port) BareListeners(ctx context.Context, region string, lbIDs []string) ([]inventory.TLSListener, error) {
	want := make(map[string]bool, len(lbIDs))
	for _, id := range lbIDs {
		want[id] = true
	}
	ls, err := p.LB.ListListeners(ctx, region)
	if err != nil {
		return nil, err
	}
	var out []inventory.TLSListener
	for _, l := range ls {
		if want[l.LoadBalancerID] {
			out = append(out, inventory.TLSListener{LoadBalancerID: l.LoadBalancerID, Port: l.Port, ID: l.ID, Status: l.Status,
				Protocol: l.Protocol, CertificateID: l.DefaultCertificate})
		}
	}
	return out, nil
}

// ReadListener reads l once (ListListenerCertificates): its default
// certificate, every certificate it holds and its SNI places, each
// certificate's domains resolved by cert (else by what the port listed).
func (p *Port) ReadListener(ctx context.Context, region string, l inventory.TLSListener, cert func(string) (clb.ServerCertificate, bool)) (inventory.ListenerRead, error) {
	cs, err := p.LB.ListListenerCertificates(ctx, region, l.ID)
	if err != nil {
		return inventory.ListenerRead{Listener: l}, err
	}
	hs := held(l, cs)
	l.CertificateID = defaultOf(hs)
	domains := func(id string) ([]string, bool) {
		if c, ok := cert(id); ok && len(c.Domains()) > 0 {
			return c.Domains(), true
		}
		return p.domains(id)
	}
	return inventory.ListenerRead{Listener: l, Held: hs, SNI: places(l, hs, domains)}, nil
}

// held are the certificates of a listing of l's certificates (the
// listing's default alone when the read lists none).
func held(l inventory.TLSListener, cs []aliyun.ListenerCertificate) []inventory.HeldCertificate {
	if len(cs) == 0 && l.CertificateID != "" {
		return []inventory.HeldCertificate{{CertificateID: l.CertificateID, Default: true, Status: inventory.CertAssociated}}
	}
	out := make([]inventory.HeldCertificate, len(cs))
	for i, c := range cs {
		out[i] = inventory.HeldCertificate{CertificateID: c.ID, Default: c.Default, Status: c.Status}
	}
	return out
}

func defaultOf(hs []inventory.HeldCertificate) string {
	def := ""
	for _, h := range hs {
		if h.Default {
			def = h.CertificateID
		}
	}
	return def
}

// SNI lists l's additional certificates, one place per domain each holds
// (a certificate CAS has not listed is one place without a domain: the
// rotation never replaces it). Dissociating ones are left out.
func (p *Port) SNI(ctx context.Context, region string, l inventory.TLSListener) ([]inventory.SNICertificate, error) {
	cs, err := p.LB.ListListenerCertificates(ctx, region, l.ID)
	if err != nil {
		return nil, err
	}
	return places(l, held(inventory.TLSListener{}, cs), p.domains), nil
}

// places are l's SNI places from what it holds (see SNI); domains
// resolves a certificate's DNS names.
func places(l inventory.TLSListener, hs []inventory.HeldCertificate, domains func(string) ([]string, bool)) []inventory.SNICertificate {
	var out []inventory.SNICertificate
	held := map[string]bool{}
	def := ""
	for _, c := range hs {
		if c.Default {
			def = c.CertificateID
			continue
		}
		if c.Status == "Dissociating" {
			continue
		}
		ds, ok := domains(c.CertificateID)
		if !ok {
			out = append(out, inventory.SNICertificate{ID: l.ID + "|" + c.CertificateID, CertificateID: c.CertificateID})
			continue
		}
		for _, d := range ds {
			held[strings.ToLower(d)] = true
			out = append(out, inventory.SNICertificate{ID: sniID(l.ID, d), Domain: d, CertificateID: c.CertificateID})
		}
	}
	// The default's domains no SNI certificate holds are read back as
	// default-answered places (where a superseded SNI certificate was).
	if ds, ok := domains(def); ok {
		for _, d := range ds {
			if !held[strings.ToLower(d)] {
				out = append(out, inventory.SNICertificate{ID: sniID(l.ID, d), Domain: d, CertificateID: def, Default: true})
			}
		}
	}
	return out
}

// domains are the DNS names of a CAS certificate the port has listed.
func (p *Port) domains(id string) ([]string, bool) {
	if id == "" {
		return nil, false
	}
	cc, ok := p.lookup(id)
	domains := cc.SANs
	if len(domains) == 0 && cc.CommonName != "" {
		domains = []string{cc.CommonName}
	}
	return domains, ok && len(domains) > 0
}

func sniID(listenerID, domain string) string { return listenerID + "|" + strings.ToLower(domain) }

// Listener finds the TLS listener of lbID with id listenerID (or, without
// one, on port) and its SNI places (ErrNotFound when there is none): one
// listing and one read of the listener.
func (p *Port) Listener(ctx context.Context, region, lbID string, port int, listenerID string) (inventory.TLSListener, []inventory.SNICertificate, error) {
	ls, err := p.BareListeners(ctx, region, []string{lbID})
	if err != nil {
		return inventory.TLSListener{}, nil, err
	}
	for _, l := range ls {
		if listenerID != "" && l.ID == listenerID && (port == 0 || l.Port == port) || listenerID == "" && l.Port == port {
			rd, err := p.ReadListener(ctx, region, l, func(string) (clb.ServerCertificate, bool) { return clb.ServerCertificate{}, false })
			return rd.Listener, rd.SNI, err
		}
	}
	return inventory.TLSListener{}, nil, fmt.Errorf("%s: no TLS listener on %s:%d in %s: %w", p.Product, lbID, port, region, apierr.ErrNotFound)
}

// Switch points a default certificate at to, or replaces an additional
// certificate: to is associated first, then from dissociated (the
// listener's other additional certificates are never touched). Both
// writes are idempotent in the adapters, so a retry after a lost answer
// converges. Switches of one listener run one at a time (the service runs
// one job per listener anyway), so a pair that is both a listener's new
// default and the replacement of one of its SNI certificates ends as the
// default only, whichever target switches first.
func (p *Port) Switch(ctx context.Context, pl rotation.Place, from, to string) error {
	if pl.ListenerID == "" {
		return fmt.Errorf("%s: switch %s/%s:%d: no listener id: %w", p.Product, pl.Region, pl.LoadBalancerID, pl.ListenerPort, apierr.ErrInvalid)
	}
	unlock := p.lockListener(pl.Region + "/" + pl.ListenerID)
	defer unlock()
	if pl.SNIID == "" {
		if err := p.LB.SetDefaultCertificate(ctx, pl.Region, pl.ListenerID, to); err != nil {
			return err
		}
		// An SNI target of the same pair switched first associated to as an
		// additional certificate: the default answers its domains now.
		if p.isAdditional(ctx, pl, to) {
			return p.LB.DissociateAdditionalCertificate(ctx, pl.Region, pl.ListenerID, to)
		}
		return nil
	}
	if err := p.LB.AssociateAdditionalCertificate(ctx, pl.Region, pl.ListenerID, to); err != nil {
		// The listener's default already is to (a pair covering both the
		// default's and this SNI certificate's domains): the default answers
		// the domain once the superseded certificate is dissociated.
		if !errors.Is(err, apierr.ErrConflict) || !p.isDefault(ctx, pl, to) {
			return err
		}
	}
	if from == "" || from == to {
		return nil
	}
	if err := p.LB.DissociateAdditionalCertificate(ctx, pl.Region, pl.ListenerID, from); err != nil {
		return fmt.Errorf("%s: %s associated to listener %s, but %s still associated: %w", p.Product, to, pl.ListenerID, from, err)
	}
	return nil
}

var (
	_ rotation.TargetPort      = (*Port)(nil)
	_ inventory.ListenerReader = (*Port)(nil)
)

// Compile-time check that the adapters fit.
var (
	_ Listeners    = (*aliyun.ALB)(nil)
	_ Listeners    = (*aliyun.NLB)(nil)
	_ Certificates = (*aliyun.CAS)(nil)
)

// isDefault reports whether certID is the listener's default certificate.
func (p *Port) isDefault(ctx context.Context, pl rotation.Place, certID string) bool {
	cs, err := p.LB.ListListenerCertificates(ctx, pl.Region, pl.ListenerID)
	if err != nil {
		return false
	}
	for _, c := range cs {
		if c.Default && c.ID == certID {
			return true
		}
	}
	return false
}

// isAdditional reports whether certID is one of the listener's additional
// certificates.
func (p *Port) isAdditional(ctx context.Context, pl rotation.Place, certID string) bool {
	cs, err := p.LB.ListListenerCertificates(ctx, pl.Region, pl.ListenerID)
	if err != nil {
		return false
	}
	for _, c := range cs {
		if !c.Default && c.ID == certID {
			return true
		}
	}
	return false
}

// lockListener serialises the port's writes to one listener.
func (p *Port) lockListener(key string) func() {
	p.mu.Lock()
	if p.listeners == nil {
		p.listeners = map[string]*sync.Mutex{}
	}
	m, ok := p.listeners[key]
	if !ok {
		m = &sync.Mutex{}
		p.listeners[key] = m
	}
	p.mu.Unlock()
	m.Lock()
	return m.Unlock
}
