package expiry

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// fakeCloud is the one fake SLB (clbtest.SLB: the API's pages
// counted, 10 load balancers per listener listing enforced) seeded region
// by region; a region it was not given answers InvalidRegionId (permanent)
// as the API does, and fail, when set, fails a listing (method, region,
// detail: the ids of a listener listing joined by ",", "lb:port" of an
// extension listing).
type fakeCloud struct {
	*clbtest.SLB
	known map[string]bool
	fail  func(method, region, detail string) error
}

func newCloud() *fakeCloud {
	f := &fakeCloud{SLB: &clbtest.SLB{MaxListenerIDs: 10}, known: map[string]bool{}}
	f.FailCall = func(method, region, detail string) error {
		if f.fail != nil {
			if err := f.fail(method, region, detail); err != nil {
				return err
			}
		}
		if !f.known[region] {
			return fmt.Errorf("InvalidRegionId: region %s: %w", region, apierr.ErrInvalid)
		}
		return nil
	}
	return f
}

// reader is the cloud as the sweep reads it.
func (f *fakeCloud) reader() inventory.Reader { return inventory.CLB{API: f} }

// total is how many API requests were made.
func (f *fakeCloud) total() int {
	n := 0
	for _, v := range f.CallCounts() {
		n += v
	}
	return n
}

// fakeRegion is one seeded region of a fakeCloud.
type fakeRegion struct {
	cloud  *fakeCloud
	region string
	lbs    []clb.LoadBalancer
}

// addRegion seeds a region with nLB load balancers, each with nL HTTPS
// listeners on ports 443, 444, ... serving certs[0] (and no extensions).
func (f *fakeCloud) addRegion(region string, nLB, nL int, certs ...clb.ServerCertificate) *fakeRegion {
	r := &fakeRegion{cloud: f, region: region}
	for _, c := range certs {
		c.Region = region
		f.AddCertificate(c)
	}
	for i := 0; i < nLB; i++ {
		id := fmt.Sprintf("lb-%s-%03d", region, i)
		lb := clb.LoadBalancer{ID: id, Region: region, Address: fmt.Sprintf("127.0.%d.%d", len(f.known)+1, i+1)}
		r.lbs = append(r.lbs, lb)
		f.AddLoadBalancer(lb)
		for p := 0; p < nL; p++ {
			f.AddListener(clb.Listener{Region: region, LoadBalancerID: id, Port: 443 + p, Status: "running", ServerCertificateID: certs[0].ID})
		}
	}
	f.known[region] = true
	return r
}

// addExtensions adds domain extensions to listener lbID:port.
func (r *fakeRegion) addExtensions(lbID string, port int, exts ...clb.DomainExtension) {
	for _, e := range exts {
		e.Region, e.LoadBalancerID, e.ListenerPort = r.region, lbID, port
		r.cloud.AddExtension(e)
	}
}

// setListenerCertificate points listener lbID:port at certID (not counted).
func (r *fakeRegion) setListenerCertificate(lbID string, port int, certID string) {
	if err := r.cloud.SetListenerCertificate(context.Background(), r.region, lbID, port, certID); err != nil {
		panic(err)
	}
	r.cloud.ResetCalls()
}

// addListener adds an HTTPS listener.
func (r *fakeRegion) addListener(l clb.Listener) {
	l.Region = r.region
	r.cloud.AddListener(l)
}

// fp builds a fake SHA-1 fingerprint in SLB's colon format from a seed.
func fp(seed byte) string {
	parts := make([]string, 20)
	for i := range parts {
		parts[i] = fmt.Sprintf("%02x", seed)
	}
	return strings.Join(parts, ":")
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

func (r *fakeRotator) RotateName(_ context.Context, _ time.Time, name string, pinned []clb.Target, _ rotation.Snapshots) (RotationOutcome, error) {
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
