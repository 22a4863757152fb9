package nlb

import (
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcore"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

func createLoadBalancer(c *lbcore.Call) (obj, *rpc.Error) {
	p := c.P
	for _, name := range []string{"LoadBalancerType", "AddressType", "VpcId"} {
		if p[name] == "" {
			return nil, rpc.Missing(name)
		}
	}
	if p["LoadBalancerType"] != "Network" {
		return nil, rpc.Invalid("LoadBalancerType", "Network")
	}
	lb, aerr := c.CreateInstance("")
	if aerr != nil {
		return nil, aerr
	}
	// The instance serves at once; its creation job only reports.
	j := c.Jobs().Start(c.Now, c.Spec("CreateLoadBalancer", "Create", "loadbalancer", lb.ID), nil)
	return obj{"LoadbalancerId": lb.ID, "JobId": j.ID}, nil
}

func instanceView(lb *lbcore.Instance) obj {
	return obj{"RegionId": lb.Region, "LoadBalancerId": lb.ID, "LoadBalancerName": lb.Name, "LoadBalancerType": "Network",
		"AddressType": lb.AddressType, "AddressIpVersion": "ipv4", "LoadBalancerStatus": "Active",
		"LoadBalancerBusinessStatus": "Normal", "VpcId": lb.VpcID, "DNSName": lb.DNSName,
		"CreateTime": lb.Created.Format("2006-01-02T15:04:05Z"), "LoadBalancerBillingConfig": obj{"PayType": "PostPay"},
		"ZoneMappings": []obj{}, "Tags": []obj{}, "SecurityGroupIds": []string{}}
}

// SeedLoadBalancer creates an instance and returns its id.
func (s *Server) SeedLoadBalancer(region, name string) (string, error) {
	out, err := s.Seed(region, map[string]string{"Action": "CreateLoadBalancer", "LoadBalancerName": name,
		"LoadBalancerType": "Network", "AddressType": "Internet", "VpcId": "vpc-local",
		"ZoneMappings.1.ZoneId": region + "-a", "ZoneMappings.2.ZoneId": region + "-b"}, createLoadBalancer)
	if err != nil {
		return "", err
	}
	return out["LoadbalancerId"].(string), nil
}
