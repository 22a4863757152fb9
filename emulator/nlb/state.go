package nlb

import (
	"fmt"
	"strconv"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// State is the JSON-able snapshot of the emulator.
type State = lbcert.State

// Dump returns the current state (due jobs settled first).
func (s *Server) Dump() State {
	s.core.Mu.Lock()
	defer s.core.Mu.Unlock()
	s.core.Jobs.Settle(s.core.Now())
	st := State{LoadBalancers: []lbcert.InstanceState{}, Jobs: s.core.Jobs.All()}
	for _, lb := range s.lbOrder {
		ls := lbcert.InstanceState{ID: lb.ID, Name: lb.Name, Region: lb.Region, DNSName: lb.DNSName, Address: lb.Address,
			Listeners: []lbcert.ListenerState{}}
		for _, l := range lb.listeners {
			ls.Listeners = append(ls.Listeners, lbcert.ListenerState{Listener: l.Copy(), Port: l.Port, Protocol: l.Protocol})
		}
		st.LoadBalancers = append(st.LoadBalancers, ls)
	}
	return st
}

// seed runs h with params p as if called (no signature, no faults) and
// completes the job it started at once.
func (s *Server) seed(region string, p map[string]string, h handler) (obj, error) {
	if !s.regions[region] {
		return nil, fmt.Errorf("nlb emulator: unknown region %q", region)
	}
	resp, aerr := s.run(region, p, func(c *call) (obj, *rpc.Error) {
		out, aerr := h(c)
		if job, ok := out["JobId"].(string); ok && aerr == nil {
			s.core.Jobs.Expedite(job, c.now)
		}
		return out, aerr
	})
	if aerr != nil {
		return nil, fmt.Errorf("nlb emulator: seed %s: %w", p["Action"], aerr)
	}
	return resp, nil
}

// SeedLoadBalancer creates an instance and returns its id.
func (s *Server) SeedLoadBalancer(region, name string) (string, error) {
	out, err := s.seed(region, map[string]string{"Action": "CreateLoadBalancer", "LoadBalancerName": name,
		"LoadBalancerType": "Network", "AddressType": "Internet", "VpcId": "vpc-local",
		"ZoneMappings.1.ZoneId": region + "-a", "ZoneMappings.2.ZoneId": region + "-b"}, createLoadBalancer)
	if err != nil {
		return "", err
	}
	return out["LoadbalancerId"].(string), nil
}

// SeedListener creates a Running listener (TCPSSL, TCP or UDP) with certID
// ("<CertId>-<casRegion>") as its server certificate and returns its id.
func (s *Server) SeedListener(region, lbID string, port int, protocol, certID string) (string, error) {
	p := map[string]string{"Action": "CreateListener", "LoadBalancerId": lbID, "ListenerPort": strconv.Itoa(port), "ListenerProtocol": protocol}
	if certID != "" {
		p["CertificateIds.1"] = certID
	}
	out, err := s.seed(region, p, createListener)
	if err != nil {
		return "", err
	}
	return out["ListenerId"].(string), nil
}

// SeedAdditionalCertificates associates certIDs with a listener at once.
func (s *Server) SeedAdditionalCertificates(region, listenerID string, certIDs ...string) error {
	p := map[string]string{"Action": "AssociateAdditionalCertificatesWithListener", "ListenerId": listenerID}
	for i, id := range certIDs {
		p["AdditionalCertificateIds."+strconv.Itoa(i+1)] = id
	}
	_, err := s.seed(region, p, associateAdditional)
	return err
}
