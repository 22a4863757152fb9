package alb

import (
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcore"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

func createLoadBalancer(c *lbcore.Call) (obj, *rpc.Error) {
	p := c.P
	ed := p["LoadBalancerEdition"]
	if ed == "" {
		return nil, rpc.Missing("LoadBalancerEdition")
	}
	if !c.HasQuota(ed) {
		return nil, rpc.Invalid("LoadBalancerEdition", "one of Basic, Standard, StandardWithWaf")
	}
	for _, name := range []string{"AddressType", "VpcId", "LoadBalancerBillingConfig.PayType"} {
		if p[name] == "" {
			return nil, rpc.Missing(name)
		}
	}
	lb, aerr := c.CreateInstance(ed)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"LoadBalancerId": lb.ID}, nil
}

func instanceView(lb *lbcore.Instance) obj {
	return obj{"LoadBalancerId": lb.ID, "LoadBalancerName": lb.Name, "LoadBalancerEdition": lb.Edition,
		"LoadBalancerStatus": "Active", "LoadBalancerBussinessStatus": "Normal", "AddressType": lb.AddressType,
		"AddressAllocatedMode": "Dynamic", "AddressIpVersion": "IPv4", "VpcId": lb.VpcID, "DNSName": lb.DNSName,
		"CreateTime":                lb.Created.Format("2006-01-02T15:04:05Z"),
		"LoadBalancerBillingConfig": obj{"PayType": "PostPay"}, "Tags": []obj{}}
}

// SeedLoadBalancer creates an instance of edition ("" = Standard) and
// returns its id.
func (s *Server) SeedLoadBalancer(region, name, edition string) (string, error) {
	if edition == "" {
		edition = "Standard"
	}
	out, err := s.Seed(region, map[string]string{"Action": "CreateLoadBalancer", "LoadBalancerName": name,
		"LoadBalancerEdition": edition, "AddressType": "Internet", "VpcId": "vpc-local", "LoadBalancerBillingConfig.PayType": "PostPay",
		"ZoneMappings.1.ZoneId": region + "-a", "ZoneMappings.2.ZoneId": region + "-b"}, createLoadBalancer)
	if err != nil {
		return "", err
	}
	return out["LoadBalancerId"].(string), nil
}
