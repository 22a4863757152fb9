// Package rotationtest provides in-memory fakes of the interfaces package
// rotation consumes (object store, SLB API, TLS prober), for unit tests of
// the rotation and of the use cases built on it.
package rotationtest

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease/leasetest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// Objects is an in-memory bucket store implementing pairs.ObjectReader.
type Objects struct {
	mu   sync.Mutex
	data map[string][]byte
	gets []string
	// Err, when set, is returned by every call.
	Err error
}

var _ pairs.ObjectReader = (*Objects)(nil)

// Put stores an object.
func (o *Objects) Put(bucket, key string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.data == nil {
		o.data = map[string][]byte{}
	}
	o.data[bucket+"\x00"+key] = append([]byte(nil), data...)
}

// Delete removes an object.
func (o *Objects) Delete(bucket, key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.data, bucket+"\x00"+key)
}

// Gets returns the keys read so far (bucket/key).
func (o *Objects) Gets() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.gets...)
}

// Get implements pairs.ObjectReader.
func (o *Objects) Get(_ context.Context, bucket, key string, maxSize int64) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gets = append(o.gets, bucket+"/"+key)
	if o.Err != nil {
		return nil, o.Err
	}
	d, ok := o.data[bucket+"\x00"+key]
	if !ok {
		return nil, fmt.Errorf("fake oss: get %s/%s: %w", bucket, key, apierr.ErrNotFound)
	}
	if int64(len(d)) > maxSize {
		return nil, fmt.Errorf("fake oss: %s/%s is %d bytes, over %d: %w", bucket, key, len(d), maxSize, apierr.ErrInvalid)
	}
	return append([]byte(nil), d...), nil
}

// ListKeys implements pairs.ObjectReader.
func (o *Objects) ListKeys(_ context.Context, bucket, prefix string) ([]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Err != nil {
		return nil, o.Err
	}
	var keys []string
	for k := range o.data {
		b, key, _ := strings.Cut(k, "\x00")
		if b == bucket && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// SLB is an in-memory Classic Load Balancer implementing rotation.SLB.
// Fields may be set up directly before use; methods are safe for
// concurrent use.
type SLB struct {
	mu        sync.Mutex
	certs     []clb.ServerCertificate
	lbs       []clb.LoadBalancer
	listeners []clb.Listener
	exts      []clb.DomainExtension
	extsAt    map[string][]int // indexes into exts by listener (extKey)
	next      int
	calls     map[string]int
	// Quota is the number of certificates per region (default 100).
	Quota int
	// Fail, when set, is called before every action; an error it returns
	// is the action's result.
	Fail func(action string) error
	// FailCall, when set, is called before every listing with its region
	// and detail (the load balancer ids joined by "," of a listener listing,
	// "lb:port" of an extension listing, "" otherwise), after Fail.
	FailCall func(action, region, detail string) error
	// MaxListenerIDs, when set, refuses a listener listing of more load
	// balancers (the API's own limit, for tests of a caller's batching).
	MaxListenerIDs int
	// Clock gives CreateTime to uploads (default time.Now).
	Clock func() time.Time
}

var _ rotation.SLB = (*SLB)(nil)

func (s *SLB) enter(action string) error { return s.count(action, 1) }

// count counts n calls of action and asks Fail.
func (s *SLB) count(action string, n int) error {
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[action] += n
	if s.Fail != nil {
		return s.Fail(action)
	}
	return nil
}

// enterPages counts pages calls of a listing (the API's pages) and asks
// Fail and FailCall.
func (s *SLB) enterPages(action, region, detail string, pages int) error {
	if err := s.count(action, pages); err != nil {
		return err
	}
	if s.FailCall != nil {
		return s.FailCall(action, region, detail)
	}
	return nil
}

// pages is how many pages of size a listing of n items takes (at least one).
func pages(n, size int) int { return max(1, (n+size-1)/size) }

// CallCounts returns how often each action was called (a copy).
func (s *SLB) CallCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for a, n := range s.calls {
		out[a] = n
	}
	return out
}

// ResetCalls forgets the calls counted so far.
func (s *SLB) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Calls returns how often an action was called.
func (s *SLB) Calls(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[action]
}

// AddCertificate stores a certificate as is (ID generated when empty) and
// returns its id.
func (s *SLB) AddCertificate(c clb.ServerCertificate) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ID == "" {
		s.next++
		c.ID = fmt.Sprintf("cert-%04d", s.next)
	}
	s.certs = append(s.certs, c)
	return c.ID
}

