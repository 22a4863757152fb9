package lbcore

import (
	"slices"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// Listener is one listener of an instance with its certificate state.
type Listener struct {
	lbcert.Listener
	LB          *Instance
	Port        int
	Protocol    string
	Description string
	Created     time.Time
}

// ListenerRequest reads what every CreateListener starts with: the
// instance (LoadBalancerId), ListenerProtocol (one of protocols) and
// ListenerPort, free on the instance (Product.PortTaken).
func (c *Call) ListenerRequest(protocols ...string) (*Instance, string, int, *rpc.Error) {
	lb, aerr := c.LoadBalancer(c.P["LoadBalancerId"])
	if aerr != nil {
		return nil, "", 0, aerr
	}
	proto := c.P["ListenerProtocol"]
	if proto == "" {
		return nil, "", 0, rpc.Missing("ListenerProtocol")
	}
	if !slices.Contains(protocols, proto) {
		last := len(protocols) - 1
		return nil, "", 0, rpc.Invalid("ListenerProtocol", strings.Join(protocols[:last], ", ")+" or "+protocols[last])
	}
	if c.P["ListenerPort"] == "" {
		return nil, "", 0, rpc.Missing("ListenerPort")
	}
	port, aerr := rpc.Int(c.P, "ListenerPort", 0, 1, 65535)
	if aerr != nil {
		return nil, "", 0, aerr
	}
	udp := c.s.product.UDPProtocol
	for _, l := range lb.Listeners {
		if l.Port == port && (l.Protocol == udp) == (proto == udp) {
			return nil, "", 0, c.s.product.PortTaken(port)
		}
	}
	return lb, proto, port, nil
}

// AddListener creates listener id on lb serving def as its default
// certificate from the start, Configuring under a CreateListener job, and
// opens its frontend; it returns the job.
func (c *Call) AddListener(lb *Instance, id string, port int, proto, def string) *lbcert.Job {
	l := &Listener{LB: lb, Port: port, Protocol: proto, Description: c.P["ListenerDescription"], Created: c.Now,
		Listener: lbcert.Listener{ID: id, Status: lbcert.Running, Default: def, Extra: []lbcert.Assoc{}}}
	lb.Listeners = append(lb.Listeners, l)
	c.s.listeners[id] = l
	c.s.core.Register(&l.Listener)
	j := l.Update(c.s.core.Jobs, c.Now, c.Spec("CreateListener", "Create", "listener", id), nil)
	c.openFrontend(l)
	return j
}

// listListeners answers ListListeners (filters LoadBalancerIds,
// ListenerIds, ListenerProtocol and, where the product has it, Status).
func listListeners(c *Call) (map[string]any, *rpc.Error) {
	lbIDs, ids, proto := rpc.Repeated(c.P, "LoadBalancerIds"), rpc.Repeated(c.P, "ListenerIds"), c.P["ListenerProtocol"]
	status := ""
	if c.s.product.ListenerStatusFilter {
		status = c.P["Status"]
	}
	var match []map[string]any
	for _, lb := range c.s.lbOrder {
		if lb.Region != c.Region || len(lbIDs) > 0 && !slices.Contains(lbIDs, lb.ID) {
			continue
		}
		for _, l := range lb.Listeners {
			if len(ids) > 0 && !slices.Contains(ids, l.ID) || proto != "" && proto != l.Protocol ||
				status != "" && status != l.Status {
				continue
			}
			match = append(match, c.s.product.ListenerView(l))
		}
	}
	return Page(c.P, "Listeners", match, 20, 100)
}

// Listener finds ListenerId in the call's region.
func (c *Call) Listener() (*Listener, *rpc.Error) {
	id := c.P["ListenerId"]
	if id == "" {
		return nil, rpc.Missing("ListenerId")
	}
	l, ok := c.s.listeners[id]
	if !ok || l.LB.Region != c.Region {
		return nil, rpc.Errorf(404, c.s.product.ListenerNotFound, "The specified resource %s is not found.", id)
	}
	return l, nil
}

// ListenerByID finds a listener of any region.
func (c *Call) ListenerByID(id string) (*Listener, bool) {
	l, ok := c.s.listeners[id]
	return l, ok
}

// CheckCerts resolves every identity in CAS, refusing bare and unknown ids.
func (c *Call) CheckCerts(ids []string) *rpc.Error { return c.s.core.CheckCerts(ids) }
