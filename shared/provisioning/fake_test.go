package provisioning

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// fakeSLB is an in-memory SLB with a log of write actions and injectable
// failures per action name.
type fakeSLB struct {
	mu        sync.Mutex
	seq       int
	lbs       map[string]*fakeLB
	certs     map[string]clb.ServerCertificate
	tokens    map[string]string // client token -> lb id (kept after deletion, like the service)
	writes    []string
	fail      map[string]error // action -> error
	startPoll int              // describes needed before a started listener runs
}

type fakeLB struct {
	lb        clb.LoadBalancer
	backends  map[string]clb.Backend
	listeners map[int]*fakeListener
}

type fakeListener struct {
	l      clb.Listener
	polls  int
	exts   map[string]clb.DomainExtension // by id
	starts int
}

func newFake() *fakeSLB {
	return &fakeSLB{lbs: map[string]*fakeLB{}, certs: map[string]clb.ServerCertificate{}, tokens: map[string]string{}, fail: map[string]error{}, startPoll: 1}
}

func (f *fakeSLB) next(prefix string) string {
	f.seq++
	return fmt.Sprintf("%s-%04d", prefix, f.seq)
}

func (f *fakeSLB) write(action string) error {
	f.writes = append(f.writes, action)
	if err := f.fail[action]; err != nil {
		return err
	}
	return nil
}

func (f *fakeSLB) read(action string) error { return f.fail[action] }

func (f *fakeSLB) writeLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.writes...)
}

func (f *fakeSLB) resetLog() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = nil
}

func notFound(what string) error { return fmt.Errorf("fake: %s: %w", what, apierr.ErrNotFound) }

func (f *fakeSLB) ListLoadBalancers(ctx context.Context, region string) ([]clb.LoadBalancer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.read("DescribeLoadBalancers"); err != nil {
		return nil, err
	}
	var out []clb.LoadBalancer
	for _, lb := range f.lbs {
		if lb.lb.Region == region {
			out = append(out, lb.lb)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (f *fakeSLB) DescribeLoadBalancer(ctx context.Context, region, id string) (clb.LoadBalancer, []clb.Backend, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lb, ok := f.lbs[id]
	if !ok {
		return clb.LoadBalancer{}, nil, notFound(id)
	}
	var bs []clb.Backend
	for _, b := range lb.backends {
		bs = append(bs, b)
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].ServerID < bs[j].ServerID })
	return lb.lb, bs, nil
}

func (f *fakeSLB) CreateLoadBalancer(ctx context.Context, region string, spec InstanceSpec, token string) (clb.LoadBalancer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("CreateLoadBalancer"); err != nil {
		return clb.LoadBalancer{}, err
	}
	if id, ok := f.tokens[token]; ok {
		if lb, ok := f.lbs[id]; ok {
			return lb.lb, nil
		}
		return clb.LoadBalancer{ID: id, Name: spec.Name, Region: region}, nil
	}
	id := f.next("lb")
	lb := clb.LoadBalancer{ID: id, Name: spec.Name, Region: region, Address: fmt.Sprintf("127.0.0.%d", 10+f.seq%200),
		AddressType: spec.AddressType, Status: "active", Spec: spec.Spec, PayType: spec.PayType,
		MasterZone: spec.MasterZoneID, SlaveZone: spec.SlaveZoneID, Bandwidth: spec.Bandwidth, Tags: spec.Tags}
	f.lbs[id] = &fakeLB{lb: lb, backends: map[string]clb.Backend{}, listeners: map[int]*fakeListener{}}
	f.tokens[token] = id
	return lb, nil
}

func (f *fakeSLB) DeleteLoadBalancer(ctx context.Context, region, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("DeleteLoadBalancer"); err != nil {
		return err
	}
	if _, ok := f.lbs[id]; !ok {
		return notFound(id)
	}
	delete(f.lbs, id)
	return nil
}

func (f *fakeSLB) AddBackendServers(ctx context.Context, region, lbID string, b []clb.Backend) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("AddBackendServers"); err != nil {
		return err
	}
	lb, ok := f.lbs[lbID]
	if !ok {
		return notFound(lbID)
	}
	for _, x := range b {
		lb.backends[x.ServerID] = x
	}
	return nil
}

func (f *fakeSLB) RemoveBackendServers(ctx context.Context, region, lbID string, ids []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("RemoveBackendServers"); err != nil {
		return err
	}
	lb, ok := f.lbs[lbID]
	if !ok {
		return notFound(lbID)
	}
	for _, id := range ids {
		delete(lb.backends, id)
	}
	return nil
}

func (f *fakeSLB) ListHTTPSListeners(ctx context.Context, region string, lbIDs []string) ([]clb.Listener, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []clb.Listener
	for _, id := range lbIDs {
		if lb, ok := f.lbs[id]; ok {
			for _, l := range lb.listeners {
				out = append(out, l.l)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].LoadBalancerID+fmt.Sprint(out[i].Port) < out[j].LoadBalancerID+fmt.Sprint(out[j].Port)
	})
	return out, nil
}

func (f *fakeSLB) listener(lbID string, port int) (*fakeListener, error) {
	lb, ok := f.lbs[lbID]
	if !ok {
		return nil, notFound(lbID)
	}
	l, ok := lb.listeners[port]
	if !ok {
		return nil, notFound(fmt.Sprintf("listener %s:%d", lbID, port))
	}
	return l, nil
}

func (f *fakeSLB) extsOf(l *fakeListener) []clb.DomainExtension {
	var out []clb.DomainExtension
	for _, e := range l.exts {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Domain < out[j].Domain })
	return out
}

