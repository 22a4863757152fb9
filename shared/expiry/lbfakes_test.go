package expiry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/albnlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// fakeLBPage is the page size of the fake ALB/NLB listings (requests are
// counted per page, as the adapter would send them).
const fakeLBPage = 100

// quicPort is the port on which the fake ALB's listeners are QUIC.
const quicPort = 4433

// fakeLBRegion is one region of a fake ALB or NLB.
type fakeLBRegion struct {
	instances []aliyun.LBInstance
	listeners []aliyun.LBListener
	certs     map[string][]aliyun.ListenerCertificate // by listener id
}

// fakeLB is the ALB or NLB API the albnlb port consumes (albnlb.Listeners),
// for one product; it counts requests. The sweep reads through the port
// (lbPort); the writes let a rotation run over it.
type fakeLB struct {
	product  string
	mu       sync.Mutex
	regions  map[string]*fakeLBRegion
	requests map[string]int
	// fail returns an error for a call (method, region, listener) or nil.
	fail func(method, region, listener string) error
}

func newFakeLB(product string) *fakeLB {
	return &fakeLB{product: product, regions: map[string]*fakeLBRegion{}, requests: map[string]int{}}
}

func pages(n int) int { return max(1, (n+fakeLBPage-1)/fakeLBPage) }

func (f *fakeLB) hit(method, region, listener string, n int) (*fakeLBRegion, error) {
	f.mu.Lock()
	f.requests[method] += pages(n)
	r, fail := f.regions[region], f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(method, region, listener); err != nil {
			return nil, err
		}
	}
	if r == nil {
		return &fakeLBRegion{}, nil // a region without instances lists nothing
	}
	return r, nil
}

func (f *fakeLB) size(region string, n func(*fakeLBRegion) int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.regions[region]; r != nil {
		return n(r)
	}
	return 0
}

func (f *fakeLB) ListLoadBalancers(_ context.Context, region string) ([]aliyun.LBInstance, error) {
	r, err := f.hit("ListLoadBalancers", region, "", f.size(region, func(r *fakeLBRegion) int { return len(r.instances) }))
	if err != nil {
		return nil, err
	}
	return append([]aliyun.LBInstance(nil), r.instances...), nil
}

func (f *fakeLB) ListListeners(_ context.Context, region string) ([]aliyun.LBListener, error) {
	r, err := f.hit("ListListeners", region, "", f.size(region, func(r *fakeLBRegion) int { return len(r.listeners) }))
	if err != nil {
		return nil, err
	}
	return append([]aliyun.LBListener(nil), r.listeners...), nil
}

func (f *fakeLB) ListListenerCertificates(_ context.Context, region, listenerID string) ([]aliyun.ListenerCertificate, error) {
	r, err := f.hit("ListListenerCertificates", region, listenerID, f.size(region, func(r *fakeLBRegion) int { return len(r.certs[listenerID]) }))
	if err != nil {
		return nil, err
	}
	if _, ok := r.certs[listenerID]; !ok {
		return nil, fmt.Errorf("ResourceNotFound.Listener: %s: %w", listenerID, apierr.ErrNotFound)
	}
	return append([]aliyun.ListenerCertificate(nil), r.certs[listenerID]...), nil
}

// SetDefaultCertificate points a listener's default at certID.
func (f *fakeLB) SetDefaultCertificate(_ context.Context, region, listenerID, certID string) error {
	return f.write("SetDefaultCertificate", region, listenerID, func(cs []aliyun.ListenerCertificate) []aliyun.ListenerCertificate {
		for i := range cs {
			if cs[i].Default {
				cs[i].ID = certID
				return cs
			}
		}
		return append(cs, aliyun.ListenerCertificate{ID: certID, Default: true, Status: "Associated"})
	})
}

// AssociateAdditionalCertificate adds certID as an additional certificate.
func (f *fakeLB) AssociateAdditionalCertificate(_ context.Context, region, listenerID, certID string) error {
	return f.write("AssociateAdditionalCertificate", region, listenerID, func(cs []aliyun.ListenerCertificate) []aliyun.ListenerCertificate {
		for _, c := range cs {
			if c.ID == certID && !c.Default {
				return cs
			}
		}
		return append(cs, aliyun.ListenerCertificate{ID: certID, Status: "Associated"})
	})
}

// DissociateAdditionalCertificate removes the additional certificate certID.
func (f *fakeLB) DissociateAdditionalCertificate(_ context.Context, region, listenerID, certID string) error {
	return f.write("DissociateAdditionalCertificate", region, listenerID, func(cs []aliyun.ListenerCertificate) []aliyun.ListenerCertificate {
		out := cs[:0]
		for _, c := range cs {
			if c.Default || c.ID != certID {
				out = append(out, c)
			}
		}
		return out
	})
}

