// Package clbtest provides an in-memory Classic Load Balancer: one fake of
// every CLB port the use cases consume (the rotation's certificate store,
// inventory and switcher; provisioning's instances, backends, listeners,
// domain extensions and certificates), with call counts, a log of write
// actions and fault hooks per action.
package clbtest

import (
	"context"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// SLB is an in-memory Classic Load Balancer with the method set of
// *aliyun.SLB.
// Its zero value is ready; fields may be set up directly before use;
// methods are safe for concurrent use. Every method counts one call of the
// API action the adapter makes (CallCounts) and, for a write, logs it
// (Writes) before the fault hooks (FailOn, Fail) decide its answer.
type SLB struct {
	mu        sync.Mutex
	certs     []clb.ServerCertificate
	lbs       []clb.LoadBalancer
	listeners []clb.Listener
	exts      []clb.DomainExtension
	extsAt    map[string][]int // indexes into exts by listener (extKey)
	next      int
	calls     map[string]int
	writes    []string
	failOn    map[string]error
	backends  map[string][]clb.Backend // load balancer id -> backends
	tokens    map[string]string        // client token -> load balancer id (kept after deletion, like the service)
	polls     map[string]int           // "lb:port" -> describes of a starting listener
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
	// StartPolls is the DescribeHTTPSListener call, counted from
	// StartListener, from which a started listener is "running" (before
	// it: "starting"); 0 or 1: the first describe already sees it running.
	StartPolls int
}

// enter counts one call of action (see count).
func (s *SLB) enter(action string) error { return s.count(action, 1) }

// count counts n calls of action, logs it when it is a write, and returns
// the error the fault hooks give it (FailOn first, then Fail).
func (s *SLB) count(action string, n int) error {
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	s.calls[action] += n
	if IsWrite(action) {
		s.writes = append(s.writes, action)
	}
	if err := s.failOn[action]; err != nil {
		return err
	}
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

// inRegion returns the elements of xs in region (a new slice).
func inRegion[T any](xs []T, region string, regionOf func(T) string) []T {
	var out []T
	for _, x := range xs {
		if regionOf(x) == region {
			out = append(out, x)
		}
	}
	return out
}

func certRegion(c clb.ServerCertificate) string { return c.Region }
func lbRegion(lb clb.LoadBalancer) string       { return lb.Region }

// IsWrite reports whether an SLB action changes state (every action but
// Describe* and List*).
func IsWrite(action string) bool {
	return !strings.HasPrefix(action, "Describe") && !strings.HasPrefix(action, "List")
}

// FailOn makes every later call of action answer err (nil: answer
// normally again). The call is still counted and, for a write, logged.
func (s *SLB) FailOn(action string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failOn == nil {
		s.failOn = map[string]error{}
	}
	if err == nil {
		delete(s.failOn, action)
		return
	}
	s.failOn[action] = err
}

// Writes returns the write actions called so far, in order (failed ones
// included).
func (s *SLB) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

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

// ResetCalls forgets the calls counted and the writes logged so far.
func (s *SLB) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.writes = nil, nil
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
	s.addExt(e)
	return e.ID
}

// Certificates returns the certificates of a region.
func (s *SLB) Certificates(region string) []clb.ServerCertificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return inRegion(s.certs, region, certRegion)
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

// ListServerCertificates lists a region's certificates (DescribeServerCertificates).
func (s *SLB) ListServerCertificates(_ context.Context, region string) ([]clb.ServerCertificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enterPages("DescribeServerCertificates", region, "", 1); err != nil {
		return nil, err
	}
	return inRegion(s.certs, region, certRegion), nil
}

// UploadServerCertificate stores a certificate (PKCS#1 RSA keys only, like
// CLB; Quota per region), tagged as asked.
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

// DeleteServerCertificate deletes a certificate: in use by a listener or a
// domain extension is ErrConflict, not found is nil.
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

// ListLoadBalancers lists a region's load balancers; it counts one
// DescribeLoadBalancers call per page of 100.
func (s *SLB) ListLoadBalancers(_ context.Context, region string) ([]clb.LoadBalancer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := inRegion(s.lbs, region, lbRegion)
	if err := s.enterPages("DescribeLoadBalancers", region, "", pages(len(out), 100)); err != nil {
		return nil, err
	}
	return out, nil
}

// ListHTTPSListeners lists the HTTPS listeners of lbIDs. Like the
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

// ListDomainExtensions lists one listener's domain extensions.
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

// extKey is the key of a listener in the extension index extsAt.
func extKey(region, lbID string, port int) string {
	return region + "/" + lbID + "/" + strconv.Itoa(port)
}

// addExt stores a domain extension and indexes it by its listener.
func (s *SLB) addExt(e clb.DomainExtension) {
	if s.extsAt == nil {
		s.extsAt = map[string][]int{}
	}
	k := extKey(e.Region, e.LoadBalancerID, e.ListenerPort)
	s.extsAt[k] = append(s.extsAt[k], len(s.exts))
	s.exts = append(s.exts, e)
}

// dropExts deletes the domain extensions drop reports, rebuilds the index
// (the positions of the others shift) and returns how many went.
func (s *SLB) dropExts(drop func(clb.DomainExtension) bool) int {
	n := len(s.exts)
	s.exts = without(s.exts, drop)
	if len(s.exts) == n {
		return 0
	}
	s.extsAt = make(map[string][]int, len(s.extsAt))
	for i, e := range s.exts {
		k := extKey(e.Region, e.LoadBalancerID, e.ListenerPort)
		s.extsAt[k] = append(s.extsAt[k], i)
	}
	return n - len(s.exts)
}

// DescribeHTTPSListener reads one listener and its domain extensions; a
// starting listener is running from the StartPolls-th describe on.
func (s *SLB) DescribeHTTPSListener(_ context.Context, region, lbID string, port int) (clb.Listener, []clb.DomainExtension, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DescribeLoadBalancerHTTPSListenerAttribute"); err != nil {
		return clb.Listener{}, nil, err
	}
	i := s.listenerAt(region, lbID, port)
	if i < 0 {
		return clb.Listener{}, nil, fmt.Errorf("fake slb: listener %s/%s:%d: %w", region, lbID, port, apierr.ErrNotFound)
	}
	if l := &s.listeners[i]; l.Status == "starting" {
		key := fmt.Sprintf("%s:%d", lbID, port)
		if s.polls == nil {
			s.polls = map[string]int{}
		}
		s.polls[key]++
		if s.polls[key] >= max(s.StartPolls, 1) {
			l.Status = "running"
		}
	}
	return s.listeners[i], s.extsOf(region, lbID, port), nil
}

// listenerAt is the index of a listener in s.listeners, -1 if none.
func (s *SLB) listenerAt(region, lbID string, port int) int {
	for i, l := range s.listeners {
		if l.Region == region && l.LoadBalancerID == lbID && l.Port == port {
			return i
		}
	}
	return -1
}

func (s *SLB) certExists(region, id string) bool {
	for _, c := range s.certs {
		if c.ID == id && c.Region == region {
			return true
		}
	}
	return false
}

// SetListenerCertificate switches a listener's default certificate.
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

// SetDomainExtensionCertificate switches a domain extension's certificate.
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
