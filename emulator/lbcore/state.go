package lbcore

import (
	"fmt"
	"strconv"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// Dump returns the current state (due jobs settled first).
func (s *Server) Dump() lbcert.State {
	s.core.Mu.Lock()
	defer s.core.Mu.Unlock()
	s.core.Jobs.Settle(s.core.Now())
	st := lbcert.State{LoadBalancers: []lbcert.InstanceState{}, Jobs: s.core.Jobs.All()}
	for _, lb := range s.lbOrder {
		ls := lbcert.InstanceState{ID: lb.ID, Name: lb.Name, Region: lb.Region, Edition: lb.Edition, DNSName: lb.DNSName,
			Address: lb.Address, Listeners: []lbcert.ListenerState{}}
		for _, l := range lb.Listeners {
			ls.Listeners = append(ls.Listeners, lbcert.ListenerState{Listener: l.Copy(), Port: l.Port, Protocol: l.Protocol})
		}
		st.LoadBalancers = append(st.LoadBalancers, ls)
	}
	return st
}

// Seed runs h with params p as if called (no signature, no faults) and
// completes the job it started at once.
func (s *Server) Seed(region string, p map[string]string, h Handler) (map[string]any, error) {
	if !s.regions[region] {
		return nil, fmt.Errorf("%s emulator: unknown region %q", s.product.Name, region)
	}
	resp, aerr := s.run(region, p, func(c *Call) (map[string]any, *rpc.Error) {
		out, aerr := h(c)
		if job, ok := out["JobId"].(string); ok && aerr == nil {
			s.core.Jobs.Expedite(job, c.Now)
		}
		return out, aerr
	})
	if aerr != nil {
		return nil, fmt.Errorf("%s emulator: seed %s: %w", s.product.Name, p["Action"], aerr)
	}
	return resp, nil
}

// Page answers one page of items under key, with TotalCount, NextToken
// and MaxResults (NextToken/MaxResults paging, default def, at most max).
func Page(p map[string]string, key string, items []map[string]any, def, max int) (map[string]any, *rpc.Error) {
	from, to, next, aerr := rpc.Page(p, len(items), def, max)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{key: append([]map[string]any{}, items[from:to]...), "TotalCount": len(items), "NextToken": next,
		"MaxResults": to - from}, nil
}

// SeedListener creates a Running listener of protocol on port with certID
// ("<CertId>-<casRegion>") as its default certificate, through the
// product's CreateListener, and returns its id.
func (s *Server) SeedListener(region, lbID string, port int, protocol, certID string) (string, error) {
	p := map[string]string{"Action": "CreateListener", "LoadBalancerId": lbID, "ListenerPort": strconv.Itoa(port), "ListenerProtocol": protocol}
	if certID != "" {
		p[s.product.DefaultCerts.First()] = certID
	}
	out, err := s.Seed(region, p, s.product.Actions["CreateListener"])
	if err != nil {
		return "", err
	}
	return out["ListenerId"].(string), nil
}

// SeedAdditionalCertificates associates certIDs with a listener at once.
func (s *Server) SeedAdditionalCertificates(region, listenerID string, certIDs ...string) error {
	p := map[string]string{"Action": "AssociateAdditionalCertificatesWithListener", "ListenerId": listenerID}
	for i, id := range certIDs {
		p[s.product.AdditionalCerts.Nth(i+1)] = id
	}
	_, err := s.Seed(region, p, associate)
	return err
}