func (f *fakeLB) write(method, region, listenerID string, change func([]aliyun.ListenerCertificate) []aliyun.ListenerCertificate) error {
	if _, err := f.hit(method, region, listenerID, 1); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.regions[region]
	if r == nil || r.certs[listenerID] == nil {
		return fmt.Errorf("ResourceNotFound.Listener: %s: %w", listenerID, apierr.ErrNotFound)
	}
	r.certs[listenerID] = change(r.certs[listenerID])
	return nil
}

func (f *fakeLB) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.requests {
		n += v
	}
	return n
}

// addInstance seeds an instance with one listener per port; certs[i] are
// the certificate identities of the listener on ports[i], the first one
// the default. It returns the listener ids.
func (f *fakeLB) addInstance(region, id string, ports []int, certs [][]string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.regions[region]
	if r == nil {
		r = &fakeLBRegion{certs: map[string][]aliyun.ListenerCertificate{}}
		f.regions[region] = r
	}
	r.instances = append(r.instances, aliyun.LBInstance{Product: f.product, ID: id, Region: region,
		DNSName: id + "." + region + "." + f.product + ".example.net", Status: "Active"})
	protocol := map[string]string{clb.ProductALB: "HTTPS", clb.ProductNLB: "TCPSSL"}[f.product]
	var ids []string
	for i, port := range ports {
		protocol := protocol
		if f.product == clb.ProductALB && port == quicPort {
			protocol = "QUIC"
		}
		lid := fmt.Sprintf("lsn-%s-%d", id, port)
		ids = append(ids, lid)
		r.listeners = append(r.listeners, aliyun.LBListener{Product: f.product, ID: lid, LoadBalancerID: id, Region: region,
			Protocol: protocol, Port: port, Status: "Running"})
		for j, c := range certs[i] {
			r.certs[lid] = append(r.certs[lid], aliyun.ListenerCertificate{ID: c, Default: j == 0, Status: "Associated"})
		}
	}
	return ids
}

// fakeCAS is the CAS API of the albnlb port and the sweep's CertStore:
// certificates by CAS region.
type fakeCAS struct {
	mu       sync.Mutex
	certs    map[string][]aliyun.CASCertificate
	requests map[string]int // by CAS region
	fail     func(casRegion string) error
}

func newFakeCAS() *fakeCAS {
	return &fakeCAS{certs: map[string][]aliyun.CASCertificate{}, requests: map[string]int{}}
}

func (f *fakeCAS) ListCertificates(_ context.Context, region string) ([]aliyun.CASCertificate, error) {
	casRegion := aliyun.CASRegion(region)
	f.mu.Lock()
	list := append([]aliyun.CASCertificate(nil), f.certs[casRegion]...)
	f.requests[casRegion] += pages(len(list))
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(casRegion); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// add stores a certificate (seed makes its fingerprint) for the load
// balancers of region and returns its identity.
func (f *fakeCAS) add(region string, id int64, seed byte, notAfter time.Time, domains ...string) string {
	casRegion := aliyun.CASRegion(region)
	c := aliyun.CASCertificate{CertID: id, Region: casRegion, Identity: aliyun.CASIdentity(id, casRegion),
		Name: fmt.Sprintf("user-cert-%d", id), Fingerprint: fp(seed), CommonName: domains[0], SANs: domains,
		NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.certs[casRegion] = append(f.certs[casRegion], c)
	return c.Identity
}

// UploadCertificate stores a certificate under our CAS name (its content is
// not parsed: the fake knows no fingerprint of it).
func (f *fakeCAS) UploadCertificate(_ context.Context, region, pair, _, _ string) (aliyun.CASCertificate, error) {
	casRegion := aliyun.CASRegion(region)
	f.mu.Lock()
	defer f.mu.Unlock()
	id := int64(1000 + len(f.certs[casRegion]))
	c := aliyun.CASCertificate{CertID: id, Region: casRegion, Identity: aliyun.CASIdentity(id, casRegion), Name: pair}
	f.certs[casRegion] = append(f.certs[casRegion], c)
	return c, nil
}

// DeleteCertificate removes a certificate (gone: nil).
func (f *fakeCAS) DeleteCertificate(_ context.Context, cert aliyun.CASCertificate) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	list := f.certs[cert.Region]
	for i, c := range list {
		if c.Identity == cert.Identity {
			f.certs[cert.Region] = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	return nil
}

// lbPort is the albnlb port of product over the fakes: what the sweep reads.
func lbPort(product string, lb *fakeLB, cas *fakeCAS) *albnlb.Port {
	return albnlb.New(product, lb, cas)
}

// store is the sweep's CertStore over the fake, as shared/app wires it.
func (f *fakeCAS) store() albnlb.Store { return albnlb.Store{CAS: f} }
