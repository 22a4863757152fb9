package lbcore

import (
	"slices"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// writable finds ListenerId and refuses it while a job runs.
func (c *Call) writable() (*Listener, *rpc.Error) {
	l, aerr := c.Listener()
	if aerr != nil {
		return nil, aerr
	}
	if aerr := lbcert.Busy(&l.Listener); aerr != nil {
		return nil, aerr
	}
	return l, nil
}

// updateListenerAttribute answers UpdateListenerAttribute: a new default
// certificate (Product.DefaultCerts, at most one) takes effect when the
// job is due; ListenerDescription changes at once with a certificate,
// else with the job.
func updateListenerAttribute(c *Call) (map[string]any, *rpc.Error) {
	l, aerr := c.writable()
	if aerr != nil {
		return nil, aerr
	}
	pr := c.s.product
	certs := pr.DefaultCerts.Values(c.P)
	if len(certs) > 1 {
		return nil, rpc.Invalid(pr.DefaultCerts.Name, "one "+pr.DefaultNoun+"; add others with AssociateAdditionalCertificatesWithListener")
	}
	if len(certs) == 1 {
		if !pr.carriesCerts(l.Protocol) {
			return nil, pr.noCerts(pr.DefaultCerts.Name)
		}
		if aerr := c.CheckCerts(certs); aerr != nil {
			return nil, aerr
		}
	}
	if aerr := c.DryRun(); aerr != nil {
		return nil, aerr
	}
	spec := c.Spec("UpdateListenerAttribute", "Update", "listener", l.ID)
	desc, hasDesc := c.P["ListenerDescription"]
	apply := func() {
		if hasDesc {
			l.Description = desc
		}
	}
	if len(certs) == 1 {
		apply()
		return map[string]any{"JobId": l.SetDefault(c.s.core.Jobs, c.Now, spec, certs[0]).ID}, nil
	}
	return map[string]any{"JobId": l.Update(c.s.core.Jobs, c.Now, spec, apply).ID}, nil
}

// additional reads what the SNI actions write: a listener that is not
// Configuring and Product.AdditionalCerts.
func (c *Call) additional() (*Listener, []string, *rpc.Error) {
	l, aerr := c.writable()
	if aerr != nil {
		return nil, nil, aerr
	}
	pr := c.s.product
	ids := pr.AdditionalCerts.Values(c.P)
	switch {
	case len(ids) == 0:
		return nil, nil, rpc.Missing(pr.AdditionalCerts.First())
	case len(ids) > lbcert.MaxCertificatesPerCall:
		return nil, nil, rpc.Invalid(pr.AdditionalCerts.Name, "at most 15 certificates per call")
	case !pr.carriesCerts(l.Protocol):
		return nil, nil, pr.noCerts("ListenerId")
	}
	return l, ids, nil
}

// associate answers AssociateAdditionalCertificatesWithListener: the
// certificates are Associating until the job is due, within the
// instance's quota.
func associate(c *Call) (map[string]any, *rpc.Error) {
	l, ids, aerr := c.additional()
	if aerr != nil {
		return nil, aerr
	}
	if aerr := c.CheckCerts(ids); aerr != nil {
		return nil, aerr
	}
	for i, id := range ids {
		if l.Has(id) || slices.Contains(ids[:i], id) {
			return nil, rpc.Errorf(400, lbcert.CodeAlreadyAssoc, "The certificate %s is already associated with %s.", id, l.ID)
		}
	}
	lb := l.LB
	if aerr := lbcert.Quota(lb.ID, c.s.product.QuotaKind(lb), lb.extraCount(), len(ids), c.quota(lb)); aerr != nil {
		return nil, aerr
	}
	if aerr := c.DryRun(); aerr != nil {
		return nil, aerr
	}
	const api = "AssociateAdditionalCertificatesWithListener"
	j := l.Associate(c.s.core.Jobs, c.Now, c.Spec(api, "Associate", "listener", l.ID), ids)
	return map[string]any{"JobId": j.ID}, nil
}

// quota is lb's quota of additional certificates.
func (c *Call) quota(lb *Instance) int {
	if q, ok := c.s.opts.Quotas[lb.Edition]; ok {
		return q
	}
	return c.s.opts.Quota
}

// Dissociate is the handler of the product's dissociate action api (its
// jobs of operation type op): the certificates are Dissociating, still
// served, until the job is due.
func Dissociate(api, op string) Handler {
	return func(c *Call) (map[string]any, *rpc.Error) {
		l, ids, aerr := c.additional()
		if aerr != nil {
			return nil, aerr
		}
		for _, id := range ids {
			if l.AssociatedIndex(id) < 0 {
				return nil, rpc.Errorf(400, lbcert.CodeNotAssociated, "The certificate %s is not an additional certificate of %s.", id, l.ID)
			}
		}
		if aerr := c.DryRun(); aerr != nil {
			return nil, aerr
		}
		j := l.Dissociate(c.s.core.Jobs, c.Now, c.Spec(api, op, "listener", l.ID), ids)
		return map[string]any{"JobId": j.ID}, nil
	}
}

// CertificateRows lists the listener's certificates, the default first,
// as ListListenerCertificates shows them; kindParam is the product's
// certificate type filter (Server or Ca; CA certificates are not modelled).
func (c *Call) CertificateRows(l *Listener, kindParam string) ([]map[string]any, *rpc.Error) {
	kind := c.P[kindParam]
	if kind != "" && kind != "Server" && kind != "Ca" {
		return nil, rpc.Invalid(kindParam, "Server or Ca")
	}
	var all []map[string]any
	if kind == "Ca" {
		return all, nil
	}
	if l.Default != "" {
		all = append(all, map[string]any{"CertificateId": l.Default, "IsDefault": true, "Status": lbcert.Associated, "CertificateType": "Server"})
	}
	for _, a := range l.Extra {
		all = append(all, map[string]any{"CertificateId": a.ID, "IsDefault": false, "Status": a.Status, "CertificateType": "Server"})
	}
	return all, nil
}