// CertificateFromPEM describes a PEM chain the way SLB lists it.
func CertificateFromPEM(region, name, certPEM string) (clb.ServerCertificate, error) {
	blk, _ := pem.Decode([]byte(certPEM))
	if blk == nil {
		return clb.ServerCertificate{}, fmt.Errorf("fake slb: no PEM certificate: %w", apierr.ErrInvalid)
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return clb.ServerCertificate{}, fmt.Errorf("fake slb: %v: %w", err, apierr.ErrInvalid)
	}
	return clb.ServerCertificate{Name: name, Region: region, Fingerprint: Fingerprint(leaf.Raw),
		CommonName: leaf.Subject.CommonName, SANs: leaf.DNSNames, ExpireTime: leaf.NotAfter}, nil
}

// Fingerprint is SLB's colon hex SHA-1 of a DER certificate.
func Fingerprint(der []byte) string {
	sum := sha1.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = hex.EncodeToString([]byte{b})
	}
	return strings.Join(parts, ":")
}

// AddLoadBalancer stores a load balancer.
func (s *SLB) AddLoadBalancer(lb clb.LoadBalancer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lbs = append(s.lbs, lb)
}

// AddListener stores an HTTPS listener (Status defaults to running).
func (s *SLB) AddListener(l clb.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.Status == "" {
		l.Status = "running"
	}
	l.Protocol = "https"
	s.listeners = append(s.listeners, l)
}

// AddExtension stores a domain extension (ID generated when empty).
func (s *SLB) AddExtension(e clb.DomainExtension) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.ID == "" {
		s.next++
		e.ID = fmt.Sprintf("de-%04d", s.next)
	}
	if s.extsAt == nil {
		s.extsAt = map[string][]int{}
	}
	k := extKey(e.Region, e.LoadBalancerID, e.ListenerPort)
	s.extsAt[k] = append(s.extsAt[k], len(s.exts))
	s.exts = append(s.exts, e)
	return e.ID
}

// Certificates returns the certificates of a region.
func (s *SLB) Certificates(region string) []clb.ServerCertificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []clb.ServerCertificate
	for _, c := range s.certs {
		if c.Region == region {
			out = append(out, c)
		}
	}
	return out
}

// ListenerCertificate returns the certificate id of a listener ("" if none).
func (s *SLB) ListenerCertificate(region, lbID string, port int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.Region == region && l.LoadBalancerID == lbID && l.Port == port {
			return l.ServerCertificateID
		}
	}
	return ""
}

// ExtensionCertificate returns the certificate id of a domain extension.
func (s *SLB) ExtensionCertificate(extID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.exts {
		if e.ID == extID {
			return e.ServerCertificateID
		}
	}
	return ""
}

// ListServerCertificates implements rotation.CertificateStore.
func (s *SLB) ListServerCertificates(_ context.Context, region string) ([]clb.ServerCertificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enterPages("DescribeServerCertificates", region, "", 1); err != nil {
		return nil, err
	}
	var out []clb.ServerCertificate
	for _, c := range s.certs {
		if c.Region == region {
			out = append(out, c)
		}
	}
	return out, nil
}

