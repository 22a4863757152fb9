package provisioning

import (
	"context"
	"fmt"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

func (r *run) domainExtensions(ctx context.Context, lbID string, port int, want []DomainExtensionSpec, have []clb.DomainExtension, certIDs map[string]string) error {
	s, region := r.p.Extensions, r.region
	byDomain := map[string]clb.DomainExtension{}
	for _, e := range have {
		byDomain[strings.ToLower(e.Domain)] = e
	}
	wanted := map[string]bool{}
	for _, e := range want {
		dom := strings.ToLower(e.Domain)
		wanted[dom] = true
		certID := certIDs[e.Certificate]
		res := fmt.Sprintf("domain extension %s on listener %d", dom, port)
		cur, ok := byDomain[dom]
		switch {
		case !ok:
			var extID string
			err := r.call(Change{Op: "create", Resource: res, Detail: "certificate " + e.Certificate},
				fmt.Sprintf("create domain extension %s on %s:%d in %s", dom, lbID, port, region),
				func() error {
					id, err := s.CreateDomainExtension(ctx, region, lbID, port, dom, certID)
					extID = id
					return err
				}, func(ctx context.Context) error { return s.DeleteDomainExtension(ctx, region, extID) })
			if err != nil {
				return err
			}
		case cur.ServerCertificateID != certID:
			err := r.call(Change{Op: "update", Resource: res, Detail: fmt.Sprintf("certificate %s -> %s", orNone(cur.ServerCertificateID), certID)},
				fmt.Sprintf("set domain extension %s (%s) in %s", dom, cur.ID, region),
				func() error { return s.SetDomainExtensionCertificate(ctx, region, cur.ID, certID) }, nil)
			if err != nil {
				return err
			}
		}
	}
	for _, e := range have {
		dom := strings.ToLower(e.Domain)
		if wanted[dom] {
			continue
		}
		err := r.call(Change{Op: "delete", Resource: fmt.Sprintf("domain extension %s on listener %d", dom, port), Detail: "not in the payload"},
			fmt.Sprintf("delete domain extension %s (%s) in %s", dom, e.ID, region),
			func() error { return s.DeleteDomainExtension(ctx, region, e.ID) }, nil)
		if err != nil {
			return err
		}
	}
	return nil
}
