// Command provision is the manually invoked Function Compute function that
// applies, plans or destroys the declarative load balancer setup described
// by its JSON payload (see package provisioning and docs/provision.md):
//
//	s provision invoke -f events/provision-apply.json
//
// main.go only wires; handler.go decodes, dispatches and logs once.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"log/slog"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/provisioning"
)

// Service is the provisioning use case as the handler uses it
// (*provisioning.Provisioner).
type Service interface {
	Apply(ctx context.Context, now time.Time, d provisioning.Desired) (provisioning.Result, error)
	Plan(ctx context.Context, now time.Time, d provisioning.Desired) (provisioning.Result, error)
	Destroy(ctx context.Context, now time.Time, d provisioning.Desired) (provisioning.Result, error)
}

// Handler serves one invocation: raw payload in, Result out.
type Handler struct {
	// Open builds the use case for one invocation (credentials arrive with
	// each invocation). An error that answers apierr.Permanent (bad
	// configuration, missing credentials) rejects the invocation.
	Open func(ctx context.Context) (Service, error)
	// Logger receives the one record per invocation.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Handle decodes and validates the payload, runs the action and logs the
// outcome once. Permanent problems end with status "rejected" and a nil
// error (Function Compute must not retry); transient ones return the error.
func (h *Handler) Handle(ctx context.Context, payload []byte) (provisioning.Result, error) {
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	start := now()
	res, err := h.handle(ctx, start, payload)
	if err != nil && res.Status.Success() {
		// FC retries an invocation that returns an error: its status never
		// reads as a success.
		res.Status = provisioning.StatusFailed
	}
	h.log(ctx, res, err, now().Sub(start))
	return res, err
}

func (h *Handler) handle(ctx context.Context, now time.Time, payload []byte) (provisioning.Result, error) {
	d, err := provisioning.Parse(payload)
	if err != nil {
		return provisioning.Rejected(actionOf(payload), err), nil
	}
	svc, err := h.Open(ctx)
	if err != nil {
		res := provisioning.Rejected(d.Action, err)
		res.Region, res.Name = d.Region, d.LoadBalancer.Name
		if apierr.Permanent(err) {
			return res, nil
		}
		res.Status = provisioning.StatusFailed
		return res, err
	}
	switch d.Action {
	case provisioning.ActionPlan:
		return svc.Plan(ctx, now, d)
	case provisioning.ActionDestroy:
		return svc.Destroy(ctx, now, d)
	default:
		return svc.Apply(ctx, now, d)
	}
}

// actionOf is the action a payload that failed validation asked for, for the
// result only: the value as given (a misspelt "aply" stays "aply", clipped),
// "apply" when the payload names none, empty when the payload is not a JSON
// object or "action" is not a string.
func actionOf(payload []byte) string {
	var probe struct {
		Action json.RawMessage `json:"action"`
	}
	if json.Unmarshal(payload, &probe) != nil {
		return ""
	}
	if len(probe.Action) == 0 || string(probe.Action) == "null" {
		return provisioning.ActionApply
	}
	var a string
	if json.Unmarshal(probe.Action, &a) != nil {
		return ""
	}
	if a == "" {
		return provisioning.ActionApply
	}
	if r := []rune(a); len(r) > 40 {
		a = string(r[:40]) + "..."
	}
	return a
}

func (h *Handler) log(ctx context.Context, res provisioning.Result, err error, took time.Duration) {
	logger := h.Logger
	if logger == nil {
		logger = slog.Default()
	}
	attrs := []slog.Attr{
		slog.String("action", res.Action),
		slog.String("status", string(res.Status)),
		slog.String("region", res.Region),
		slog.String("name", res.Name),
		slog.String("load_balancer_id", res.LoadBalancerID),
		slog.Int("changes", len(res.Changes)),
		slog.Int("rolled_back", len(res.RolledBack)),
		slog.Int64("duration_ms", took.Milliseconds()),
	}
	if len(res.Problems) > 0 {
		attrs = append(attrs, slog.Any("problems", res.Problems))
	}
	if res.Error != "" {
		attrs = append(attrs, slog.String("error", res.Error))
	}
	level := slog.LevelInfo
	switch {
	case err != nil:
		level = slog.LevelError
	case res.Status == provisioning.StatusRejected || len(res.Warnings) > 0:
		level = slog.LevelWarn
	}
	logger.LogAttrs(ctx, level, "provision "+res.Action+": "+string(res.Status), attrs...)
}

// Opener returns the Handler's Open for Function Compute: a configuration
// error (every problem, by variable name) or missing credentials reject the
// invocation; otherwise the adapters are built from the invocation's STS
// credentials.
func Opener(cfg config.Config, cfgErr error, getenv func(string) string) func(ctx context.Context) (Service, error) {
	return func(ctx context.Context) (Service, error) {
		if cfgErr != nil {
			return nil, cfgErr
		}
		creds, err := aliyun.CredentialsFromContext(ctx, getenv)
		if err != nil {
			return nil, fmt.Errorf("provision: %w: %w", err, apierr.ErrAccessDenied)
		}
		return NewService(cfg, creds)
	}
}

// NewService wires the use case to the cloud adapters: SLB for the load
// balancer, the certificate bucket through pairs.Load (the same
// loading, validation and normalisation as the rotation).
func NewService(cfg config.Config, creds aliyun.Credentials) (*provisioning.Provisioner, error) {
	oss, err := aliyun.NewOSS(creds, aliyun.OSSOptions{Endpoint: cfg.OSSEndpoint, Region: cfg.OSSRegion, V4: cfg.OSSV4()})
	if err != nil {
		return nil, fmt.Errorf("provision: OSS client: %w: %w", err, apierr.ErrInvalid)
	}
	slb := aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: cfg.SLBEndpoint})
	return &provisioning.Provisioner{
		Instances:    instances{slb},
		Backends:     slb,
		Listeners:    slb,
		Extensions:   slb,
		Certificates: slb,
		Pairs: pairLoader{
			objects: oss,
			bucket:  cfg.CertBucket,
			prefix:  cfg.CertPrefix,
			opts:    certs.Options{MinValidDays: cfg.MinValidDays},
		},
		Locks: bucketLocks{store: aliyun.LockStore(oss), bucket: cfg.CertBucket},
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
	requestID := ""
	if fctx, ok := fccontext.FromContext(ctx); ok {
		requestID = fctx.RequestID
	}
	l, err := lease.Acquire(ctx, b.store, b.bucket, key, lease.NewOwner(requestID), lease.Options{})
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}

// instances gives *aliyun.SLB the provisioning.Instances shape: the
// domain's instance spec mapped onto the API's.
type instances struct{ *aliyun.SLB }

func (a instances) CreateLoadBalancer(ctx context.Context, region string, spec provisioning.InstanceSpec, token string) (clb.LoadBalancer, error) {
	return a.SLB.CreateLoadBalancer(ctx, region, aliyun.LoadBalancerSpec{
		Name: spec.Name, AddressType: spec.AddressType, Spec: spec.Spec, PayType: spec.PayType,
		MasterZone: spec.MasterZoneID, SlaveZone: spec.SlaveZoneID, Bandwidth: spec.Bandwidth, Tags: spec.Tags,
	}, token)
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