// UploadServerCertificate implements rotation.CertificateStore.
func (s *SLB) UploadServerCertificate(_ context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error) {
	c, err := CertificateFromPEM(region, name, certPEM)
	if err != nil {
		return clb.ServerCertificate{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("UploadServerCertificate"); err != nil {
		return clb.ServerCertificate{}, err
	}
	if !strings.Contains(keyPEM, "BEGIN RSA PRIVATE KEY") {
		return clb.ServerCertificate{}, fmt.Errorf("fake slb: key is not PKCS#1: %w", apierr.ErrInvalid)
	}
	quota, n := s.Quota, 0
	if quota == 0 {
		quota = 100
	}
	for _, x := range s.certs {
		if x.Region == region {
			n++
		}
	}
	if n >= quota {
		return clb.ServerCertificate{}, fmt.Errorf("fake slb: %d certificates in %s: %w", n, region, apierr.ErrQuota)
	}
	s.next++
	c.ID = fmt.Sprintf("cert-%04d", s.next)
	c.Tags = map[string]string{}
	for k, v := range tags {
		c.Tags[k] = v
	}
	if s.Clock != nil {
		c.CreateTime = s.Clock()
	} else {
		c.CreateTime = time.Now()
	}
	s.certs = append(s.certs, c)
	return c, nil
}

// DeleteServerCertificate implements rotation.CertificateStore.
func (s *SLB) DeleteServerCertificate(_ context.Context, region, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DeleteServerCertificate"); err != nil {
		return err
	}
	for _, l := range s.listeners {
		if l.ServerCertificateID == id {
			return fmt.Errorf("fake slb: %s is used by %s:%d: %w", id, l.LoadBalancerID, l.Port, apierr.ErrConflict)
		}
	}
	for _, e := range s.exts {
		if e.ServerCertificateID == id {
			return fmt.Errorf("fake slb: %s is used by extension %s: %w", id, e.ID, apierr.ErrConflict)
		}
	}
	for i, c := range s.certs {
		if c.ID == id && c.Region == region {
			s.certs = append(s.certs[:i], s.certs[i+1:]...)
			return nil
		}
	}
	return nil
}

// ListLoadBalancers implements rotation.ListenerInventory; it counts one
// DescribeLoadBalancers call per page of 100.
func (s *SLB) ListLoadBalancers(_ context.Context, region string) ([]clb.LoadBalancer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []clb.LoadBalancer
	for _, lb := range s.lbs {
		if lb.Region == region {
			out = append(out, lb)
		}
	}
	if err := s.enterPages("DescribeLoadBalancers", region, "", pages(len(out), 100)); err != nil {
		return nil, err
	}
	return out, nil
}

// ListHTTPSListeners implements rotation.ListenerInventory. Like the
// adapter it counts one DescribeLoadBalancerListeners call per 10 load
// balancer ids and cursor page of 100 listeners (none for no id).
func (s *SLB) ListHTTPSListeners(_ context.Context, region string, lbIDs []string) ([]clb.Listener, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.MaxListenerIDs > 0 && len(lbIDs) > s.MaxListenerIDs {
		return nil, fmt.Errorf("fake slb: LoadBalancerId.N takes at most %d ids, got %d: %w", s.MaxListenerIDs, len(lbIDs), apierr.ErrInvalid)
	}
	var out []clb.Listener
	for i := 0; i < len(lbIDs); i += 10 {
		group := lbIDs[i:min(i+10, len(lbIDs))]
		want := map[string]bool{}
		for _, id := range group {
			want[id] = true
		}
		var got []clb.Listener
		for _, l := range s.listeners {
			if l.Region == region && want[l.LoadBalancerID] {
				got = append(got, l)
			}
		}
		if err := s.enterPages("DescribeLoadBalancerListeners", region, strings.Join(group, ","), pages(len(got), 100)); err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// ListDomainExtensions implements rotation.ListenerInventory.
func (s *SLB) ListDomainExtensions(_ context.Context, region, lbID string, port int) ([]clb.DomainExtension, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enterPages("DescribeDomainExtensions", region, lbID+":"+strconv.Itoa(port), 1); err != nil {
		return nil, err
	}
	return s.extsOf(region, lbID, port), nil
}

func (s *SLB) extsOf(region, lbID string, port int) []clb.DomainExtension {
	var out []clb.DomainExtension
	for _, i := range s.extsAt[extKey(region, lbID, port)] {
		out = append(out, s.exts[i])
	}
	return out
}

func extKey(region, lbID string, port int) string {
	return region + "/" + lbID + "/" + strconv.Itoa(port)
}

// DescribeHTTPSListener implements rotation.ListenerInventory.
func (s *SLB) DescribeHTTPSListener(_ context.Context, region, lbID string, port int) (clb.Listener, []clb.DomainExtension, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DescribeLoadBalancerHTTPSListenerAttribute"); err != nil {
		return clb.Listener{}, nil, err
	}
	for _, l := range s.listeners {
		if l.Region == region && l.LoadBalancerID == lbID && l.Port == port {
			return l, s.extsOf(region, lbID, port), nil
		}
	}
	return clb.Listener{}, nil, fmt.Errorf("fake slb: listener %s/%s:%d: %w", region, lbID, port, apierr.ErrNotFound)
}

func (s *SLB) certExists(region, id string) bool {
	for _, c := range s.certs {
		if c.ID == id && c.Region == region {
			return true
		}
	}
	return false
}

// SetListenerCertificate implements rotation.CertificateSwitcher.
func (s *SLB) SetListenerCertificate(_ context.Context, region, lbID string, port int, certID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("SetLoadBalancerHTTPSListenerAttribute"); err != nil {
		return err
	}
	if !s.certExists(region, certID) {
		return fmt.Errorf("fake slb: certificate %s not in %s: %w", certID, region, apierr.ErrNotFound)
	}
	for i, l := range s.listeners {
		if l.Region == region && l.LoadBalancerID == lbID && l.Port == port {
			s.listeners[i].ServerCertificateID = certID
			return nil
		}
	}
	return fmt.Errorf("fake slb: listener %s/%s:%d: %w", region, lbID, port, apierr.ErrNotFound)
}

// SetDomainExtensionCertificate implements rotation.CertificateSwitcher.
func (s *SLB) SetDomainExtensionCertificate(_ context.Context, region, extID, certID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("SetDomainExtensionAttribute"); err != nil {
		return err
	}
	if !s.certExists(region, certID) {
		return fmt.Errorf("fake slb: certificate %s not in %s: %w", certID, region, apierr.ErrNotFound)
	}
	for i, e := range s.exts {
		if e.ID == extID && e.Region == region {
			s.exts[i].ServerCertificateID = certID
			return nil
		}
	}
	return fmt.Errorf("fake slb: domain extension %s: %w", extID, apierr.ErrNotFound)
}

// Prober answers handshakes from the fake SLB's state: the extension whose
// domain matches the SNI, else the listener's default certificate.
type Prober struct {
	SLB *SLB
	mu  sync.Mutex
	// Stale maps "address:port" to a fingerprint served whatever the API
	// says (a frontend that did not pick up the change).
	Stale map[string]string
	// Unreachable addresses time out.
	Unreachable map[string]bool
	probes      []string
}

// Probes returns "address:port sni" for every probe made.
func (p *Prober) Probes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.probes...)
}

