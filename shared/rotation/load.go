package rotation

import (
	"context"
	"errors"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
)

// load reads and validates the pair and its deploy.yaml (package pairs). A
// status is set for an outcome that ends the rotation early (waiting,
// rejected); err is set only for a failure worth retrying.
func (r *Rotator) load(ctx context.Context, now time.Time, bucket, prefix, name string, layout pairs.Layout) (m *material, d pairs.Deploy, deployFile string, status Status, reason string, err error) {
	b, ref, err := pairs.LoadLayout(ctx, r.Objects, bucket, prefix, name, layout, now, certs.Options{MinValidDays: r.Config.MinValidDays, AllowECDSA: r.takesECDSA()})
	deployFile = prefix + name + "/" + pairs.DeployFileName
	if err != nil {
		switch {
		case errors.Is(err, pairs.ErrIncomplete):
			return nil, d, deployFile, StatusWaiting, err.Error(), nil
		case errors.Is(err, certs.ErrKeyMismatch):
			return nil, d, deployFile, StatusWaiting, err.Error() + " (waiting for the other half)", nil
		case apierr.Permanent(err): // a refusal (certs.Error) answers apierr.ErrInvalid
			return nil, d, deployFile, StatusRejected, err.Error(), nil
		default:
			return nil, d, deployFile, "", "", err
		}
	}
	if ref.DeployKey != "" {
		if d, err = pairs.LoadDeploy(ctx, r.Objects, bucket, ref.DeployKey); err != nil {
			if apierr.Permanent(err) {
				return nil, d, deployFile, StatusRejected, err.Error(), nil
			}
			return nil, d, deployFile, "", "", err
		}
	}
	return fromBundle(name, b), d, deployFile, "", "", nil
}

// fromBundle extracts what the rotation needs from a validated bundle.
func fromBundle(name string, b *certs.Bundle) *material {
	return &material{
		name:        name,
		certName:    certs.CertificateName(name, b.NotAfter, b.FingerprintSHA1),
		certPEM:     b.CertPEM,
		key:         b.Key,
		fingerprint: b.FingerprintSHA1,
		sha256:      b.SHA256,
		notAfter:    b.NotAfter,
		domains:     b.Domains,
		ecdsa:       b.ECDSA,
	}
}