func (f *fakeSLB) DescribeHTTPSListener(ctx context.Context, region, lbID string, port int) (clb.Listener, []clb.DomainExtension, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.listener(lbID, port)
	if err != nil {
		return clb.Listener{}, nil, err
	}
	if l.l.Status == "starting" {
		l.polls++
		if l.polls >= f.startPoll {
			l.l.Status = "running"
		}
	}
	return l.l, f.extsOf(l), nil
}

func (f *fakeSLB) ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, err := f.listener(lbID, port)
	if err != nil {
		return nil, err
	}
	return f.extsOf(l), nil
}

func (f *fakeSLB) CreateHTTPSListener(ctx context.Context, region string, l clb.Listener) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("CreateLoadBalancerHTTPSListener"); err != nil {
		return err
	}
	lb, ok := f.lbs[l.LoadBalancerID]
	if !ok {
		return notFound(l.LoadBalancerID)
	}
	if _, dup := lb.listeners[l.Port]; dup {
		return fmt.Errorf("fake: listener exists: %w", apierr.ErrConflict)
	}
	if _, ok := f.certs[l.ServerCertificateID]; !ok {
		return notFound("certificate " + l.ServerCertificateID)
	}
	l.Status = "stopped"
	lb.listeners[l.Port] = &fakeListener{l: l, exts: map[string]clb.DomainExtension{}}
	return nil
}

func (f *fakeSLB) SetHTTPSListenerAttribute(ctx context.Context, region string, l clb.Listener) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("SetLoadBalancerHTTPSListenerAttribute"); err != nil {
		return err
	}
	cur, err := f.listener(l.LoadBalancerID, l.Port)
	if err != nil {
		return err
	}
	l.Status, l.BackendPort = cur.l.Status, cur.l.BackendPort
	cur.l = l
	return nil
}

func (f *fakeSLB) StartListener(ctx context.Context, region, lbID string, port int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("StartLoadBalancerListener"); err != nil {
		return err
	}
	l, err := f.listener(lbID, port)
	if err != nil {
		return err
	}
	l.l.Status = "starting"
	l.starts++
	return nil
}

func (f *fakeSLB) DeleteListener(ctx context.Context, region, lbID string, port int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("DeleteLoadBalancerListener"); err != nil {
		return err
	}
	if _, err := f.listener(lbID, port); err != nil {
		return err
	}
	delete(f.lbs[lbID].listeners, port)
	return nil
}

func (f *fakeSLB) CreateDomainExtension(ctx context.Context, region, lbID string, port int, domain, certID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("CreateDomainExtension"); err != nil {
		return "", err
	}
	l, err := f.listener(lbID, port)
	if err != nil {
		return "", err
	}
	id := f.next("de")
	l.exts[id] = clb.DomainExtension{ID: id, Region: region, LoadBalancerID: lbID, ListenerPort: port, Domain: domain, ServerCertificateID: certID}
	return id, nil
}

func (f *fakeSLB) findExt(id string) (*fakeListener, bool) {
	for _, lb := range f.lbs {
		for _, l := range lb.listeners {
			if _, ok := l.exts[id]; ok {
				return l, true
			}
		}
	}
	return nil, false
}

func (f *fakeSLB) SetDomainExtensionCertificate(ctx context.Context, region, extID, certID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("SetDomainExtensionAttribute"); err != nil {
		return err
	}
	l, ok := f.findExt(extID)
	if !ok {
		return notFound(extID)
	}
	e := l.exts[extID]
	e.ServerCertificateID = certID
	l.exts[extID] = e
	return nil
}

func (f *fakeSLB) DeleteDomainExtension(ctx context.Context, region, extID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("DeleteDomainExtension"); err != nil {
		return err
	}
	l, ok := f.findExt(extID)
	if !ok {
		return notFound(extID)
	}
	delete(l.exts, extID)
	return nil
}

func (f *fakeSLB) ListServerCertificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []clb.ServerCertificate
	for _, c := range f.certs {
		if c.Region == region {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func fakeFingerprint(certPEM string) string {
	b, _ := pem.Decode([]byte(certPEM))
	if b == nil {
		return ""
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return ""
	}
	return certs.FingerprintSHA1(c.Raw)
}

func (f *fakeSLB) UploadServerCertificate(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("UploadServerCertificate"); err != nil {
		return clb.ServerCertificate{}, err
	}
	if keyPEM == "" {
		return clb.ServerCertificate{}, fmt.Errorf("fake: no key: %w", apierr.ErrInvalid)
	}
	c := clb.ServerCertificate{ID: f.next("cert"), Name: name, Region: region, Fingerprint: fakeFingerprint(certPEM), Tags: tags, CreateTime: time.Now()}
	f.certs[c.ID] = c
	return c, nil
}

func (f *fakeSLB) DeleteServerCertificate(ctx context.Context, region, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.write("DeleteServerCertificate"); err != nil {
		return err
	}
	if _, ok := f.certs[id]; !ok {
		return nil
	}
	for _, lb := range f.lbs {
		for _, l := range lb.listeners {
			if l.l.ServerCertificateID == id {
				return fmt.Errorf("fake: certificate in use: %w", apierr.ErrConflict)
			}
			for _, e := range l.exts {
				if e.ServerCertificateID == id {
					return fmt.Errorf("fake: certificate in use: %w", apierr.ErrConflict)
				}
			}
		}
	}
	delete(f.certs, id)
	return nil
}

// fakePairs serves pairs by name.
type fakePairs struct {
	pairs map[string]Pair
	err   error
	calls int
}

func (p *fakePairs) LoadPair(ctx context.Context, name string, now time.Time) (Pair, error) {
	p.calls++
	if p.err != nil {
		return Pair{}, p.err
	}
	pair, ok := p.pairs[name]
	if !ok {
		return Pair{}, fmt.Errorf("fake: certs/%s/: no pair: %w", name, apierr.ErrNotFound)
	}
	return pair, nil
}
