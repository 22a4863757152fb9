package clbtest

import (
	"context"
	"fmt"
	"sort"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

func notFound(what string) error { return fmt.Errorf("fake slb: %s: %w", what, apierr.ErrNotFound) }

// lbAt is the index of a load balancer in s.lbs, -1 if none.
func (s *SLB) lbAt(region, id string) int {
	for i, lb := range s.lbs {
		if lb.ID == id && lb.Region == region {
			return i
		}
	}
	return -1
}

// LoadBalancer returns a load balancer by id.
func (s *SLB) LoadBalancer(id string) (clb.LoadBalancer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, lb := range s.lbs {
		if lb.ID == id {
			return lb, true
		}
	}
	return clb.LoadBalancer{}, false
}

// LoadBalancers returns the load balancers of a region.
func (s *SLB) LoadBalancers(region string) []clb.LoadBalancer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return inRegion(s.lbs, region, lbRegion)
}

// AddBackend attaches a backend server (or changes its weight and type)
// without an API call.
func (s *SLB) AddBackend(lbID string, b clb.Backend) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putBackends(lbID, []clb.Backend{b})
}

// Backends returns a load balancer's backend servers by server id.
func (s *SLB) Backends(lbID string) []clb.Backend {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backendsOf(lbID)
}

func (s *SLB) backendsOf(lbID string) []clb.Backend {
	out := append([]clb.Backend(nil), s.backends[lbID]...)
	sort.Slice(out, func(i, j int) bool { return out[i].ServerID < out[j].ServerID })
	return out
}

func (s *SLB) putBackends(lbID string, bs []clb.Backend) {
	if s.backends == nil {
		s.backends = map[string][]clb.Backend{}
	}
next:
	for _, b := range bs {
		for i, x := range s.backends[lbID] {
			if x.ServerID == b.ServerID {
				s.backends[lbID][i] = b
				continue next
			}
		}
		s.backends[lbID] = append(s.backends[lbID], b)
	}
}

// DescribeLoadBalancer reads one load balancer and its backend servers
// (DescribeLoadBalancerAttribute).
func (s *SLB) DescribeLoadBalancer(_ context.Context, region, id string) (clb.LoadBalancer, []clb.Backend, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DescribeLoadBalancerAttribute"); err != nil {
		return clb.LoadBalancer{}, nil, err
	}
	i := s.lbAt(region, id)
	if i < 0 {
		return clb.LoadBalancer{}, nil, notFound("load balancer " + id)
	}
	return s.lbs[i], s.backendsOf(id), nil
}

// CreateLoadBalancer creates an active load balancer from spec (its Name,
// AddressType, Spec, PayType, zones, Bandwidth and Tags) on an address of
// its own. A client token seen before answers the instance it created,
// even when that instance has been deleted since (like the service).
func (s *SLB) CreateLoadBalancer(_ context.Context, region string, spec clb.LoadBalancerSpec, clientToken string) (clb.LoadBalancer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("CreateLoadBalancer"); err != nil {
		return clb.LoadBalancer{}, err
	}
	if id, ok := s.tokens[clientToken]; ok {
		if i := s.lbAt(region, id); i >= 0 {
			return s.lbs[i], nil
		}
		return clb.LoadBalancer{ID: id, Name: spec.Name, Region: region}, nil
	}
	s.next++
	lb := clb.LoadBalancer{ID: fmt.Sprintf("lb-%04d", s.next), Name: spec.Name, Region: region,
		Address: fmt.Sprintf("127.0.0.%d", 10+s.next%200), AddressType: spec.AddressType, Status: "active",
		Spec: spec.Spec, PayType: spec.PayType, MasterZone: spec.MasterZone, SlaveZone: spec.SlaveZone,
		Bandwidth: spec.Bandwidth, Tags: spec.Tags}
	if s.tokens == nil {
		s.tokens = map[string]string{}
	}
	s.tokens[clientToken] = lb.ID
	s.lbs = append(s.lbs, lb)
	return lb, nil
}

// DeleteLoadBalancer deletes a load balancer with its backends, listeners
// and domain extensions (not found: ErrNotFound).
func (s *SLB) DeleteLoadBalancer(_ context.Context, region, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("DeleteLoadBalancer"); err != nil {
		return err
	}
	i := s.lbAt(region, id)
	if i < 0 {
		return notFound("load balancer " + id)
	}
	s.lbs = append(s.lbs[:i], s.lbs[i+1:]...)
	delete(s.backends, id)
	s.listeners = without(s.listeners, func(l clb.Listener) bool { return l.LoadBalancerID == id })
	s.dropExts(func(e clb.DomainExtension) bool { return e.LoadBalancerID == id })
	return nil
}

// without returns xs without the elements drop reports.
func without[T any](xs []T, drop func(T) bool) []T {
	out := xs[:0]
	for _, x := range xs {
		if !drop(x) {
			out = append(out, x)
		}
	}
	return out
}

// AddBackendServers attaches backend servers; one already attached takes
// the new weight and type.
func (s *SLB) AddBackendServers(_ context.Context, region, lbID string, b []clb.Backend) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("AddBackendServers"); err != nil {
		return err
	}
	if s.lbAt(region, lbID) < 0 {
		return notFound("load balancer " + lbID)
	}
	s.putBackends(lbID, b)
	return nil
}

// RemoveBackendServers detaches backend servers by server id.
func (s *SLB) RemoveBackendServers(_ context.Context, region, lbID string, ids []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("RemoveBackendServers"); err != nil {
		return err
	}
	if s.lbAt(region, lbID) < 0 {
		return notFound("load balancer " + lbID)
	}
	gone := map[string]bool{}
	for _, id := range ids {
		gone[id] = true
	}
	if s.backends != nil {
		s.backends[lbID] = without(s.backends[lbID], func(b clb.Backend) bool { return gone[b.ServerID] })
	}
	return nil
}
