package alb

import (
	"slices"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// writable finds ListenerId and refuses it while a job runs.
func (c *call) writable() (*listener, *rpc.Error) {
	l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lbcert.Busy(&l.Listener); aerr != nil {
		return nil, aerr
	}
	return l, nil
}

func updateListenerAttribute(c *call) (obj, *rpc.Error) {
	l, aerr := c.writable()
	if aerr != nil {
		return nil, aerr
	}
	certs := rpc.Repeated(c.p, "Certificates", "CertificateId")
	if len(certs) > 1 {
		return nil, rpc.Invalid("Certificates", "one default certificate; add others with AssociateAdditionalCertificatesWithListener")
	}
	if len(certs) == 1 {
		if !certProtocol(l.Protocol) {
			return nil, rpc.Invalid("Certificates", "only HTTPS and QUIC listeners have certificates")
		}
		if aerr := c.s.core.CheckCerts(certs); aerr != nil {
			return nil, aerr
		}
	}
	if dry, aerr := rpc.Bool(c.p, "DryRun"); aerr != nil || dry {
		return nil, lbcert.DryRun(aerr)
	}
	spec := c.s.spec("UpdateListenerAttribute", "Update", l.ID)
	desc, hasDesc := c.p["ListenerDescription"]
	if len(certs) == 1 {
		j := l.SetDefault(c.s.core.Jobs, c.now, spec, certs[0])
		if hasDesc {
			l.Description = desc
		}
		return obj{"JobId": j.ID}, nil
	}
	j := l.Update(c.s.core.Jobs, c.now, spec, func() {
		if hasDesc {
			l.Description = desc
		}
	})
	return obj{"JobId": j.ID}, nil
}

// additional reads Certificates.N.CertificateId for the SNI actions.
func (c *call) additional(l *listener) ([]string, *rpc.Error) {
	ids := rpc.Repeated(c.p, "Certificates", "CertificateId")
	switch {
	case len(ids) == 0:
		return nil, rpc.Missing("Certificates.1.CertificateId")
	case len(ids) > lbcert.MaxCertificatesPerCall:
		return nil, rpc.Invalid("Certificates", "at most 15 certificates per call")
	case !certProtocol(l.Protocol):
		return nil, rpc.Invalid("ListenerId", "only HTTPS and QUIC listeners have certificates")
	}
	return ids, nil
}

// extraCount counts the additional certificates of every listener of lb.
func (lb *loadBalancer) extraCount() int {
	n := 0
	for _, l := range lb.listeners {
		n += len(l.Extra)
	}
	return n
}

func associateAdditional(c *call) (obj, *rpc.Error) {
	l, aerr := c.writable()
	if aerr != nil {
		return nil, aerr
	}
	ids, aerr := c.additional(l)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.s.core.CheckCerts(ids); aerr != nil {
		return nil, aerr
	}
	for i, id := range ids {
		if l.Has(id) || slices.Contains(ids[:i], id) {
			return nil, rpc.Errorf(400, lbcert.CodeAlreadyAssoc, "The certificate %s is already associated with %s.", id, l.ID)
		}
	}
	if aerr := lbcert.Quota(l.lb.ID, l.lb.Edition+" edition", l.lb.extraCount(), len(ids), c.s.opts.Quotas[l.lb.Edition]); aerr != nil {
		return nil, aerr
	}
	if dry, aerr := rpc.Bool(c.p, "DryRun"); aerr != nil || dry {
		return nil, lbcert.DryRun(aerr)
	}
	j := l.Associate(c.s.core.Jobs, c.now, c.s.spec("AssociateAdditionalCertificatesWithListener", "Associate", l.ID), ids)
	return obj{"JobId": j.ID}, nil
}

func dissociateAdditional(c *call) (obj, *rpc.Error) {
	l, aerr := c.writable()
	if aerr != nil {
		return nil, aerr
	}
	ids, aerr := c.additional(l)
	if aerr != nil {
		return nil, aerr
	}
	for _, id := range ids {
		if l.AssociatedIndex(id) < 0 {
			return nil, rpc.Errorf(400, lbcert.CodeNotAssociated, "The certificate %s is not an additional certificate of %s.", id, l.ID)
		}
	}
	if dry, aerr := rpc.Bool(c.p, "DryRun"); aerr != nil || dry {
		return nil, lbcert.DryRun(aerr)
	}
	j := l.Dissociate(c.s.core.Jobs, c.now, c.s.spec("DissociateAdditionalCertificatesFromListener", "Dissociate", l.ID), ids)
	return obj{"JobId": j.ID}, nil
}

func listListenerCertificates(c *call) (obj, *rpc.Error) {
	l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	kind := c.p["CertificateType"]
	if kind != "" && kind != "Server" && kind != "Ca" {
		return nil, rpc.Invalid("CertificateType", "Server or Ca")
	}
	filter := rpc.Repeated(c.p, "CertificateIds")
	var all []obj
	if kind != "Ca" {
		if l.Default != "" {
			all = append(all, obj{"CertificateId": l.Default, "IsDefault": true, "Status": lbcert.Associated, "CertificateType": "Server"})
		}
		for _, a := range l.Extra {
			all = append(all, obj{"CertificateId": a.ID, "IsDefault": false, "Status": a.Status, "CertificateType": "Server"})
		}
	}
	if len(filter) > 0 {
		all = slices.DeleteFunc(all, func(o obj) bool { return !slices.Contains(filter, o["CertificateId"].(string)) })
	}
	from, to, next, aerr := rpc.Page(c.p, len(all), 20, 100)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"Certificates": append([]obj{}, all[from:to]...), "TotalCount": len(all), "NextToken": next, "MaxResults": to - from}, nil
}

func listAsynJobs(c *call) (obj, *rpc.Error) {
	ids, res, api := rpc.Repeated(c.p, "JobIds"), rpc.Repeated(c.p, "ResourceIds"), c.p["ApiName"]
	var match []obj
	for _, j := range c.s.core.Jobs.All() {
		l, ok := c.s.listeners[j.ResourceID]
		if ok && l.lb.Region != c.region || len(ids) > 0 && !slices.Contains(ids, j.ID) ||
			len(res) > 0 && !slices.Contains(res, j.ResourceID) || api != "" && api != j.API {
			continue
		}
		match = append(match, obj{"Id": j.ID, "ApiName": j.API, "OperateType": j.OperateType, "ResourceType": j.ResourceType,
			"ResourceId": j.ResourceID, "Status": j.Status, "ErrorCode": j.ErrorCode, "ErrorMessage": j.ErrorMessage,
			"CreateTime": j.Created.UnixMilli(), "ModifyTime": j.Modified.UnixMilli()})
	}
	from, to, next, aerr := rpc.Page(c.p, len(match), 20, 100)
	if aerr != nil {
		return nil, aerr
	}
	return obj{"Jobs": append([]obj{}, match[from:to]...), "TotalCount": len(match), "NextToken": next, "MaxResults": to - from}, nil
}
