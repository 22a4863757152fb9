package alb

import (
	"slices"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcore"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

func createListener(c *lbcore.Call) (obj, *rpc.Error) {
	lb, proto, port, aerr := c.ListenerRequest("HTTP", "HTTPS", "QUIC")
	if aerr != nil {
		return nil, aerr
	}
	certs := rpc.Repeated(c.P, "Certificates", "CertificateId")
	def := ""
	if proto == "HTTPS" || proto == "QUIC" {
		if len(certs) != 1 {
			return nil, rpc.Invalid("Certificates", "an HTTPS or QUIC listener needs exactly one default certificate (Certificates.1.CertificateId)")
		}
		if aerr := c.CheckCerts(certs); aerr != nil {
			return nil, aerr
		}
		def = certs[0]
	}
	if aerr := c.DryRun(); aerr != nil {
		return nil, aerr
	}
	// The listener is Configuring while it is created; its default
	// certificate serves from the start.
	id := lbcert.RandomID("lsn-")
	j := c.AddListener(lb, id, port, proto, def)
	return obj{"ListenerId": id, "JobId": j.ID}, nil
}

func listenerView(l *lbcore.Listener) obj {
	return obj{"ListenerId": l.ID, "LoadBalancerId": l.LB.ID, "ListenerPort": l.Port, "ListenerProtocol": l.Protocol,
		"ListenerStatus": l.Status, "ListenerDescription": l.Description, "IdleTimeout": 15, "RequestTimeout": 60,
		"GzipEnabled": true, "Http2Enabled": l.Protocol == "HTTPS", "SecurityPolicyId": "tls_cipher_policy_1_0",
		"DefaultActions": []obj{}, "Tags": []obj{}}
}

func getListenerAttribute(c *lbcore.Call) (obj, *rpc.Error) {
	l, aerr := c.Listener()
	if aerr != nil {
		return nil, aerr
	}
	out := listenerView(l)
	certs := []obj{}
	if l.Default != "" {
		certs = append(certs, obj{"CertificateId": l.Default, "IsDefault": true, "Status": lbcert.Associated})
	}
	out["Certificates"], out["CaCertificates"], out["CaEnabled"] = certs, []obj{}, false
	return out, nil
}

func listListenerCertificates(c *lbcore.Call) (obj, *rpc.Error) {
	l, aerr := c.Listener()
	if aerr != nil {
		return nil, aerr
	}
	all, aerr := c.CertificateRows(l, "CertificateType")
	if aerr != nil {
		return nil, aerr
	}
	if filter := rpc.Repeated(c.P, "CertificateIds"); len(filter) > 0 {
		all = slices.DeleteFunc(all, func(o obj) bool { return !slices.Contains(filter, o["CertificateId"].(string)) })
	}
	return lbcore.Page(c.P, "Certificates", all, 20, 100)
}

// listAsynJobs answers ALB's job status API.
func listAsynJobs(c *lbcore.Call) (obj, *rpc.Error) {
	ids, res, api := rpc.Repeated(c.P, "JobIds"), rpc.Repeated(c.P, "ResourceIds"), c.P["ApiName"]
	var match []obj
	for _, j := range c.Jobs().All() {
		l, ok := c.ListenerByID(j.ResourceID)
		if ok && l.LB.Region != c.Region || len(ids) > 0 && !slices.Contains(ids, j.ID) ||
			len(res) > 0 && !slices.Contains(res, j.ResourceID) || api != "" && api != j.API {
			continue
		}
		match = append(match, obj{"Id": j.ID, "ApiName": j.API, "OperateType": j.OperateType, "ResourceType": j.ResourceType,
			"ResourceId": j.ResourceID, "Status": j.Status, "ErrorCode": j.ErrorCode, "ErrorMessage": j.ErrorMessage,
			"CreateTime": j.Created.UnixMilli(), "ModifyTime": j.Modified.UnixMilli()})
	}
	return lbcore.Page(c.P, "Jobs", match, 20, 100)
}
