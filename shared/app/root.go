// Package app is the composition root of the functions: it builds each use
// case (the rotator, the expiry sweeper, the provisioner and the ACME
// renewer) with its adapters from the validated environment
// (config.Config) and the invocation's credentials. Every mapping of a
// configuration value onto an adapter or a use case is written here, once;
// the defaults themselves live in package config.
//
// A function's main loads the configuration, makes a Root and hands the
// handler a builder of its use case, func(ctx) (UseCase, error), which
// calls one of Root's methods per invocation (credentials arrive with each
// invocation). A builder's error answers apierr: missing credentials are
// apierr.ErrAccessDenied and a configuration no adapter can use is
// apierr.ErrInvalid (both permanent: the handler refuses the invocation).
package app

import (
	"context"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// Root builds the use cases of one invocation. It holds no per-invocation
// state and is safe for concurrent use.
type Root struct {
	// Config is the validated environment (config.Load).
	Config config.Config
	// Getenv is the credentials' fallback outside Function Compute
	// (os.Getenv in main); nil: the invocation's credentials only.
	Getenv func(string) string
	// Retry is every cloud adapter's retry policy; the zero value is the
	// adapters' own (tests shorten it).
	Retry aliyun.RetryPolicy
	// Prober replaces the TLS probe of the rotation and the sweep (tests);
	// nil: tlsprobe over PROBE_RESOLVER.
	Prober rotation.Prober
}

// New is the Root of a function: cfg and the process environment getenv.
func New(cfg config.Config, getenv func(string) string) *Root {
	return &Root{Config: cfg, Getenv: getenv}
}

// credentials are the invocation's STS credentials (else the
// environment's). Without any, the invocation cannot reach the cloud, and
// no retry changes that: apierr.ErrAccessDenied.
func (r *Root) credentials(ctx context.Context) (aliyun.Credentials, error) {
	getenv := r.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	creds, err := aliyun.CredentialsFromContext(ctx, getenv)
	if err != nil {
		return aliyun.Credentials{}, fmt.Errorf("%w: %w", err, apierr.ErrAccessDenied)
	}
	return creds, nil
}

// cloud are the adapters every use case reads the bucket and the load
// balancers with.
type cloud struct {
	creds aliyun.Credentials
	slb   *aliyun.SLB
	oss   *aliyun.OSS
}

// cloud builds the SLB and OSS adapters over the invocation's credentials.
func (r *Root) cloud(ctx context.Context) (cloud, error) {
	creds, err := r.credentials(ctx)
	if err != nil {
		return cloud{}, err
	}
	oss, err := aliyun.NewOSS(creds, r.ossOptions())
	if err != nil {
		return cloud{}, fmt.Errorf("OSS adapter: %w: %w", err, apierr.ErrInvalid)
	}
	return cloud{creds: creds, slb: r.slb(creds), oss: oss}, nil
}

// ossOptions maps the configuration onto the OSS adapter: OSS_ENDPOINT,
// the bucket's region (OSS_REGION, which config.Load defaults to the first
// of REGIONS; a Config built by hand without it falls back to the
// function's region) and the signature version.
func (r *Root) ossOptions() aliyun.OSSOptions {
	region := r.Config.OSSRegion
	if region == "" {
		region = r.Config.FunctionRegion
	}
	return aliyun.OSSOptions{Endpoint: r.Config.OSSEndpoint, Region: region, V4: r.Config.OSSV4(), Retry: r.Retry}
}

func (r *Root) slb(creds aliyun.Credentials) *aliyun.SLB {
	return aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: r.Config.SLBEndpoint, Retry: r.Retry})
}

// rpc are the options of the ALB, NLB and CAS adapters on endpoint.
func (r *Root) rpc(endpoint string) aliyun.RPCOptions {
	return aliyun.RPCOptions{Endpoint: endpoint, Retry: r.Retry}
}

// Notifier is the webhook NOTIFY_KIND, NOTIFY_URL and NOTIFY_SECRET name
// (notify.Nop without a URL). config.Load validates them, so an error here
// means a Config built by hand: apierr.ErrInvalid.
func (r *Root) Notifier() (notify.Notifier, error) {
	n, err := notify.New(r.Config.NotifyKind, r.Config.NotifyURL, r.Config.NotifySecret, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, apierr.ErrInvalid)
	}
	return n, nil
}

// prober is the TLS probe of the rotation and the sweep: Root.Prober, else
// TLSProber over PROBE_RESOLVER.
func (r *Root) prober() rotation.Prober {
	if r.Prober != nil {
		return r.Prober
	}
	return TLSProber(r.Config.ProbeResolver)
}

// TLSProber is the TLS handshake probe (package tlsprobe) as the rotation
// and the sweep consume it, resolving names through resolver ("host:port";
// "" = the system resolver).
func TLSProber(resolver string) rotation.ProbeFunc {
	p := tlsprobe.Prober{Resolver: resolver}
	return func(ctx context.Context, address string, port int, serverName string, timeout time.Duration) rotation.ProbeResult {
		res := p.Probe(ctx, address, port, serverName, timeout)
		return rotation.ProbeResult{Reachable: res.Reachable, FingerprintSHA1: res.FingerprintSHA1, Err: res.Err}
	}
}
