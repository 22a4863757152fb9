package albnlb

import (
	"context"
	"fmt"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// Listeners lists the TLS listeners (ALB HTTPS and QUIC, NLB TCPSSL) of the
// load balancers lbIDs with their default certificates.
func (p *Port) Listeners(ctx context.Context, region string, lbIDs []string) ([]rotation.TLSListener, error) {
	want := make(map[string]bool, len(lbIDs))
	for _, id := range lbIDs {
		want[id] = true
	}
	ls, err := p.LB.ListListeners(ctx, region)
	if err != nil {
		return nil, err
	}
	var out []rotation.TLSListener
	for _, l := range ls {
		if !want[l.LoadBalancerID] {
			continue
		}
		def := l.DefaultCertificate
		if def == "" { // ALB's listing does not give it
			cs, err := p.LB.ListListenerCertificates(ctx, region, l.ID)
			if err != nil {
				return out, err
			}
			for _, c := range cs {
				if c.Default {
					def = c.ID
				}
			}
		}
		out = append(out, rotation.TLSListener{LoadBalancerID: l.LoadBalancerID, Port: l.Port, ID: l.ID, Status: l.Status, CertificateID: def})
	}
	return out, nil
}

// SNI lists l's additional certificates, one place per domain each holds
// (a certificate CAS has not listed is one place without a domain: the
// rotation never replaces it). Dissociating ones are left out.
func (p *Port) SNI(ctx context.Context, region string, l rotation.TLSListener) ([]rotation.SNICertificate, error) {
	cs, err := p.LB.ListListenerCertificates(ctx, region, l.ID)
	if err != nil {
		return nil, err
	}
	var out []rotation.SNICertificate
	for _, c := range cs {
		if c.Default || c.Status == "Dissociating" {
			continue
		}
		cc, ok := p.lookup(c.ID)
		domains := cc.SANs
		if len(domains) == 0 && cc.CommonName != "" {
			domains = []string{cc.CommonName}
		}
		if !ok || len(domains) == 0 {
			out = append(out, rotation.SNICertificate{ID: l.ID + "|" + c.ID, CertificateID: c.ID})
			continue
		}
		for _, d := range domains {
			out = append(out, rotation.SNICertificate{ID: sniID(l.ID, d), Domain: d, CertificateID: c.ID})
		}
	}
	return out, nil
}

func sniID(listenerID, domain string) string { return listenerID + "|" + strings.ToLower(domain) }

// Listener finds the TLS listener on lbID:port and its SNI places
// (ErrNotFound when there is none).
func (p *Port) Listener(ctx context.Context, region, lbID string, port int) (rotation.TLSListener, []rotation.SNICertificate, error) {
	ls, err := p.Listeners(ctx, region, []string{lbID})
	if err != nil {
		return rotation.TLSListener{}, nil, err
	}
	for _, l := range ls {
		if l.Port == port {
			sni, err := p.SNI(ctx, region, l)
			return l, sni, err
		}
	}
	return rotation.TLSListener{}, nil, fmt.Errorf("%s: no TLS listener on %s:%d in %s: %w", p.Product, lbID, port, region, apierr.ErrNotFound)
}

// Switch points a default certificate at to, or replaces an additional
// certificate: to is associated first, then from dissociated (the
// listener's other additional certificates are never touched). Both
// writes are idempotent in the adapters, so a retry after a lost answer
// converges.
func (p *Port) Switch(ctx context.Context, pl rotation.Place, from, to string) error {
	if pl.ListenerID == "" {
		return fmt.Errorf("%s: switch %s/%s:%d: no listener id: %w", p.Product, pl.Region, pl.LoadBalancerID, pl.ListenerPort, apierr.ErrInvalid)
	}
	if pl.SNIID == "" {
		return p.LB.SetDefaultCertificate(ctx, pl.Region, pl.ListenerID, to)
	}
	if err := p.LB.AssociateAdditionalCertificate(ctx, pl.Region, pl.ListenerID, to); err != nil {
		return err
	}
	if from == "" || from == to {
		return nil
	}
	if err := p.LB.DissociateAdditionalCertificate(ctx, pl.Region, pl.ListenerID, from); err != nil {
		return fmt.Errorf("%s: %s associated to listener %s, but %s still associated: %w", p.Product, to, pl.ListenerID, from, err)
	}
	return nil
}

var _ rotation.TargetPort = (*Port)(nil)

// Compile-time check that the adapters fit.
var (
	_ Listeners    = (*aliyun.ALB)(nil)
	_ Listeners    = (*aliyun.NLB)(nil)
	_ Certificates = (*aliyun.CAS)(nil)
)
