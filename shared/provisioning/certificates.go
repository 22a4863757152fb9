package provisioning

import (
	"context"
	"fmt"
	"sort"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

func (r *run) certificates(ctx context.Context, leaves map[string]leaf, certIDs map[string]string) error {
	s, region := r.p.Certificates, r.region
	existing, err := s.ListServerCertificates(ctx, region)
	if err != nil {
		return fmt.Errorf("provisioning: list server certificates in %s: %w", region, err)
	}
	names := make([]string, 0, len(leaves))
	for n := range leaves {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		l := leaves[name]
		var match *clb.ServerCertificate
		for i := range existing {
			c := &existing[i]
			if certs.NormalizeFingerprint(c.Fingerprint) != l.fingerprint {
				continue
			}
			if match == nil || (c.Ours() && !match.Ours()) {
				match = c
			}
		}
		if match != nil {
			certIDs[name] = match.ID
			r.res.Certificates = append(r.res.Certificates, CertificateRef{Pair: name, ID: match.ID, Name: match.Name, Fingerprint: l.fingerprint, Reused: true})
			continue
		}
		ref := CertificateRef{Pair: name, ID: placeholder, Name: l.name, Fingerprint: l.fingerprint}
		change := Change{Op: "upload", Resource: "certificate " + l.name, Detail: "pair " + name + ", fingerprint " + l.fingerprint}
		err := r.call(change, fmt.Sprintf("upload certificate %s in %s", l.name, region), func() error {
			sc, err := s.UploadServerCertificate(ctx, region, l.name, l.pair.CertPEM, l.pair.KeyPEM, map[string]string{clb.OwnerTagKey: clb.OwnerTagValue})
			if err == nil {
				ref.ID = sc.ID
			}
			return err
		}, func(ctx context.Context) error {
			return s.DeleteServerCertificate(ctx, region, ref.ID)
		})
		if err != nil {
			return err
		}
		certIDs[name] = ref.ID
		r.res.Certificates = append(r.res.Certificates, ref)
	}
	return nil
}
