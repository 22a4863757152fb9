package nlb

import (
	"fmt"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcore"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

func createListener(c *lbcore.Call) (obj, *rpc.Error) {
	lb, proto, port, aerr := c.ListenerRequest("TCP", "UDP", "TCPSSL")
	if aerr != nil {
		return nil, aerr
	}
	certs := rpc.Repeated(c.P, "CertificateIds")
	def := ""
	if proto == "TCPSSL" {
		if len(certs) != 1 {
			return nil, rpc.Invalid("CertificateIds", "a TCPSSL listener needs exactly one server certificate (CertificateIds.1)")
		}
		if aerr := c.CheckCerts(certs); aerr != nil {
			return nil, aerr
		}
		def = certs[0]
	} else if len(certs) > 0 {
		return nil, rpc.Invalid("CertificateIds", "only TCPSSL listeners have certificates")
	}
	if aerr := c.DryRun(); aerr != nil {
		return nil, aerr
	}
	id := lbcert.RandomID("lsn-") + fmt.Sprintf("@%d", port)
	j := c.AddListener(lb, id, port, proto, def)
	return obj{"ListenerId": id, "JobId": j.ID}, nil
}

func listenerView(l *lbcore.Listener) obj {
	certs := []string{}
	if l.Default != "" {
		certs = append(certs, l.Default)
	}
	return obj{"RegionId": l.LB.Region, "LoadBalancerId": l.LB.ID, "ListenerId": l.ID, "ListenerProtocol": l.Protocol,
		"ListenerPort": l.Port, "ListenerStatus": l.Status, "ListenerDescription": l.Description, "IdleTimeout": 900,
		"ServerGroupId": "sgp-local", "SecurityPolicyId": "tls_cipher_policy_1_0", "CertificateIds": certs,
		"CaCertificateIds": []string{}, "Tags": []obj{}}
}

func getListenerAttribute(c *lbcore.Call) (obj, *rpc.Error) {
	l, aerr := c.Listener()
	if aerr != nil {
		return nil, aerr
	}
	return listenerView(l), nil
}

func listListenerCertificates(c *lbcore.Call) (obj, *rpc.Error) {
	l, aerr := c.Listener()
	if aerr != nil {
		return nil, aerr
	}
	all, aerr := c.CertificateRows(l, "CertType")
	if aerr != nil {
		return nil, aerr
	}
	out, aerr := lbcore.Page(c.P, "Certificates", all, 20, 50)
	if aerr != nil {
		return nil, aerr
	}
	page := out["Certificates"].([]obj)
	ids := make([]string, 0, len(page))
	for _, o := range page {
		ids = append(ids, o["CertificateId"].(string))
	}
	out["CertificateIds"] = ids
	return out, nil
}

// getJobStatus answers NLB's job status API.
func getJobStatus(c *lbcore.Call) (obj, *rpc.Error) {
	id := c.P["JobId"]
	if id == "" {
		return nil, rpc.Missing("JobId")
	}
	j, ok := c.Jobs().Get(id)
	if !ok {
		return nil, rpc.Errorf(404, "ResourceNotFound.Job", "The specified job %s is not found.", id)
	}
	return obj{"Status": j.Status}, nil
}
