package slb

import (
	"fmt"
	"sort"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// State is a read-only, JSON-able snapshot of the emulator (no private keys).
type State struct {
	Regions map[string]RegionState `json:"regions"`
}

// RegionState is one region's partition.
type RegionState struct {
	LoadBalancers []LoadBalancerState     `json:"load_balancers"`
	Certificates  []clb.ServerCertificate `json:"certificates"`
}

// LoadBalancerState is one load balancer with its backends and listeners.
type LoadBalancerState struct {
	clb.LoadBalancer
	Backends  []clb.Backend   `json:"backends"`
	Listeners []ListenerState `json:"listeners"`
}

// ListenerState is one listener with its domain extensions. Stale is set
// while SetStaleFrontend froze it.
type ListenerState struct {
	clb.Listener
	Stale            bool                  `json:"stale"`
	DomainExtensions []clb.DomainExtension `json:"domain_extensions"`
}

// Dump returns a deep copy of the state, regions with nothing in them
// omitted.
func (s *Server) Dump() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := State{Regions: map[string]RegionState{}}
	for id, reg := range s.regions {
		if len(reg.lbOrder) == 0 && len(reg.cOrder) == 0 {
			continue
		}
		rs := RegionState{LoadBalancers: []LoadBalancerState{}, Certificates: []clb.ServerCertificate{}}
		for _, c := range reg.cOrder {
			sc := c.ServerCertificate
			sc.SANs = append([]string(nil), c.SANs...)
			sc.Tags = copyTags(c.Tags)
			rs.Certificates = append(rs.Certificates, sc)
		}
		for _, lb := range reg.lbOrder {
			ls := LoadBalancerState{LoadBalancer: lb.LoadBalancer, Backends: []clb.Backend{}, Listeners: []ListenerState{}}
			ls.Tags = copyTags(lb.Tags)
			for _, b := range lb.backends {
				ls.Backends = append(ls.Backends, b.Backend)
			}
			for _, p := range lb.ports() {
				l := lb.listeners[p]
				x := ListenerState{Listener: l.Listener, Stale: l.stale != nil, DomainExtensions: []clb.DomainExtension{}}
				for _, e := range l.exts {
					x.DomainExtensions = append(x.DomainExtensions, e.DomainExtension)
				}
				ls.Listeners = append(ls.Listeners, x)
			}
			rs.LoadBalancers = append(rs.LoadBalancers, ls)
		}
		st.Regions[id] = rs
	}
	return st
}

// Instances returns the ECS fixtures sorted by id.
func (s *Server) Instances() []ECSInstance {
	out := make([]ECSInstance, 0, len(s.instances))
	for _, in := range s.instances {
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// seedCall builds a call for the seeding helpers; s.mu must be held.
func (s *Server) seedCall(regionID string) (*call, error) {
	reg, ok := s.regions[regionID]
	if !ok {
		return nil, fmt.Errorf("slb emulator: unknown region %q", regionID)
	}
	return &call{s: s, reg: reg, p: map[string]string{}, now: s.now()}, nil
}

// runSeed runs fn under the lock and then the frontend work it scheduled.
func (s *Server) runSeed(regionID string, fn func(c *call) *apiError) error {
	s.mu.Lock()
	c, err := s.seedCall(regionID)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	aerr := fn(c)
	s.mu.Unlock()
	for _, f := range c.after {
		if e := f(); e != nil && aerr == nil {
			aerr = e
		}
	}
	if aerr != nil {
		return fmt.Errorf("slb emulator: seed in %s: %w", regionID, aerr)
	}
	return nil
}

// SeedLoadBalancer creates an active load balancer without the API (no
// signature, no faults) and returns its id.
func (s *Server) SeedLoadBalancer(regionID, name string) (string, error) {
	var id string
	err := s.runSeed(regionID, func(c *call) *apiError {
		id = s.newLoadBalancer(c.reg, clb.LoadBalancer{Name: name}, c.now).ID
		return nil
	})
	return id, err
}

// SeedServerCertificate uploads a certificate without the API; the same
// rules as UploadServerCertificate apply.
func (s *Server) SeedServerCertificate(regionID, name, certPEM, keyPEM string, tags map[string]string) (string, error) {
	var id string
	err := s.runSeed(regionID, func(c *call) *apiError {
		pc, aerr := parseUpload(certPEM, keyPEM)
		if aerr != nil {
			return aerr
		}
		cert, aerr := s.addCertificate(c.reg, name, pc, tags, c.now)
		if aerr != nil {
			return aerr
		}
		id = cert.ID
		return nil
	})
	return id, err
}

// SeedHTTPSListener creates an HTTPS listener (backend port 80) with
// certID as its default certificate, and starts it when start is set.
func (s *Server) SeedHTTPSListener(regionID, lbID string, port int, certID string, start bool) error {
	return s.runSeed(regionID, func(c *call) *apiError {
		c.p = map[string]string{"LoadBalancerId": lbID, "ListenerPort": fmt.Sprint(port),
			"BackendServerPort": "80", "ServerCertificateId": certID}
		if _, aerr := createHTTPSListener(c); aerr != nil {
			return aerr
		}
		if start {
			_, aerr := startListener(c)
			return aerr
		}
		return nil
	})
}

// SeedDomainExtension adds an SNI certificate to an HTTPS listener.
func (s *Server) SeedDomainExtension(regionID, lbID string, port int, domain, certID string) (string, error) {
	var id string
	err := s.runSeed(regionID, func(c *call) *apiError {
		c.p = map[string]string{"LoadBalancerId": lbID, "ListenerPort": fmt.Sprint(port),
			"Domain": domain, "ServerCertificateId": certID}
		out, aerr := createDomainExtension(c)
		if aerr != nil {
			return aerr
		}
		id = out["DomainExtensionId"].(string)
		return nil
	})
	return id, err
}

// SeedBackendServers attaches ECS instances (weight 100) to a load balancer.
func (s *Server) SeedBackendServers(regionID, lbID string, instanceIDs ...string) error {
	return s.runSeed(regionID, func(c *call) *apiError {
		var items []string
		for _, id := range instanceIDs {
			items = append(items, fmt.Sprintf(`{"ServerId":%q,"Weight":"100"}`, id))
		}
		c.p = map[string]string{"LoadBalancerId": lbID, "BackendServers": "[" + joinComma(items) + "]"}
		_, aerr := addBackendServers(c)
		return aerr
	})
}

func joinComma(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += ","
		}
		out += x
	}
	return out
}
