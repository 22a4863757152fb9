package expiry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// fakeRegion is one region of the fake cloud.
type fakeRegion struct {
	certs     []clb.ServerCertificate
	lbs       []clb.LoadBalancer
	listeners map[string][]clb.Listener        // by LB id
	exts      map[string][]clb.DomainExtension // by "lb:port"
}

// fakeCloud implements Inventory with the paging of the real API and
// counts the requests it would take: DescribeLoadBalancers 100 per page,
// DescribeLoadBalancerListeners 10 LBs per call and 100 per cursor page.
type fakeCloud struct {
	mu       sync.Mutex
	regions  map[string]*fakeRegion
	requests map[string]int
	// fail returns an error for a call (method, region, detail) or nil.
	fail func(method, region, detail string) error
}

func newCloud() *fakeCloud {
	return &fakeCloud{regions: map[string]*fakeRegion{}, requests: map[string]int{}}
}

func (f *fakeCloud) hit(method, region, detail string, pages int) error {
	f.mu.Lock()
	f.requests[method] += pages
	fail := f.fail
	f.mu.Unlock()
	if fail != nil {
		if err := fail(method, region, detail); err != nil {
			return err
		}
	}
	if _, ok := f.regions[region]; !ok {
		return fmt.Errorf("InvalidRegionId: region %s: %w", region, apierr.ErrInvalid)
	}
	return nil
}

func (f *fakeCloud) ListServerCertificates(_ context.Context, region string) ([]clb.ServerCertificate, error) {
	if err := f.hit("DescribeServerCertificates", region, "", 1); err != nil {
		return nil, err
	}
	return append([]clb.ServerCertificate(nil), f.regions[region].certs...), nil
}

func (f *fakeCloud) ListLoadBalancers(_ context.Context, region string) ([]clb.LoadBalancer, error) {
	r := f.regions[region]
	pages := 1
	if r != nil && len(r.lbs) > 100 {
		pages = (len(r.lbs) + 99) / 100
	}
	if err := f.hit("DescribeLoadBalancers", region, "", pages); err != nil {
		return nil, err
	}
	return append([]clb.LoadBalancer(nil), r.lbs...), nil
}

func (f *fakeCloud) ListHTTPSListeners(_ context.Context, region string, ids []string) ([]clb.Listener, error) {
	if len(ids) > 10 {
		return nil, fmt.Errorf("LoadBalancerId.N takes at most 10 ids, got %d: %w", len(ids), apierr.ErrInvalid)
	}
	var out []clb.Listener
	if r := f.regions[region]; r != nil {
		for _, id := range ids {
			out = append(out, r.listeners[id]...)
		}
	}
	pages := max(1, (len(out)+99)/100)
	if err := f.hit("DescribeLoadBalancerListeners", region, strings.Join(ids, ","), pages); err != nil {
		return nil, err
	}
	return out, nil
}

func (f *fakeCloud) ListDomainExtensions(_ context.Context, region, lbID string, port int) ([]clb.DomainExtension, error) {
	key := fmt.Sprintf("%s:%d", lbID, port)
	if err := f.hit("DescribeDomainExtensions", region, key, 1); err != nil {
		return nil, err
	}
	return append([]clb.DomainExtension(nil), f.regions[region].exts[key]...), nil
}

func (f *fakeCloud) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, v := range f.requests {
		n += v
	}
	return n
}

// fp builds a fake SHA-1 fingerprint in SLB's colon format from a seed.
func fp(seed byte) string {
	parts := make([]string, 20)
	for i := range parts {
		parts[i] = fmt.Sprintf("%02x", seed)
	}
	return strings.Join(parts, ":")
}

// addRegion seeds a region with nLB load balancers, each with nL HTTPS
// listeners on ports 443, 444, ... serving cert (and no extensions).
func (f *fakeCloud) addRegion(region string, nLB, nL int, certs ...clb.ServerCertificate) *fakeRegion {
	r := &fakeRegion{certs: certs, listeners: map[string][]clb.Listener{}, exts: map[string][]clb.DomainExtension{}}
	for i := 0; i < nLB; i++ {
		id := fmt.Sprintf("lb-%s-%03d", region, i)
		r.lbs = append(r.lbs, clb.LoadBalancer{ID: id, Region: region, Address: fmt.Sprintf("127.0.%d.%d", len(f.regions)+1, i+1)})
		for p := 0; p < nL; p++ {
			r.listeners[id] = append(r.listeners[id], clb.Listener{Region: region, LoadBalancerID: id, Port: 443 + p,
				Protocol: "https", Status: "running", ServerCertificateID: certs[0].ID})
		}
	}
	f.regions[region] = r
	return r
}

func cert(id string, seed byte, notAfter time.Time, domains ...string) clb.ServerCertificate {
	return clb.ServerCertificate{ID: id, Name: id, Fingerprint: fp(seed), CommonName: domains[0], SANs: domains, ExpireTime: notAfter}
}

// memObjects is an in-memory bucket.
type memObjects struct {
	mu   sync.Mutex
	objs map[string][]byte
	puts int
	// failPut, when set, makes every Put fail.
	failPut error
}

func newObjects() *memObjects { return &memObjects{objs: map[string][]byte{}} }

func (m *memObjects) Get(_ context.Context, bucket, key string, maxSize int64) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[bucket+"/"+key]
	if !ok {
		return nil, fmt.Errorf("oss: get %s: %w", key, apierr.ErrNotFound)
	}
	if int64(len(b)) > maxSize {
		return nil, apierr.ErrInvalid
	}
	return append([]byte(nil), b...), nil
}

func (m *memObjects) Put(_ context.Context, bucket, key string, data []byte, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPut != nil {
		return m.failPut
	}
	m.puts++
	m.objs[bucket+"/"+key] = append([]byte(nil), data...)
	return nil
}

// staticPairs returns fixed candidates.
type staticPairs []Candidate

func (p staticPairs) Candidates(context.Context, time.Time) ([]Candidate, error) { return p, nil }

// fakeRotator records the pair names it was asked to rotate and the
// places pinned away from each.
type fakeRotator struct {
	mu     sync.Mutex
	names  []string
	pinned map[string][]clb.Target
	err    error
}

func (r *fakeRotator) RotateName(_ context.Context, _ time.Time, name string, pinned []clb.Target) (RotationOutcome, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names = append(r.names, name)
	if r.pinned == nil {
		r.pinned = map[string][]clb.Target{}
	}
	r.pinned[name] = pinned
	if r.err != nil {
		return RotationOutcome{}, r.err
	}
	return RotationOutcome{Status: "rotated", Detail: "2 targets switched", OK: true}, nil
}

// mapProber serves fingerprints by "address:port/sni"; missing entries are
// unreachable. served maps to the fingerprint, "" key part for no SNI.
type mapProber struct {
	mu     sync.Mutex
	served map[string]string
	dials  []string
}

func (p *mapProber) Probe(_ context.Context, address string, port int, sni string, _ time.Duration) ProbeResult {
	k := fmt.Sprintf("%s:%d/%s", address, port, sni)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dials = append(p.dials, k)
	if v, ok := p.served[k]; ok {
		return ProbeResult{Reachable: true, FingerprintSHA1: v}
	}
	if v, ok := p.served[fmt.Sprintf("%s:%d/*", address, port)]; ok {
		return ProbeResult{Reachable: true, FingerprintSHA1: v}
	}
	return ProbeResult{Err: "connection refused"}
}

func clbExt(domain, certID string) clb.DomainExtension {
	return clb.DomainExtension{ID: "de-" + domain, Domain: domain, ServerCertificateID: certID}
}
