package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
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
// safe), sharing only a connection pool.
type SLB struct {
	creds       Credentials
	scheme      string // "HTTPS" or "HTTP"
	domain      string // host[:port] template, "" = SDK endpoint resolution
	endpointErr error
	timeout     time.Duration
	retry       *retrier
	pacer       *pacer
	transport   *http.Transport
}

// NewSLB returns an SLB adapter. An unusable Endpoint is reported by every
// call as an error that Is apierr.ErrInvalid.
func NewSLB(creds Credentials, opts SLBOptions) *SLB {
	s := &SLB{
		creds:     creds,
		scheme:    "HTTPS",
		timeout:   opts.Timeout,
		retry:     newRetrier(opts.Retry),
		pacer:     newPacer(opts.QPS),
		transport: newBaseTransport(),
	}
	if s.timeout <= 0 {
		s.timeout = DefaultSLBTimeout
	}
	s.scheme, s.domain, s.endpointErr = parseEndpoint(opts.Endpoint)
	return s
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

// client builds a fresh SDK client for one attempt of one call.
func (s *SLB) client(ctx context.Context, region string) (*slb.Client, error) {
	cfg := sdk.NewConfig().WithAutoRetry(false).WithMaxRetryTime(0).WithScheme(s.scheme)
	var prov credentials.CredentialsProvider
	if s.creds.SecurityToken != "" {
		prov = credentials.NewStaticSTSCredentialsProvider(s.creds.AccessKeyID, s.creds.AccessKeySecret, s.creds.SecurityToken)
	} else {
		prov = credentials.NewStaticAKCredentialsProvider(s.creds.AccessKeyID, s.creds.AccessKeySecret)
	}
	c, err := slb.NewClientWithOptions(region, cfg, prov)
	if err != nil {
		return nil, err
	}
	if s.domain != "" {
		c.Domain = strings.ReplaceAll(s.domain, "{region}", region)
	}
	c.SetTransport(ctxTransport{ctx: ctx, base: s.transport})
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	c.SetReadTimeout(timeout)
	c.SetConnectTimeout(5 * time.Second)
	return c, nil
}

// slbOp is one attempt of an action with a fresh client.
type slbOp func(c *slb.Client) error

// do runs op with retries; it returns nil or an *APIError.
func (s *SLB) do(ctx context.Context, region, action string, op slbOp) error {
	_, err := s.doAmbig(ctx, region, action, nil, op)
	return err
}

// doAmbig is do with a hook: before every retry that follows an ambiguous
// failure (the request may have been executed), beforeRetry runs; if it
// returns done=true the attempt ends with its error instead of calling op
// (a nil error ends the call). The returned bool reports that the call
// ended that way: the last attempt was the hook's, not op's. Every attempt
// waits for its slot of the (region, action) pacer.
func (s *SLB) doAmbig(ctx context.Context, region, action string, beforeRetry func() (done bool, err error), op slbOp) (bool, error) {
	if s.endpointErr != nil {
		return false, &APIError{Service: "slb", Action: action, Region: region, Code: "InvalidEndpoint",
			Message: s.endpointErr.Error(), Kind: apierr.ErrInvalid, Attempts: 1}
	}
	if err := ctx.Err(); err != nil {
		return false, &APIError{Service: "slb", Action: action, Region: region, Message: err.Error(),
			Kind: ctxKind(err), cause: err, Attempts: 0}
	}
	ambiguous := false
	hookDone := false
	err := s.retry.doPaced(ctx, s.pacer, region+"/"+action, func(attempt int) error {
		// Only the attempt that ends the call decides how it ended: a hook
		// that failed on an earlier attempt must not turn a later
		// successful upload into "found by the hook".
		hookDone = false
		if attempt > 0 && ambiguous && beforeRetry != nil {
			done, herr := beforeRetry()
			if done {
				hookDone = true
				return herr
			}
		}
		c, err := s.client(ctx, region)
		if err != nil {
			return &APIError{Service: "slb", Action: action, Region: region, Code: "ClientSetup",
				Message: cleanMessage(err.Error(), s.creds.secrets()), Kind: apierr.ErrInvalid}
		}
		err = op(c)
		if err == nil {
			return nil
		}
		ae, amb := s.toAPIError(ctx, action, region, err)
		ambiguous = ambiguous || amb
		return ae
	})
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			// no attempt was made: the pacer had no slot before the
			// deadline, or the ctx ended while waiting for one
			ae = &APIError{Service: "slb", Action: action, Region: region, Code: "ClientThrottling",
				Message: err.Error(), Kind: apierr.ErrTransient}
			if ctxErr := ctx.Err(); ctxErr != nil {
				ae.Code, ae.Message, ae.Kind, ae.cause = "", ctxErr.Error(), ctxKind(ctxErr), ctxErr
			}
			err = ae
		}
	}
	return hookDone, err
}

func ctxKind(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return apierr.ErrTransient
	}
	return nil
}

// toAPIError converts an SDK error; the bool reports an ambiguous failure.
func (s *SLB) toAPIError(ctx context.Context, action, region string, err error) (*APIError, bool) {
	return sdkError(ctx, "slb", action, region, s.creds.secrets(), err)
}

const errTimeoutCode = "SDK.TimeoutError"
