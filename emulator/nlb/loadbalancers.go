package nlb

import (
	"net"
	"slices"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

type loadBalancer struct {
	ID, Name, Region   string
	AddressType, VpcID string
	DNSName, Address   string
	Created            time.Time
	marker             net.Listener
	listeners          []*listener
}

// newLoadBalancer allocates an instance and its DNS name; the lock must
// be held.
func (s *Server) newLoadBalancer(region, name, addressType, vpcID string, now time.Time) (*loadBalancer, *rpc.Error) {
	id := lbcert.RandomID("nlb-")
	host := id + "." + region + "." + DNSZone
	addr, marker, aerr := lbcert.Allocate(s.opts.Addresses, s.opts.DNS, host, !s.opts.NoFrontends)
	if aerr != nil {
		return nil, aerr
	}
	lb := &loadBalancer{ID: id, Name: name, Region: region, AddressType: addressType, VpcID: vpcID,
		DNSName: host, Address: addr, Created: now.UTC(), marker: marker}
	s.lbs[id] = lb
	s.lbOrder = append(s.lbOrder, lb)
	return lb, nil
}

func createLoadBalancer(c *call) (obj, *rpc.Error) {
	p := c.p
	for _, name := range []string{"LoadBalancerType", "AddressType", "VpcId"} {
		if p[name] == "" {
			return nil, rpc.Missing(name)
		}
	}
	if p["LoadBalancerType"] != "Network" {
		return nil, rpc.Invalid("LoadBalancerType", "Network")
	}
	if at := p["AddressType"]; at != "Internet" && at != "Intranet" {
		return nil, rpc.Invalid("AddressType", "Internet or Intranet")
	}
	if zones := rpc.Repeated(p, "ZoneMappings", "ZoneId"); len(zones) < 2 {
		return nil, rpc.Invalid("ZoneMappings", "at least two zones (ZoneMappings.N.ZoneId and VSwitchId)")
	}
	if dry, aerr := rpc.Bool(p, "DryRun"); aerr != nil || dry {
		return nil, lbcert.DryRun(aerr)
	}
	lb, aerr := c.s.newLoadBalancer(c.region, p["LoadBalancerName"], p["AddressType"], p["VpcId"], c.now)
	if aerr != nil {
		return nil, aerr
	}
	// The instance serves at once; its creation job only reports.
	j := c.s.core.Jobs.Start(c.now, c.s.spec("CreateLoadBalancer", "Create", "loadbalancer", lb.ID), nil)
	return obj{"LoadbalancerId": lb.ID, "JobId": j.ID}, nil
}

func (lb *loadBalancer) view() obj {
	return obj{"RegionId": lb.Region, "LoadBalancerId": lb.ID, "LoadBalancerName": lb.Name, "LoadBalancerType": "Network",
		"AddressType": lb.AddressType, "AddressIpVersion": "ipv4", "LoadBalancerStatus": "Active",
		"LoadBalancerBusinessStatus": "Normal", "VpcId": lb.VpcID, "DNSName": lb.DNSName,
		"CreateTime": lb.Created.Format("2006-01-02T15:04:05Z"), "LoadBalancerBillingConfig": obj{"PayType": "PostPay"},
		"ZoneMappings": []obj{}, "Tags": []obj{}, "SecurityGroupIds": []string{}}
}

func listLoadBalancers(c *call) (obj, *rpc.Error) {
	ids, names := rpc.Repeated(c.p, "LoadBalancerIds"), rpc.Repeated(c.p, "LoadBalancerNames")
	var match []obj
	for _, lb := range c.s.lbOrder {
		if lb.Region != c.region || len(ids) > 0 && !slices.Contains(ids, lb.ID) ||
			len(names) > 0 && !slices.Contains(names, lb.Name) || c.p["DNSName"] != "" && c.p["DNSName"] != lb.DNSName {
			continue
		}
		match = append(match, lb.view())
	}
	from, to, next, aerr := rpc.Page(c.p, len(match), 20, 100)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"LoadBalancers": append([]obj{}, match[from:to]...), "TotalCount": len(match), "NextToken": next,
		"MaxResults": to - from}, nil
}

func (c *call) loadBalancer(id string) (*loadBalancer, *rpc.Error) {
	if id == "" {
		return nil, rpc.Missing("LoadBalancerId")
	}
	lb, ok := c.s.lbs[id]
	if !ok || lb.Region != c.region {
		return nil, rpc.Errorf(404, "ResourceNotFound.loadBalancer", "The specified resource %s is not found.", id)
	}
	return lb, nil
}
