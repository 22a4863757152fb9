package clbtest

import (
	"context"
	"fmt"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Listener returns a listener by load balancer id and port.
func (s *SLB) Listener(lbID string, port int) (clb.Listener, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.listeners {
		if l.LoadBalancerID == lbID && l.Port == port {
			return l, true
		}
	}
	return clb.Listener{}, false
}

// EditListener changes a listener in place without an API call (drift
// made by someone else); false when there is no such listener.
func (s *SLB) EditListener(lbID string, port int, edit func(*clb.Listener)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, l := range s.listeners {
		if l.LoadBalancerID == lbID && l.Port == port {
			edit(&s.listeners[i])
			return true
		}
	}
	return false
}

// Certificate returns a certificate by id.
func (s *SLB) Certificate(id string) (clb.ServerCertificate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.certs {
		if c.ID == id {
			return c, true
		}
	}
	return clb.ServerCertificate{}, false
}

// CreateHTTPSListener creates a stopped HTTPS listener on an existing load
// balancer with an existing certificate (one on the port: ErrConflict).
func (s *SLB) CreateHTTPSListener(_ context.Context, region string, l clb.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("CreateLoadBalancerHTTPSListener"); err != nil {
		return err
	}
	if s.lbAt(region, l.LoadBalancerID) < 0 {
		return notFound("load balancer " + l.LoadBalancerID)
	}
	if s.listenerAt(region, l.LoadBalancerID, l.Port) >= 0 {
		return fmt.Errorf("fake slb: listener %s:%d exists: %w", l.LoadBalancerID, l.Port, apierr.ErrConflict)
	}
	if !s.certExists(region, l.ServerCertificateID) {
		return notFound("certificate " + l.ServerCertificateID)
	}
	l.Region, l.Protocol, l.Status = region, "https", "stopped"
	s.listeners = append(s.listeners, l)
	return nil
}

// SetHTTPSListenerAttribute replaces a listener's settings; its status
// and backend port stay (the API cannot change them).
func (s *SLB) SetHTTPSListenerAttribute(_ context.Context, region string, l clb.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("SetLoadBalancerHTTPSListenerAttribute"); err != nil {
		return err
	}
	i := s.listenerAt(region, l.LoadBalancerID, l.Port)
	if i < 0 {
		return notFound(fmt.Sprintf("listener %s:%d", l.LoadBalancerID, l.Port))
	}
	if l.ServerCertificateID != "" && !s.certExists(region, l.ServerCertificateID) {
		return notFound("certificate " + l.ServerCertificateID)
	}
	cur := s.listeners[i]
	l.Region, l.Protocol, l.Status, l.BackendPort = cur.Region, cur.Protocol, cur.Status, cur.BackendPort
	s.listeners[i] = l
	return nil
}

// setStatus is the body of StartListener and StopListener.
func (s *SLB) setStatus(action, region, lbID string, port int, status string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter(action); err != nil {
		return err
	}
	i := s.listenerAt(region, lbID, port)
	if i < 0 {
		return notFound(fmt.Sprintf("listener %s:%d", lbID, port))
	}
	s.listeners[i].Status = status
	delete(s.polls, fmt.Sprintf("%s:%d", lbID, port))
	return nil
}

// StartListener starts a listener: "starting" until StartPolls describes.
func (s *SLB) StartListener(_ context.Context, region, lbID string, port int) error {
	return s.setStatus("StartLoadBalancerListener", region, lbID, port, "starting")
}

// StopListener stops a listener.
func (s *SLB) StopListener(_ context.Context, region, lbID string, port int) error {
	return s.setStatus("StopLoadBalancerListener", region, lbID, port, "stopped")
}

// DeleteListener deletes a listener with its domain extensions.
func (s *SLB) DeleteListener(_ context.Context, region, lbID string, port int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DeleteLoadBalancerListener"); err != nil {
		return err
	}
	i := s.listenerAt(region, lbID, port)
	if i < 0 {
		return notFound(fmt.Sprintf("listener %s:%d", lbID, port))
	}
	s.listeners = append(s.listeners[:i], s.listeners[i+1:]...)
	s.dropExts(func(e clb.DomainExtension) bool {
		return e.Region == region && e.LoadBalancerID == lbID && e.ListenerPort == port
	})
	return nil
}

// CreateDomainExtension adds an SNI certificate to a listener and returns
// the extension's id.
func (s *SLB) CreateDomainExtension(_ context.Context, region, lbID string, port int, domain, certID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("CreateDomainExtension"); err != nil {
		return "", err
	}
	if s.listenerAt(region, lbID, port) < 0 {
		return "", notFound(fmt.Sprintf("listener %s:%d", lbID, port))
	}
	if !s.certExists(region, certID) {
		return "", notFound("certificate " + certID)
	}
	s.next++
	id := fmt.Sprintf("de-%04d", s.next)
	s.addExt(clb.DomainExtension{ID: id, Region: region, LoadBalancerID: lbID, ListenerPort: port, Domain: domain, ServerCertificateID: certID})
	return id, nil
}

// DeleteDomainExtension deletes a domain extension (not found: ErrNotFound).
func (s *SLB) DeleteDomainExtension(_ context.Context, region, extID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DeleteDomainExtension"); err != nil {
		return err
	}
	if s.dropExts(func(e clb.DomainExtension) bool { return e.ID == extID && e.Region == region }) == 0 {
		return notFound("domain extension " + extID)
	}
	return nil
}

// Serving is what a TLS handshake with address:port and serverName would
// see: the certificate of the domain extension matching serverName, else
// the listener's default. listening is false when no listener with a
// certificate is there (connection refused); fingerprint is "" when its
// certificate is gone.
func (s *SLB) Serving(address string, port int, serverName string) (fingerprint string, listening bool) {
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
		return "", false
	}
	for _, e := range s.extsOf(region, lbID, port) {
		if serverName != "" && matches(e.Domain, serverName) {
			certID = e.ServerCertificateID
			break
		}
	}
	for _, c := range s.certs {
		if c.ID == certID {
			return c.Fingerprint, true
		}
	}
	return "", true
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