// Probe implements rotation.Prober.
func (p *Prober) Probe(_ context.Context, address string, port int, serverName string, _ time.Duration) rotation.ProbeResult {
	p.mu.Lock()
	p.probes = append(p.probes, fmt.Sprintf("%s:%d %s", address, port, serverName))
	stale, isStale := p.Stale[fmt.Sprintf("%s:%d", address, port)]
	unreachable := p.Unreachable[address]
	p.mu.Unlock()
	if unreachable {
		return rotation.ProbeResult{Err: "timeout"}
	}
	if isStale {
		return rotation.ProbeResult{Reachable: true, FingerprintSHA1: stale}
	}
	s := p.SLB
	s.mu.Lock()
	defer s.mu.Unlock()
	var lbID, region string
	for _, lb := range s.lbs {
		if lb.Address == address {
			lbID, region = lb.ID, lb.Region
		}
	}
	var certID string
	for _, l := range s.listeners {
		if l.Region == region && l.LoadBalancerID == lbID && l.Port == port {
			certID = l.ServerCertificateID
		}
	}
	if certID == "" {
		return rotation.ProbeResult{Err: "connection refused"}
	}
	for _, e := range s.extsOf(region, lbID, port) {
		if serverName != "" && matches(e.Domain, serverName) {
			certID = e.ServerCertificateID
			break
		}
	}
	for _, c := range s.certs {
		if c.ID == certID {
			return rotation.ProbeResult{Reachable: true, FingerprintSHA1: c.Fingerprint}
		}
	}
	return rotation.ProbeResult{Reachable: true, Err: "no certificate"}
}

func matches(pattern, host string) bool {
	pattern, host = strings.ToLower(pattern), strings.ToLower(host)
	if pattern == host {
		return true
	}
	rest, ok := strings.CutPrefix(pattern, "*.")
	_, hostRest, found := strings.Cut(host, ".")
	return ok && found && hostRest == rest
}

// Locks is the in-memory lock store (lease.Store) of package leasetest.
type Locks = leasetest.Store
