package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/provisioning"
)

// Provisioner is the provisioning of one invocation: SLB for the load
// balancer, the certificate bucket through pairs.Load (the same
// loading, validation and normalisation as the rotation) and the lease
// lock in the bucket.
func (r *Root) Provisioner(ctx context.Context) (*provisioning.Provisioner, error) {
	c, err := r.cloud(ctx)
	if err != nil {
		return nil, err
	}
	cfg := r.Config
	return &provisioning.Provisioner{
		Instances:    c.slb,
		Backends:     c.slb,
		Listeners:    c.slb,
		Extensions:   c.slb,
		Certificates: c.slb,
		Pairs: pairLoader{
			objects: c.oss,
			bucket:  cfg.CertBucket,
			prefix:  cfg.CertPrefix,
			opts:    certs.Options{MinValidDays: cfg.MinValidDays},
		},
		Locks: bucketLocks{store: aliyun.LockStore(c.oss), bucket: cfg.CertBucket},
	}, nil
}

// bucketLocks serialises applies and destroys of one instance with the
// lease lock of package lease in the certificate bucket
// (locks/provision/<region>/<name>/), the rotation's lock.
type bucketLocks struct {
	store  lease.Store
	bucket string
}

func (b bucketLocks) Lock(ctx context.Context, key string) (func(context.Context) error, error) {
	l, err := lease.Acquire(ctx, b.store, b.bucket, key, lease.NewOwner(RequestID(ctx)), lease.Options{})
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}

// RequestID is the Function Compute request id of the invocation ("" outside
// Function Compute): the owner of the leases it takes.
func RequestID(ctx context.Context) string {
	if fctx, ok := fccontext.FromContext(ctx); ok && fctx != nil {
		return fctx.RequestID
	}
	return ""
}

// pairLoader adapts pairs.Load to provisioning.PairLoader.
type pairLoader struct {
	objects pairs.ObjectReader
	bucket  string
	prefix  string
	opts    certs.Options
}

// LoadPair loads and validates the pair; every refusal of the pair itself
// (missing half, bad PEM, key mismatch, too short validity) is permanent.
func (l pairLoader) LoadPair(ctx context.Context, name string, now time.Time) (provisioning.Pair, error) {
	if l.bucket == "" {
		return provisioning.Pair{}, fmt.Errorf("provision: CERT_BUCKET is not set, so no certificate pair can be read (set it in s.yaml vars.env or the environment): %w", apierr.ErrInvalid)
	}
	b, err := pairs.Load(ctx, l.objects, l.bucket, l.prefix, name, now, l.opts)
	if err != nil {
		// A refusal of the pair (certs.Error) already
		// answers apierr.ErrInvalid; a missing half is permanent here too.
		if errors.Is(err, pairs.ErrIncomplete) && !apierr.Permanent(err) {
			return provisioning.Pair{}, fmt.Errorf("%w: %w", err, apierr.ErrInvalid)
		}
		return provisioning.Pair{}, err
	}
	return provisioning.Pair{
		Name:            name,
		CertificateName: certs.CertificateName(name, b.NotAfter, b.FingerprintSHA1),
		CertPEM:         b.CertPEM,
		KeyPEM:          b.Key.PEM(),
	}, nil
}
