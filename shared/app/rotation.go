package app

import (
	"context"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/albnlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// RotationConfig is the rotation's configuration from the environment:
// bucket and prefix, regions, validity floor, superseded certificates kept,
// dry run, probe timeout and concurrency, each as config.Load defaulted it.
func RotationConfig(c config.Config) rotation.Config {
	return rotation.Config{
		Bucket:       c.CertBucket,
		Prefix:       c.CertPrefix,
		Regions:      c.Regions,
		MinValidDays: c.MinValidDays,
		Keep:         c.KeepSuperseded,
		DryRun:       c.DryRun,
		ProbeTimeout: c.ProbeTimeout,
		Concurrency:  c.Concurrency,
	}
}

// Rotator is the rotation of one invocation (rotate-on-upload): the
// certificate bucket over OSS, CLB over SLB plus the ALB and NLB ports of
// LB_PRODUCTS, the TLS probe and the cross-instance lock in the bucket.
func (r *Root) Rotator(ctx context.Context) (*rotation.Rotator, error) {
	c, err := r.cloud(ctx)
	if err != nil {
		return nil, err
	}
	return r.rotator(c, r.lbAdapters(c.creds)), nil
}

func (r *Root) rotator(c cloud, lbs lbAdapters) *rotation.Rotator {
	return &rotation.Rotator{
		Config:   RotationConfig(r.Config),
		Objects:  c.oss,
		SLB:      c.slb,
		Products: Products(r.Config, c.slb, r.loadBalancerPorts(lbs)),
		Prober:   r.prober(),
		Locks:    aliyun.LockStore(c.oss),
	}
}

// Sweeper is the expiry sweep of one invocation: the inventories of CLB,
// ALB, NLB and CAS, the bucket (pairs, reports, notification memory), the
// TLS probe, the notifier, and for auto-rotation the same Rotator as
// rotate-on-upload (same products, same lock: an upload of the same pair
// may be rotating at this moment).
func (r *Root) Sweeper(ctx context.Context) (*expiry.Sweeper, error) {
	c, err := r.cloud(ctx)
	if err != nil {
		return nil, err
	}
	notifier, err := r.Notifier()
	if err != nil {
		return nil, err
	}
	cfg := r.Config
	lbs := r.lbAdapters(c.creds) // one set for the sweep and its auto-rotation
	rot := r.rotator(c, lbs)
	return &expiry.Sweeper{
		Inventory:        rotation.CLBPort{SLB: c.slb},
		ALB:              albnlb.New(clb.ProductALB, lbs.alb, lbs.cas),
		NLB:              albnlb.New(clb.ProductNLB, lbs.nlb, lbs.cas),
		CAS:              albnlb.Store{CAS: lbs.cas},
		Objects:          c.oss,
		Bucket:           cfg.CertBucket,
		Pairs:            expiry.BucketPairs{Objects: rot.Objects, Bucket: cfg.CertBucket, Prefix: cfg.CertPrefix, MinValidDays: cfg.MinValidDays},
		Rotator:          expiry.PairRotator{Rotator: rot, Bucket: cfg.CertBucket},
		Prober:           rot.Prober,
		Notifier:         notifier,
		Concurrency:      cfg.Concurrency,
		ProbeConcurrency: cfg.ProbeConcurrency,
		ProbeTimeout:     cfg.ProbeTimeout,
	}, nil
}
