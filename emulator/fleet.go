package emulator

import (
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/alb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/nlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// FleetMember is one seeded ALB or NLB instance.
type FleetMember struct {
	Kind       string `json:"kind"` // "alb" or "nlb"
	ID         string `json:"load_balancer_id"`
	ListenerID string `json:"listener_id"`
	DNSName    string `json:"dns_name"`
	Domain     string `json:"domain"`
	CertID     string `json:"certificate_id"` // <CertId>-<casRegion>
}

// SeedLBFleet seeds n ALB instances (Standard edition, an HTTPS listener on
// 443 with a default certificate for alb-<i>.fleet.example.com and an
// additional one for shop-<i>.fleet.example.com) and n NLB instances (a
// TCPSSL listener on 443 for nlb-<i>.fleet.example.com) in region, their
// self-signed certificates uploaded to CAS. Jobs complete at once.
func (c *Cloud) SeedLBFleet(region string, n int) ([]FleetMember, error) {
	var out []FleetMember
	for i := 1; i <= n; i++ {
		m, err := c.seedALB(region, i)
		if err != nil {
			return out, err
		}
		out = append(out, m)
		if m, err = c.seedNLB(region, i); err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

// fleetCert uploads a 90-day self-signed certificate for domain to CAS.
func (c *Cloud) fleetCert(region, name, domain string) (string, error) {
	p, err := certstest.SelfSignedErr(certstest.Options{Domains: []string{domain}, KeyType: certstest.ECDSA,
		NotBefore: time.Now().Add(-time.Hour)})
	if err != nil {
		return "", fmt.Errorf("emulator: fleet certificate for %s: %w", domain, err)
	}
	return c.CAS.Seed(region, name, string(p.CertPEM), string(p.KeyPEM))
}

func (c *Cloud) seedALB(region string, i int) (FleetMember, error) {
	m := FleetMember{Kind: "alb", Domain: fmt.Sprintf("alb-%d.fleet.example.com", i)}
	var err error
	if m.CertID, err = c.fleetCert(region, fmt.Sprintf("fleet-alb-%d", i), m.Domain); err != nil {
		return m, err
	}
	sni, err := c.fleetCert(region, fmt.Sprintf("fleet-alb-%d-shop", i), fmt.Sprintf("shop-%d.fleet.example.com", i))
	if err != nil {
		return m, err
	}
	if m.ID, err = c.ALB.SeedLoadBalancer(region, fmt.Sprintf("fleet-alb-%d", i), "Standard"); err != nil {
		return m, err
	}
	if m.ListenerID, err = c.ALB.SeedListener(region, m.ID, 443, "HTTPS", m.CertID); err != nil {
		return m, err
	}
	if err = c.ALB.SeedAdditionalCertificates(region, m.ListenerID, sni); err != nil {
		return m, err
	}
	m.DNSName = m.ID + "." + region + "." + alb.DNSZone
	return m, nil
}

func (c *Cloud) seedNLB(region string, i int) (FleetMember, error) {
	m := FleetMember{Kind: "nlb", Domain: fmt.Sprintf("nlb-%d.fleet.example.com", i)}
	var err error
	if m.CertID, err = c.fleetCert(region, fmt.Sprintf("fleet-nlb-%d", i), m.Domain); err != nil {
		return m, err
	}
	if m.ID, err = c.NLB.SeedLoadBalancer(region, fmt.Sprintf("fleet-nlb-%d", i)); err != nil {
		return m, err
	}
	if m.ListenerID, err = c.NLB.SeedListener(region, m.ID, 443, "TCPSSL", m.CertID); err != nil {
		return m, err
	}
	m.DNSName = m.ID + "." + region + "." + nlb.DNSZone
	return m, nil
}
