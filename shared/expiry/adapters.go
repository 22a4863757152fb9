package expiry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// BucketPairs finds auto-rotation candidates with the rotation's own
// loader: pairs.List, then pairs.Load (the same size caps and validation
// as an upload) and pairs.LoadDeploy for every complete pair. A pair that
// does not validate is no candidate; a transient failure fails the listing.
type BucketPairs struct {
	Objects      pairs.ObjectReader
	Bucket       string
	Prefix       string
	MinValidDays int
}

// Candidates implements Pairs.
func (b BucketPairs) Candidates(ctx context.Context, now time.Time) ([]Candidate, error) {
	refs, err := pairs.List(ctx, b.Objects, b.Bucket, b.Prefix)
	if err != nil {
		return nil, err
	}
	var out []Candidate
	for _, ref := range refs {
		if !ref.Complete() {
			continue
		}
		bundle, err := pairs.Load(ctx, b.Objects, b.Bucket, b.Prefix, ref.Name, now, certs.Options{MinValidDays: b.MinValidDays})
		if err != nil {
			if errors.Is(err, apierr.ErrTransient) || ctx.Err() != nil {
				return nil, fmt.Errorf("expiry: load pair %s: %w", ref.Name, err)
			}
			continue
		}
		cand := Candidate{Name: ref.Name, Domains: bundle.Domains, NotAfter: bundle.NotAfter, Fingerprint: bundle.FingerprintSHA1}
		if ref.DeployKey != "" {
			d, err := pairs.LoadDeploy(ctx, b.Objects, b.Bucket, ref.DeployKey)
			if err != nil {
				if errors.Is(err, apierr.ErrTransient) || ctx.Err() != nil {
					return nil, fmt.Errorf("expiry: load pair %s: %w", ref.Name, err)
				}
				continue // an invalid deploy.yaml: the rotation rejects the pair
			}
			cand.Targets, cand.ExplicitOnly = d.Targets, !d.DiscoverEnabled()
		}
		out = append(out, cand)
	}
	return out, nil
}

// PairRotator runs rotation.Rotator.RotateName for pairs of one bucket.
type PairRotator struct {
	Rotator *rotation.Rotator
	Bucket  string
}

// RotateName implements Rotator. The outcome is OK when the rotation
// switched (or found already switched) every target with no rollback and
// no error. The rotation runs on a copy of the Rotator whose discovery
// leaves the pinned places alone and starts from snaps; snaps then record
// the places it switched.
func (p PairRotator) RotateName(ctx context.Context, now time.Time, name string, pinned []clb.Target, snaps rotation.Snapshots) (RotationOutcome, error) {
	r := *p.Rotator
	r.Config.Pinned = pinned
	res, err := r.Rotate(ctx, now, rotation.Request{Bucket: p.Bucket, Name: name, Snapshots: snaps})
	snaps.Record(res)
	targets, switched, rolledBack, deleted, errs := res.Counts()
	out := RotationOutcome{
		Status: res.Status,
		Detail: fmt.Sprintf("%d targets, %d switched, %d rolled back, %d superseded deleted", targets, switched, rolledBack, deleted),
	}
	if res.Reason != "" {
		out.Detail = res.Reason + "; " + out.Detail
	}
	if errs > 0 {
		out.Detail += fmt.Sprintf("; %d errors: %s", errs, res.Errors[0])
	}
	out.OK = err == nil && errs == 0 && rolledBack == 0 &&
		(res.Status == rotation.StatusRotated || res.Status == rotation.StatusUnchanged || res.Status == rotation.StatusPlanned)
	return out, err
}
