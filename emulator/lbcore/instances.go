package lbcore

import (
	"net"
	"slices"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// Instance is one load balancer.
type Instance struct {
	ID, Name, Region, Edition string
	AddressType, VpcID        string
	DNSName, Address          string
	Created                   time.Time
	Listeners                 []*Listener
	marker                    net.Listener
}

// extraCount counts the additional certificates of every listener of lb.
func (lb *Instance) extraCount() int {
	n := 0
	for _, l := range lb.Listeners {
		n += len(l.Extra)
	}
	return n
}

// HasQuota reports whether edition is one the server has a quota for.
func (c *Call) HasQuota(edition string) bool {
	_, ok := c.s.opts.Quotas[edition]
	return ok
}

// CreateInstance checks what every product's CreateLoadBalancer checks
// after its own parameters (AddressType, ZoneMappings, DryRun), then
// allocates an instance of edition named LoadBalancerName, with its
// address and DNS name.
func (c *Call) CreateInstance(edition string) (*Instance, *rpc.Error) {
	p := c.P
	if at := p["AddressType"]; at != "Internet" && at != "Intranet" {
		return nil, rpc.Invalid("AddressType", "Internet or Intranet")
	}
	if zones := rpc.Repeated(p, "ZoneMappings", "ZoneId"); len(zones) < 2 {
		return nil, rpc.Invalid("ZoneMappings", "at least two zones (ZoneMappings.N.ZoneId and VSwitchId)")
	}
	if aerr := c.DryRun(); aerr != nil {
		return nil, aerr
	}
	s := c.s
	id := lbcert.RandomID(s.product.IDPrefix)
	host := id + "." + c.Region + "." + s.product.DNSZone
	addr, marker, aerr := lbcert.Allocate(s.opts.Addresses, s.opts.DNS, host, !s.opts.NoFrontends)
	if aerr != nil {
		return nil, aerr
	}
	lb := &Instance{ID: id, Name: p["LoadBalancerName"], Region: c.Region, Edition: edition, AddressType: p["AddressType"],
		VpcID: p["VpcId"], DNSName: host, Address: addr, Created: c.Now.UTC(), marker: marker}
	s.lbs[id] = lb
	s.lbOrder = append(s.lbOrder, lb)
	return lb, nil
}

// listLoadBalancers answers ListLoadBalancers (filters LoadBalancerIds,
// LoadBalancerNames, DNSName; NextToken paging).
func listLoadBalancers(c *Call) (map[string]any, *rpc.Error) {
	ids, names := rpc.Repeated(c.P, "LoadBalancerIds"), rpc.Repeated(c.P, "LoadBalancerNames")
	var match []map[string]any
	for _, lb := range c.s.lbOrder {
		if lb.Region != c.Region || len(ids) > 0 && !slices.Contains(ids, lb.ID) ||
			len(names) > 0 && !slices.Contains(names, lb.Name) || c.P["DNSName"] != "" && c.P["DNSName"] != lb.DNSName {
			continue
		}
		match = append(match, c.s.product.InstanceView(lb))
	}
	return Page(c.P, "LoadBalancers", match, 20, 100)
}

// LoadBalancer finds instance id of the call's region.
func (c *Call) LoadBalancer(id string) (*Instance, *rpc.Error) {
	if id == "" {
		return nil, rpc.Missing("LoadBalancerId")
	}
	lb, ok := c.s.lbs[id]
	if !ok || lb.Region != c.Region {
		return nil, rpc.Errorf(404, c.s.product.InstanceNotFound, "The specified resource %s is not found.", id)
	}
	return lb, nil
}

// DryRun is the refusal of a valid request with DryRun=true (or of a
// DryRun that is not a boolean); nil otherwise.
func (c *Call) DryRun() *rpc.Error {
	if dry, aerr := rpc.Bool(c.P, "DryRun"); aerr != nil || dry {
		return lbcert.DryRun(aerr)
	}
	return nil
}

// Jobs is the job table (the lock is held).
func (c *Call) Jobs() *lbcert.Jobs { return c.s.core.Jobs }

// Spec is the job of a write on a resource, failing as JobFaults decide.
func (c *Call) Spec(api, op, resType, id string) lbcert.JobSpec {
	return lbcert.JobSpec{API: api, OperateType: op, ResourceType: resType, ResourceID: id,
		Duration: c.s.opts.ConfiguringDuration, Fail: c.s.opts.JobFaults.Fail(api)}
}
