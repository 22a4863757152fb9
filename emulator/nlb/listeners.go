package nlb

import (
	"fmt"
	"slices"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

type listener struct {
	lbcert.Listener
	lb          *loadBalancer
	Port        int
	Protocol    string
	Description string
	Created     time.Time
}

func createListener(c *call) (obj, *rpc.Error) {
	lb, aerr := c.loadBalancer(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	proto := c.p["ListenerProtocol"]
	switch proto {
	case "":
		return nil, rpc.Missing("ListenerProtocol")
	case "TCP", "UDP", "TCPSSL":
	default:
		return nil, rpc.Invalid("ListenerProtocol", "TCP, UDP or TCPSSL")
	}
	if c.p["ListenerPort"] == "" {
		return nil, rpc.Missing("ListenerPort")
	}
	port, aerr := rpc.Int(c.p, "ListenerPort", 0, 1, 65535)
	if aerr != nil {
		return nil, aerr
	}
	for _, l := range lb.listeners {
		if l.Port == port && (l.Protocol == "UDP") == (proto == "UDP") {
			return nil, rpc.Errorf(400, "Conflict.Port", "The listener port %d is already used.", port)
		}
	}
	certs := rpc.Repeated(c.p, "CertificateIds")
	def := ""
	if proto == "TCPSSL" {
		if len(certs) != 1 {
			return nil, rpc.Invalid("CertificateIds", "a TCPSSL listener needs exactly one server certificate (CertificateIds.1)")
		}
		if aerr := c.s.core.CheckCerts(certs); aerr != nil {
			return nil, aerr
		}
		def = certs[0]
	} else if len(certs) > 0 {
		return nil, rpc.Invalid("CertificateIds", "only TCPSSL listeners have certificates")
	}
	if dry, aerr := rpc.Bool(c.p, "DryRun"); aerr != nil || dry {
		return nil, lbcert.DryRun(aerr)
	}
	id := lbcert.RandomID("lsn-") + fmt.Sprintf("@%d", port)
	l := &listener{lb: lb, Port: port, Protocol: proto, Description: c.p["ListenerDescription"], Created: c.now,
		Listener: lbcert.Listener{ID: id, Status: lbcert.Running, Default: def, Extra: []lbcert.Assoc{}}}
	lb.listeners = append(lb.listeners, l)
	c.s.listeners[id] = l
	c.s.core.Register(&l.Listener)
	j := l.Update(c.s.core.Jobs, c.now, c.s.spec("CreateListener", "Create", "listener", id), nil)
	c.scheduleFrontend(l, true)
	return obj{"ListenerId": id, "JobId": j.ID}, nil
}

func (l *listener) view() obj {
	certs := []string{}
	if l.Default != "" {
		certs = append(certs, l.Default)
	}
	return obj{"RegionId": l.lb.Region, "LoadBalancerId": l.lb.ID, "ListenerId": l.ID, "ListenerProtocol": l.Protocol,
		"ListenerPort": l.Port, "ListenerStatus": l.Status, "ListenerDescription": l.Description, "IdleTimeout": 900,
		"ServerGroupId": "sgp-local", "SecurityPolicyId": "tls_cipher_policy_1_0", "CertificateIds": certs,
		"CaCertificateIds": []string{}, "Tags": []obj{}}
}

func listListeners(c *call) (obj, *rpc.Error) {
	lbIDs, ids, proto := rpc.Repeated(c.p, "LoadBalancerIds"), rpc.Repeated(c.p, "ListenerIds"), c.p["ListenerProtocol"]
	var match []obj
	for _, lb := range c.s.lbOrder {
		if lb.Region != c.region || len(lbIDs) > 0 && !slices.Contains(lbIDs, lb.ID) {
			continue
		}
		for _, l := range lb.listeners {
			if len(ids) > 0 && !slices.Contains(ids, l.ID) || proto != "" && proto != l.Protocol {
				continue
			}
			match = append(match, l.view())
		}
	}
	from, to, next, aerr := rpc.Page(c.p, len(match), 20, 100)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"Listeners": append([]obj{}, match[from:to]...), "TotalCount": len(match), "NextToken": next,
		"MaxResults": to - from}, nil
}

func (c *call) listener() (*listener, *rpc.Error) {
	id := c.p["ListenerId"]
	if id == "" {
		return nil, rpc.Missing("ListenerId")
	}
	l, ok := c.s.listeners[id]
	if !ok || l.lb.Region != c.region {
		return nil, rpc.Errorf(404, "ResourceNotFound.listener", "The specified resource %s is not found.", id)
	}
	return l, nil
}

func getListenerAttribute(c *call) (obj, *rpc.Error) {
	l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	return l.view(), nil
}
