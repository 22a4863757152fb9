package nlb

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
	certs := rpc.Repeated(c.p, "CertificateIds")
	if len(certs) > 1 {
		return nil, rpc.Invalid("CertificateIds", "one server certificate; add others with AssociateAdditionalCertificatesWithListener")
	}
	if len(certs) == 1 {
		if l.Protocol != "TCPSSL" {
			return nil, rpc.Invalid("CertificateIds", "only TCPSSL listeners have certificates")
		}
		if aerr := c.s.core.CheckCerts(certs); aerr != nil {
			return nil, aerr
		}
	}
	if dry, aerr := rpc.Bool(c.p, "DryRun"); aerr != nil || dry {
		return nil, lbcert.DryRun(aerr)
	}
	spec := c.s.spec("UpdateListenerAttribute", "Update", "listener", l.ID)
	desc, hasDesc := c.p["ListenerDescription"]
	apply := func() {
		if hasDesc {
			l.Description = desc
		}
	}
	if len(certs) == 1 {
		apply()
		return obj{"JobId": l.SetDefault(c.s.core.Jobs, c.now, spec, certs[0]).ID}, nil
	}
	return obj{"JobId": l.Update(c.s.core.Jobs, c.now, spec, apply).ID}, nil
}

// additional reads AdditionalCertificateIds.N for the SNI actions.
func (c *call) additional(l *listener) ([]string, *rpc.Error) {
	ids := rpc.Repeated(c.p, "AdditionalCertificateIds")
	switch {
	case len(ids) == 0:
		return nil, rpc.Missing("AdditionalCertificateIds.1")
	case len(ids) > lbcert.MaxCertificatesPerCall:
		return nil, rpc.Invalid("AdditionalCertificateIds", "at most 15 certificates per call")
	case l.Protocol != "TCPSSL":
		return nil, rpc.Invalid("ListenerId", "only TCPSSL listeners have certificates")
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
	if aerr := lbcert.Quota(l.lb.ID, "NLB instance", l.lb.extraCount(), len(ids), c.s.opts.Quota); aerr != nil {
		return nil, aerr
	}
	if dry, aerr := rpc.Bool(c.p, "DryRun"); aerr != nil || dry {
		return nil, lbcert.DryRun(aerr)
	}
	j := l.Associate(c.s.core.Jobs, c.now, c.s.spec("AssociateAdditionalCertificatesWithListener", "Associate", "listener", l.ID), ids)
	return obj{"JobId": j.ID}, nil
}

func disassociateAdditional(c *call) (obj, *rpc.Error) {
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
	j := l.Dissociate(c.s.core.Jobs, c.now, c.s.spec("DisassociateAdditionalCertificatesWithListener", "Disassociate", "listener", l.ID), ids)
	return obj{"JobId": j.ID}, nil
}

func listListenerCertificates(c *call) (obj, *rpc.Error) {
	l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	kind := c.p["CertType"]
	if kind != "" && kind != "Server" && kind != "Ca" {
		return nil, rpc.Invalid("CertType", "Server or Ca")
	}
	var all []obj
	if kind != "Ca" {
		if l.Default != "" {
			all = append(all, obj{"CertificateId": l.Default, "IsDefault": true, "Status": lbcert.Associated, "CertificateType": "Server"})
		}
		for _, a := range l.Extra {
			all = append(all, obj{"CertificateId": a.ID, "IsDefault": false, "Status": a.Status, "CertificateType": "Server"})
		}
	}
	from, to, next, aerr := rpc.Page(c.p, len(all), 20, 50)
	if aerr != nil {
		return nil, aerr
	}
	page := append([]obj{}, all[from:to]...)
	ids := make([]string, 0, len(page))
	for _, o := range page {
		ids = append(ids, o["CertificateId"].(string))
	}
	return obj{"Certificates": page, "CertificateIds": ids, "TotalCount": len(all), "NextToken": next, "MaxResults": to - from}, nil
}

func getJobStatus(c *call) (obj, *rpc.Error) {
	id := c.p["JobId"]
	if id == "" {
		return nil, rpc.Missing("JobId")
	}
	j, ok := c.s.core.Jobs.Get(id)
	if !ok {
		return nil, rpc.Errorf(404, "ResourceNotFound.Job", "The specified job %s is not found.", id)
	}
	return obj{"Status": j.Status}, nil
}
