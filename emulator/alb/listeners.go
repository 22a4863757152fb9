package alb

import (
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

// protocols carrying certificates.
func certProtocol(p string) bool { return p == "HTTPS" || p == "QUIC" }

func createListener(c *call) (obj, *rpc.Error) {
	lb, aerr := c.loadBalancer(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	proto := c.p["ListenerProtocol"]
	switch proto {
	case "":
		return nil, rpc.Missing("ListenerProtocol")
	case "HTTP", "HTTPS", "QUIC":
	default:
		return nil, rpc.Invalid("ListenerProtocol", "HTTP, HTTPS or QUIC")
	}
	if c.p["ListenerPort"] == "" {
		return nil, rpc.Missing("ListenerPort")
	}
	port, aerr := rpc.Int(c.p, "ListenerPort", 0, 1, 65535)
	if aerr != nil {
		return nil, aerr
	}
	for _, l := range lb.listeners {
		if l.Port == port && (l.Protocol == "QUIC") == (proto == "QUIC") {
			return nil, rpc.Errorf(400, "ResourceAlreadyExist.Listener", "The listener port %d already exists.", port)
		}
	}
	certs := rpc.Repeated(c.p, "Certificates", "CertificateId")
	def := ""
	if certProtocol(proto) {
		if len(certs) != 1 {
			return nil, rpc.Invalid("Certificates", "an HTTPS or QUIC listener needs exactly one default certificate (Certificates.1.CertificateId)")
		}
		if aerr := c.s.core.CheckCerts(certs); aerr != nil {
			return nil, aerr
		}
		def = certs[0]
	}
	if dry, aerr := rpc.Bool(c.p, "DryRun"); aerr != nil || dry {
		return nil, lbcert.DryRun(aerr)
	}
	l := &listener{lb: lb, Port: port, Protocol: proto, Description: c.p["ListenerDescription"], Created: c.now,
		Listener: lbcert.Listener{ID: lbcert.RandomID("lsn-"), Status: lbcert.Running, Extra: []lbcert.Assoc{}}}
	lb.listeners = append(lb.listeners, l)
	c.s.listeners[l.ID] = l
	c.s.core.Register(&l.Listener)
	// The listener is Configuring while it is created; its default
	// certificate serves from the start.
	l.Default = def
	j := l.Update(c.s.core.Jobs, c.now, c.s.spec("CreateListener", "Create", l.ID), nil)
	c.scheduleFrontend(l, true)
	return obj{"ListenerId": l.ID, "JobId": j.ID}, nil
}

// spec is the job of a write on listener id, failing as JobFaults decide.
func (s *Server) spec(api, op, id string) lbcert.JobSpec {
	return lbcert.JobSpec{API: api, OperateType: op, ResourceType: "listener", ResourceID: id,
		Duration: s.opts.ConfiguringDuration, Fail: s.opts.JobFaults.Fail(api)}
}

func (l *listener) view() obj {
	return obj{"ListenerId": l.ID, "LoadBalancerId": l.lb.ID, "ListenerPort": l.Port, "ListenerProtocol": l.Protocol,
		"ListenerStatus": l.Status, "ListenerDescription": l.Description, "IdleTimeout": 15, "RequestTimeout": 60,
		"GzipEnabled": true, "Http2Enabled": l.Protocol == "HTTPS", "SecurityPolicyId": "tls_cipher_policy_1_0",
		"DefaultActions": []obj{}, "Tags": []obj{}}
}

func listListeners(c *call) (obj, *rpc.Error) {
	lbIDs, ids, proto := rpc.Repeated(c.p, "LoadBalancerIds"), rpc.Repeated(c.p, "ListenerIds"), c.p["ListenerProtocol"]
	var match []obj
	for _, lb := range c.s.lbOrder {
		if lb.Region != c.region || len(lbIDs) > 0 && !slices.Contains(lbIDs, lb.ID) {
			continue
		}
		for _, l := range lb.listeners {
			if len(ids) > 0 && !slices.Contains(ids, l.ID) || proto != "" && proto != l.Protocol ||
				c.p["Status"] != "" && c.p["Status"] != l.Status {
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
		return nil, rpc.Errorf(404, "ResourceNotFound.Listener", "The specified resource %s is not found.", id)
	}
	return l, nil
}

func getListenerAttribute(c *call) (obj, *rpc.Error) {
	l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	out := l.view()
	certs := []obj{}
	if l.Default != "" {
		certs = append(certs, obj{"CertificateId": l.Default, "IsDefault": true, "Status": lbcert.Associated})
	}
	out["Certificates"], out["CaCertificates"], out["CaEnabled"] = certs, []obj{}, false
	return out, nil
}
