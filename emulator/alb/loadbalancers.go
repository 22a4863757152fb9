package alb

import (
	"net"
	"slices"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

type loadBalancer struct {
	ID, Name, Region, Edition string
	AddressType, VpcID        string
	DNSName, Address          string
	Created                   time.Time
	marker                    net.Listener
	listeners                 []*listener
}

// newLoadBalancer allocates an instance and its DNS name; the lock must
// be held.
func (s *Server) newLoadBalancer(region, name, edition, addressType, vpcID string, now time.Time) (*loadBalancer, *rpc.Error) {
	id := lbcert.RandomID("alb-")
	host := id + "." + region + "." + DNSZone
	addr, marker, aerr := lbcert.Allocate(s.opts.Addresses, s.opts.DNS, host, !s.opts.NoFrontends)
	if aerr != nil {
		return nil, aerr
	}
	lb := &loadBalancer{ID: id, Name: name, Region: region, Edition: edition, AddressType: addressType, VpcID: vpcID,
		DNSName: host, Address: addr, Created: now.UTC(), marker: marker}
	s.lbs[id] = lb
	s.lbOrder = append(s.lbOrder, lb)
	return lb, nil
}

func createLoadBalancer(c *call) (obj, *rpc.Error) {
	p := c.p
	ed := p["LoadBalancerEdition"]
	if ed == "" {
		return nil, rpc.Missing("LoadBalancerEdition")
	}
	if _, ok := c.s.opts.Quotas[ed]; !ok {
		return nil, rpc.Invalid("LoadBalancerEdition", "one of Basic, Standard, StandardWithWaf")
	}
	for _, name := range []string{"AddressType", "VpcId", "LoadBalancerBillingConfig.PayType"} {
		if p[name] == "" {
			return nil, rpc.Missing(name)
		}
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
	lb, aerr := c.s.newLoadBalancer(c.region, p["LoadBalancerName"], ed, p["AddressType"], p["VpcId"], c.now)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"LoadBalancerId": lb.ID}, nil
}

func (lb *loadBalancer) view() obj {
	return obj{"LoadBalancerId": lb.ID, "LoadBalancerName": lb.Name, "LoadBalancerEdition": lb.Edition,
		"LoadBalancerStatus": "Active", "LoadBalancerBussinessStatus": "Normal", "AddressType": lb.AddressType,
		"AddressAllocatedMode": "Dynamic", "AddressIpVersion": "IPv4", "VpcId": lb.VpcID, "DNSName": lb.DNSName,
		"CreateTime":                lb.Created.Format("2006-01-02T15:04:05Z"),
		"LoadBalancerBillingConfig": obj{"PayType": "PostPay"}, "Tags": []obj{}}
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
		return nil, rpc.Errorf(404, "ResourceNotFound.LoadBalancer", "The specified resource %s is not found.", id)
	}
	return lb, nil
}
