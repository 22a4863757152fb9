package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/slb"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// DefaultSLBTimeout is the per-request read timeout when SLBOptions.Timeout
// is zero.
const DefaultSLBTimeout = 10 * time.Second

// SLBOptions configures the SLB adapter.
type SLBOptions struct {
	// Endpoint is "" for the official endpoint over HTTPS, or an override:
	// "http://127.0.0.1:PORT" (local cloud), "https://slb-vpc.{region}.aliyuncs.com",
	// or a bare host (HTTPS). "{region}" is replaced by the call's region.
	Endpoint string
	// Retry bounds the adapter's own retries; the zero value is the default.
	Retry RetryPolicy
	// Timeout is the per-request read timeout (set on each fresh client, so
	// it never leaks into other calls); 0 means DefaultSLBTimeout. It is
	// further shortened to the ctx deadline.
	Timeout time.Duration
	// QPS is a ceiling on the calls per second of each action in each
	// region (the account's API rate limit, when known); 0 means no ceiling.
	// Either way the adapter paces every (region, action) adaptively: a
	// Throttling answer halves that action's rate for every goroutine using
	// this *SLB, successes raise it again additively, and callers wait for
	// their slot instead of being refused.
	QPS float64
}

// SLB is the Classic Load Balancer adapter. It is safe for concurrent use:
// every call builds its own SDK client (the SDK client is not goroutine
// safe), sharing only a connection pool. Calls go through the one RPC core
// of the adapters (rpcAPI, rpcapi.go): retries, pacing, ambiguous failures.
type SLB struct{ *rpcAPI }

// NewSLB returns an SLB adapter. An unusable Endpoint is reported by every
// call as an error that Is apierr.ErrInvalid.
func NewSLB(creds Credentials, opts SLBOptions) *SLB {
	return &SLB{newRPCAPI("slb", creds, RPCOptions{Endpoint: opts.Endpoint, Retry: opts.Retry, Timeout: opts.Timeout, QPS: opts.QPS}, nil, nil)}
}

// parseEndpoint splits an endpoint override into the SDK's scheme and
// domain (host[:port], "{region}" kept for later).
func parseEndpoint(ep string) (scheme, domain string, err error) {
	ep = strings.TrimSpace(ep)
	if ep == "" {
		return "HTTPS", "", nil
	}
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, perr := url.Parse(strings.ReplaceAll(ep, "{region}", "region-placeholder"))
	if perr != nil || u.Host == "" {
		return "HTTPS", "", fmt.Errorf("endpoint %q is not a URL like https://host or http://127.0.0.1:PORT", ep)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		scheme = "HTTPS"
	case "http":
		scheme = "HTTP"
	default:
		return "HTTPS", "", fmt.Errorf("endpoint %q: scheme must be http or https", ep)
	}
	host := strings.ReplaceAll(u.Host, "region-placeholder", "{region}")
	return scheme, host, nil
}

// The SDK fills the package-level slb.EndpointMap lazily and without a lock
// on the first client construction; filling it once here, before any
// goroutine builds a client, removes that data race.
func init() { slb.GetEndpointMap() }

// client builds a fresh SDK client for one attempt of one call (the SDK
// resolves the official endpoint).
func (s *SLB) client(ctx context.Context, region string) (*slb.Client, error) {
	cfg, prov := s.sdkConfig()
	c, err := slb.NewClientWithOptions(region, cfg, prov)
	if err != nil {
		return nil, err
	}
	s.configure(ctx, region, &c.Client)
	return c, nil
}

// slbOp is one attempt of an action with a fresh client.
type slbOp func(c *slb.Client) error

// do runs op with retries; it returns nil or an *APIError.
func (s *SLB) do(ctx context.Context, region, action string, op slbOp) error {
	_, err := s.doAmbig(ctx, region, action, nil, op)
	return err
}

// doAmbig is do with the hook of callWith: before every retry that follows
// an ambiguous failure, beforeRetry may end the call (done=true); the bool
// reports that it did.
func (s *SLB) doAmbig(ctx context.Context, region, action string, beforeRetry func() (done bool, err error), op slbOp) (bool, error) {
	return callWith(ctx, s.rpcAPI, region, action, beforeRetry, func() (*slb.Client, error) { return s.client(ctx, region) }, op)
}

func ctxKind(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return apierr.ErrTransient
	}
	return nil
}

const errTimeoutCode = "SDK.TimeoutError"
