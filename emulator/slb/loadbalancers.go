package slb

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

var lbSpecs = map[string]bool{
	"slb.s1.small": true, "slb.s2.small": true, "slb.s2.medium": true,
	"slb.s3.small": true, "slb.s3.medium": true, "slb.s3.large": true,
}

// paramsHash fingerprints the non-common parameters of a request (for
// ClientToken idempotency).
func paramsHash(p map[string]string) string {
	common := map[string]bool{"Signature": true, "SignatureNonce": true, "Timestamp": true, "TimeStamp": true,
		"SecurityToken": true, "AccessKeyId": true, "SignatureMethod": true, "SignatureVersion": true,
		"SignatureType": true, "Format": true, "Version": true}
	keys := make([]string, 0, len(p))
	for k := range p {
		if !common[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, p[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newLoadBalancer creates an active load balancer in reg; s.mu is held.
func (s *Server) newLoadBalancer(reg *region, lb clb.LoadBalancer, now time.Time) *loadBalancer {
	n := s.nextSeq()
	lb.ID = fmt.Sprintf("lb-%s%013dlocal", regionCode(reg.id), n)
	lb.Region = reg.id
	addr, marker := s.addrs.Alloc(!s.opts.NoFrontends)
	lb.Address = addr
	lb.Status = "active"
	if lb.Name == "" {
		lb.Name = "auto_named_slb"
	}
	if lb.AddressType == "" {
		lb.AddressType = "internet"
	}
	if lb.Spec == "" {
		lb.Spec = "slb.s1.small"
	}
	if lb.PayType == "" {
		lb.PayType = "PayOnDemand"
	}
	if lb.MasterZone == "" {
		lb.MasterZone = reg.id + "-a"
	}
	if lb.SlaveZone == "" {
		lb.SlaveZone = reg.id + "-b"
	}
	if lb.Tags == nil {
		lb.Tags = map[string]string{}
	}
	x := &loadBalancer{LoadBalancer: lb, seq: n, marker: marker, networkType: "classic", internetChargeType: "paybytraffic",
		created: now.UTC().Truncate(time.Second), listeners: map[int]*listener{}}
	reg.lbs[lb.ID] = x
	reg.lbOrder = append(reg.lbOrder, x)
	s.lbs[lb.ID] = x
	return x
}

func createLoadBalancer(c *call) (obj, *apiError) {
	token := c.p["ClientToken"]
	hash := paramsHash(c.p)
	if token != "" {
		if prev, ok := c.reg.tokens[token]; ok {
			if prev.hash != hash {
				return nil, errorf(400, "IdempotentParameterMismatch", "The request is retried with updated parameters.")
			}
			if lb, ok := c.reg.lbs[prev.lbID]; ok {
				return createResponse(lb), nil
			}
		}
	}
	spec := c.p["LoadBalancerSpec"]
	if spec != "" && !lbSpecs[spec] {
		return nil, invalid("LoadBalancerSpec", "unknown specification "+spec)
	}
	at := c.p["AddressType"]
	if at != "" && at != "internet" && at != "intranet" {
		return nil, invalid("AddressType", "internet or intranet")
	}
	if pt := c.p["PayType"]; pt != "" && pt != "PayOnDemand" && pt != "PrePay" {
		return nil, invalid("PayType", "PayOnDemand or PrePay")
	}
	bw, aerr := c.intParam("Bandwidth", 5120, 1, 5120)
	if aerr != nil {
		return nil, aerr
	}
	name := c.p["LoadBalancerName"]
	if len(name) > 80 {
		return nil, invalid("LoadBalancerName", "1-80 characters")
	}
	for _, z := range []string{"MasterZoneId", "SlaveZoneId"} {
		if v := c.p[z]; v != "" && !strings.HasPrefix(v, c.reg.id+"-") {
			return nil, errorf(400, "PRODUCT.NOT_AVAILABLE_IZ", "The zone %s is not available in region %s.", v, c.reg.id)
		}
	}
	tags, aerr := c.tagParams()
	if aerr != nil {
		return nil, aerr
	}
	lb := c.s.newLoadBalancer(c.reg, clb.LoadBalancer{
		Name: name, AddressType: at, Spec: spec, PayType: c.p["PayType"],
		MasterZone: c.p["MasterZoneId"], SlaveZone: c.p["SlaveZoneId"], Bandwidth: bw, Tags: tags,
	}, c.now)
	if v := c.p["VpcId"]; v != "" {
		lb.networkType, lb.vpcID, lb.vSwitchID = "vpc", v, c.p["VSwitchId"]
	}
	if v := c.p["InternetChargeType"]; v != "" {
		lb.internetChargeType = v
	}
	if token != "" {
		c.reg.tokens[token] = clientToken{hash: hash, lbID: lb.ID}
	}
	return createResponse(lb), nil
}

func createResponse(lb *loadBalancer) obj {
	return obj{"LoadBalancerId": lb.ID, "LoadBalancerName": lb.Name, "Address": lb.Address,
		"AddressIPVersion": "ipv4", "NetworkType": lb.networkType, "VpcId": lb.vpcID,
		"VSwitchId": lb.vSwitchID, "ResourceGroupId": "rg-acfmlocal0000", "OrderId": 0}
}

func deleteLoadBalancer(c *call) (obj, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	c.s.removeLoadBalancer(c, lb)
	return obj{}, nil
}

// removeLoadBalancer drops lb with its listeners and extensions; s.mu held.
func (s *Server) removeLoadBalancer(c *call, lb *loadBalancer) {
	for _, port := range lb.ports() {
		s.removeListener(c, lb, lb.listeners[port])
	}
	delete(c.reg.lbs, lb.ID)
	delete(s.lbs, lb.ID)
	for i, x := range c.reg.lbOrder {
		if x == lb {
			c.reg.lbOrder = append(c.reg.lbOrder[:i], c.reg.lbOrder[i+1:]...)
			break
		}
	}
	s.addrs.Release(lb.Address, lb.marker)
}

func lbJSON(lb *loadBalancer) obj {
	return obj{
		"LoadBalancerId": lb.ID, "LoadBalancerName": lb.Name, "LoadBalancerStatus": lb.Status,
		"Address": lb.Address, "AddressType": lb.AddressType, "AddressIPVersion": "ipv4",
		"RegionId": lb.Region, "RegionIdAlias": lb.Region, "VpcId": lb.vpcID, "VSwitchId": lb.vSwitchID,
		"NetworkType": lb.networkType, "MasterZoneId": lb.MasterZone, "SlaveZoneId": lb.SlaveZone,
		"InternetChargeType": lb.internetChargeType, "CreateTime": isoTime(lb.created),
		"CreateTimeStamp": millis(lb.created), "PayType": lb.PayType, "ResourceGroupId": "rg-acfmlocal0000",
		"LoadBalancerSpec": lb.Spec, "Bandwidth": lb.Bandwidth, "DeleteProtection": "off",
		"ModificationProtectionStatus": "NonProtection", "BusinessStatus": "Normal",
		"InstanceChargeType": "PayBySpec", "Tags": obj{"Tag": tagList(lb.Tags)},
	}
}

func splitList(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func describeLoadBalancers(c *call) (obj, *apiError) {
	page, aerr := c.intParam("PageNumber", 1, 1, 1<<30)
	if aerr != nil {
		return nil, aerr
	}
	size, aerr := c.intParam("PageSize", 10, 1, 100)
	if aerr != nil {
		return nil, aerr
	}
	want, aerr := c.tagParams()
	if aerr != nil {
		return nil, aerr
	}
	ids, names := splitList(c.p["LoadBalancerId"]), splitList(c.p["LoadBalancerName"])
	if len(ids) > 10 || len(names) > 10 {
		return nil, invalid("LoadBalancerId", "at most 10 values")
	}
	in := func(list []string, v string) bool {
		if len(list) == 0 {
			return true
		}
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	var match []*loadBalancer
	for _, lb := range c.reg.lbOrder {
		if !in(ids, lb.ID) || !in(names, lb.Name) || !tagsMatch(lb.Tags, want) {
			continue
		}
		if v := c.p["Address"]; v != "" && v != lb.Address {
			continue
		}
		if v := c.p["AddressType"]; v != "" && v != lb.AddressType {
			continue
		}
		if v := c.p["LoadBalancerStatus"]; v != "" && v != lb.Status {
			continue
		}
		if v := c.p["ServerId"]; v != "" && lb.backendIndex(v) < 0 {
			continue
		}
		match = append(match, lb)
	}
	list := []obj{}
	for i := (page - 1) * size; i < len(match) && i < page*size; i++ {
		list = append(list, lbJSON(match[i]))
	}
	return obj{"PageNumber": page, "PageSize": size, "TotalCount": len(match),
		"LoadBalancers": obj{"LoadBalancer": list}}, nil
}

func describeLoadBalancerAttribute(c *call) (obj, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	out := lbJSON(lb)
	ports, pp, ppLegacy := []int{}, []obj{}, []obj{}
	for _, port := range lb.ports() {
		l := lb.listeners[port]
		ports = append(ports, port)
		pp = append(pp, obj{"ListenerPort": port, "ListenerProtocol": l.Protocol, "ListenerForward": "off", "ForwardPort": 0, "Description": l.Description})
		ppLegacy = append(ppLegacy, obj{"ListenerPort": port, "ListenerProtocal": l.Protocol})
	}
	bs := []obj{}
	for _, b := range lb.backends {
		bs = append(bs, obj{"ServerId": b.ServerID, "Weight": b.Weight, "Type": b.Type,
			"ServerIp": c.s.instances[b.ServerID].PrivateIP, "VpcId": lb.vpcID, "Description": b.Description})
	}
	out["ListenerPorts"] = obj{"ListenerPort": ports}
	out["ListenerPortsAndProtocol"] = obj{"ListenerPortAndProtocol": pp}
	out["ListenerPortsAndProtocal"] = obj{"ListenerPortAndProtocal": ppLegacy}
	out["BackendServers"] = obj{"BackendServer": bs}
	out["EndTime"] = "2999-09-08T16:00:00Z"
	out["EndTimeStamp"] = int64(32493801600000)
	out["HasReservedInfo"] = "false"
	return out, nil
}

func setLoadBalancerName(c *call) (obj, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	name := c.p["LoadBalancerName"]
	if name == "" || len(name) > 80 {
		return nil, invalid("LoadBalancerName", "1-80 characters")
	}
	lb.Name = name
	return obj{}, nil
}
