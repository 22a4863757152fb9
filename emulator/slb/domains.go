package slb

import (
	"fmt"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// validDomain accepts a DNS name or a wildcard "*.name" (at least two labels).
func validDomain(d string) bool {
	d = strings.TrimPrefix(d, "*.")
	if len(d) == 0 || len(d) > 253 || !strings.Contains(d, ".") {
		return false
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func (c *call) extJSON(e *domainExtension) obj {
	return obj{"DomainExtensionId": e.ID, "Domain": e.Domain, "ServerCertificateId": e.ServerCertificateID,
		"Certificates":       obj{"Certificate": []obj{{"CertificateId": e.ServerCertificateID, "EncryptionAlgorithm": "RSA"}}},
		"ServerCertificates": obj{"ServerCertificate": c.certsOf(e.ServerCertificateID)}}
}

func (c *call) ext(id string) (*domainExtension, *apiError) {
	if id == "" {
		return nil, missing("DomainExtensionId")
	}
	e, ok := c.reg.exts[id]
	if !ok {
		return nil, errorf(400, "InvalidParameter.DomainExtensionId", "The specified DomainExtensionId does not exist.")
	}
	return e, nil
}

// addDomainExtension attaches domain → cert to l; s.mu is held.
func (s *Server) addDomainExtension(reg *region, lb *loadBalancer, l *listener, domain string, cert *certificate) (*domainExtension, *apiError) {
	if l.Protocol != "https" {
		return nil, errorf(400, "InvalidParameter", "Domain extensions need an HTTPS listener.")
	}
	if !validDomain(domain) {
		return nil, invalid("Domain", "a domain name or a wildcard domain name such as *.example.com")
	}
	for _, e := range l.exts {
		if strings.EqualFold(e.Domain, domain) {
			return nil, errorf(400, "DomainAlreadyExists", "The domain %s already has an extension on this listener.", domain)
		}
	}
	if len(l.exts) >= MaxDomainExtensionsPerListen {
		return nil, errorf(400, "DomainExtension.QuotaExceeded", "The number of domain extensions of the listener exceeds the quota: %d.", MaxDomainExtensionsPerListen)
	}
	e := &domainExtension{clb.DomainExtension{
		ID: fmt.Sprintf("de-%s%010dlocal", regionCode(reg.id), s.nextSeq()), Region: reg.id,
		LoadBalancerID: lb.ID, ListenerPort: l.Port, Domain: strings.ToLower(domain), ServerCertificateID: cert.ID,
	}}
	l.exts = append(l.exts, e)
	reg.exts[e.ID] = e
	return e, nil
}

func createDomainExtension(c *call) (obj, *apiError) {
	lb, l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	domain := c.p["Domain"]
	if domain == "" {
		return nil, missing("Domain")
	}
	cert, aerr := c.cert(c.p["ServerCertificateId"])
	if aerr != nil {
		return nil, aerr
	}
	e, aerr := c.s.addDomainExtension(c.reg, lb, l, domain, cert)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"DomainExtensionId": e.ID, "ListenerPort": l.Port}, nil
}

func setDomainExtensionAttribute(c *call) (obj, *apiError) {
	e, aerr := c.ext(c.p["DomainExtensionId"])
	if aerr != nil {
		return nil, aerr
	}
	cert, aerr := c.cert(c.p["ServerCertificateId"])
	if aerr != nil {
		return nil, aerr
	}
	e.ServerCertificateID = cert.ID
	return obj{}, nil
}

func describeDomainExtensions(c *call) (obj, *apiError) {
	_, l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	want := c.p["DomainExtensionId"]
	list := []obj{}
	for _, e := range l.exts {
		if want == "" || want == e.ID {
			list = append(list, c.extJSON(e))
		}
	}
	return obj{"DomainExtensions": obj{"DomainExtension": list}}, nil
}

func describeDomainExtensionAttribute(c *call) (obj, *apiError) {
	e, aerr := c.ext(c.p["DomainExtensionId"])
	if aerr != nil {
		return nil, aerr
	}
	out := c.extJSON(e)
	out["LoadBalancerId"] = e.LoadBalancerID
	out["ListenerPort"] = e.ListenerPort
	return out, nil
}

func deleteDomainExtension(c *call) (obj, *apiError) {
	e, aerr := c.ext(c.p["DomainExtensionId"])
	if aerr != nil {
		return nil, aerr
	}
	delete(c.reg.exts, e.ID)
	if lb, ok := c.reg.lbs[e.LoadBalancerID]; ok {
		if l, ok := lb.listeners[e.ListenerPort]; ok {
			for i, x := range l.exts {
				if x == e {
					l.exts = append(l.exts[:i], l.exts[i+1:]...)
					break
				}
			}
		}
	}
	return obj{}, nil
}
