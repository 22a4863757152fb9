package aliyun

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// RPCOptions configures the ALB, NLB and CAS adapters (the same knobs as
// SLBOptions, plus listing and polling).
type RPCOptions struct {
	// Endpoint is "" for the official endpoint over HTTPS, or an override:
	// "http://127.0.0.1:PORT" (local cloud), "https://alb-vpc.{region}.aliyuncs.com",
	// or a bare host (HTTPS). "{region}" is replaced by the call's region
	// (for CAS: the CAS region, see CASRegion).
	Endpoint string
	// Retry bounds the adapter's own retries; the zero value is the default.
	Retry RetryPolicy
	// Timeout is the per-request read timeout; 0 means DefaultSLBTimeout.
	Timeout time.Duration
	// QPS is a per-(region, action) ceiling; 0 means adaptive pacing only
	// (see SLBOptions.QPS).
	QPS float64
	// PageSize is the page size of every listing (MaxResults, ShowSize);
	// 0 means the largest the action accepts.
	PageSize int
	// PollInterval is the wait between two reads of a listener's status or
	// a job's; 0 means DefaultPollInterval.
	PollInterval time.Duration
}

// DefaultPollInterval is the wait between two status reads of an
// asynchronous ALB or NLB write. A write returns at most one interval
// after its job ends: with the usual 2 s Configuring time that is within
// 1.2 times the time the job takes, at about four reads per second per
// listener being written (the pacer slows them if the API throttles).
const DefaultPollInterval = 250 * time.Millisecond

// rpcAPI is the call machinery of every RPC adapter (SLB, ALB, NLB, CAS,
// Alidns): a fresh SDK client per attempt (the SDK client is not goroutine
// safe), retries and adaptive pacing per (region, action), the handling of
// ambiguous failures (callWith), errors converted into *APIError without
// any request parameter or secret.
type rpcAPI struct {
	service     string // "slb", "alb", "nlb", "cas", "alidns"
	creds       Credentials
	scheme      string
	domain      string // override template, "" = official
	endpointErr error
	official    func(region string) string // official host of a region (nil: the SDK's endpoint resolution)
	newClient   func(region string, cfg *sdk.Config, prov credentials.CredentialsProvider) (*sdk.Client, error)
	refine      func(ae *APIError) // adjusts a converted error of the service (nil: none)
	timeout     time.Duration
	retry       *retrier
	pacer       *pacer
	transport   *http.Transport
}

// newRPCAPI builds the machinery of service; official and newClient serve
// callers of call and callAmbig (SLB and Alidns build their own typed
// clients with sdkConfig and configure, and pass nil).
func newRPCAPI(service string, creds Credentials, opts RPCOptions, official func(string) string,
	newClient func(string, *sdk.Config, credentials.CredentialsProvider) (*sdk.Client, error)) *rpcAPI {
	a := &rpcAPI{service: service, creds: creds, official: official, newClient: newClient, timeout: opts.Timeout,
		retry: newRetrier(opts.Retry), pacer: newPacer(opts.QPS), transport: newBaseTransport()}
	if a.timeout <= 0 {
		a.timeout = DefaultSLBTimeout
	}
	a.scheme, a.domain, a.endpointErr = parseEndpoint(opts.Endpoint)
	return a
}

// sdkConfig is the configuration and the credentials of a fresh client:
// the SDK's own retries off, the adapter's scheme.
func (a *rpcAPI) sdkConfig() (*sdk.Config, credentials.CredentialsProvider) {
	cfg := sdk.NewConfig().WithAutoRetry(false).WithMaxRetryTime(0).WithScheme(a.scheme)
	if a.creds.SecurityToken != "" {
		return cfg, credentials.NewStaticSTSCredentialsProvider(a.creds.AccessKeyID, a.creds.AccessKeySecret, a.creds.SecurityToken)
	}
	return cfg, credentials.NewStaticAKCredentialsProvider(a.creds.AccessKeyID, a.creds.AccessKeySecret)
}

// configure points a fresh client at the endpoint of region and bounds
// its request by the ctx (read timeout shortened to the deadline).
func (a *rpcAPI) configure(ctx context.Context, region string, c *sdk.Client) {
	if a.domain != "" {
		c.Domain = strings.ReplaceAll(a.domain, "{region}", region)
	} else if a.official != nil {
		c.Domain = a.official(region)
	}
	c.SetTransport(ctxTransport{ctx: ctx, base: a.transport})
	timeout := a.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	c.SetReadTimeout(timeout)
	c.SetConnectTimeout(5 * time.Second)
}

// sdkClient builds a fresh SDK client for one attempt of one call.
func (a *rpcAPI) sdkClient(ctx context.Context, region string) (*sdk.Client, error) {
	cfg, prov := a.sdkConfig()
	c, err := a.newClient(region, cfg, prov)
	if err != nil {
		return nil, err
	}
	a.configure(ctx, region, c)
	return c, nil
}

// rpcOp is one attempt of an action with a fresh client.
type rpcOp func(c *sdk.Client) error

// call runs op with retries; it returns nil or an *APIError.
func (a *rpcAPI) call(ctx context.Context, region, action string, op rpcOp) error {
	_, err := a.callAmbig(ctx, region, action, nil, op)
	return err
}

// callAmbig is call with a hook run before every retry that follows an
// ambiguous failure (see callWith).
func (a *rpcAPI) callAmbig(ctx context.Context, region, action string, beforeRetry func() (bool, error), op rpcOp) (bool, error) {
	return callWith(ctx, a, region, action, beforeRetry, func() (*sdk.Client, error) { return a.sdkClient(ctx, region) }, op)
}

// callWith runs op on a fresh client from build per attempt, with the
// retries and the pacing of a. Before every retry that follows an
// ambiguous failure (the request may have taken effect), beforeRetry runs
// (when set); if it returns done=true the attempt ends with its error
// instead of calling op (a nil error ends the call). The returned bool
// reports that the call ended that way: the last attempt was the hook's,
// not op's. Every attempt waits for its slot of the (region, action) pacer
// (the action alone for a global service, region ""). It returns nil or an
// *APIError.
func callWith[C any](ctx context.Context, a *rpcAPI, region, action string, beforeRetry func() (done bool, err error),
	build func() (C, error), op func(C) error) (bool, error) {
	if a.endpointErr != nil {
		return false, &APIError{Service: a.service, Action: action, Region: region, Code: "InvalidEndpoint",
			Message: a.endpointErr.Error(), Kind: apierr.ErrInvalid, Attempts: 1}
	}
	if err := ctx.Err(); err != nil {
		return false, &APIError{Service: a.service, Action: action, Region: region, Message: err.Error(), Kind: ctxKind(err), cause: err}
	}
	key := action
	if region != "" {
		key = region + "/" + action
	}
	ambiguous, hookDone := false, false
	err := a.retry.doPaced(ctx, a.pacer, key, func(attempt int) error {
		// Only the attempt that ends the call decides how it ended: a hook
		// that failed on an earlier attempt must not turn a later
		// successful write into "found by the hook".
		hookDone = false
		if attempt > 0 && ambiguous && beforeRetry != nil {
			if done, herr := beforeRetry(); done {
				hookDone = true
				return herr
			}
		}
		c, err := build()
		if err != nil {
			return &APIError{Service: a.service, Action: action, Region: region, Code: "ClientSetup",
				Message: cleanMessage(err.Error(), a.creds.secrets()), Kind: apierr.ErrInvalid}
		}
		if err = op(c); err == nil {
			return nil
		}
		ae, amb := sdkError(ctx, a.service, action, region, a.creds.secrets(), err)
		if a.refine != nil {
			a.refine(ae)
		}
		ambiguous = ambiguous || amb
		return ae
	})
	if err != nil {
		var ae *APIError
		if !errors.As(err, &ae) {
			// no attempt was made: the pacer had no slot before the
			// deadline, or the ctx ended while waiting for one
			ae = &APIError{Service: a.service, Action: action, Region: region, Code: "ClientThrottling",
				Message: err.Error(), Kind: apierr.ErrTransient}
			if ctxErr := ctx.Err(); ctxErr != nil {
				ae.Code, ae.Message, ae.Kind, ae.cause = "", ctxErr.Error(), ctxKind(ctxErr), ctxErr
			}
			err = ae
		}
	}
	return hookDone, err
}

// sdkError converts an error of the v1 SDK into an *APIError of service;
// the bool reports an ambiguous failure (the request may have taken effect).
// Nothing of the request (parameters, signature, token) reaches the text.
func sdkError(ctx context.Context, service, action, region string, secrets []string, err error) (*APIError, bool) {
	ae := &APIError{Service: service, Action: action, Region: region}
	var se *sdkerrors.ServerError
	var ce *sdkerrors.ClientError
	switch {
	case errors.As(err, &se):
		ae.Code = se.ErrorCode()
		ae.HTTPStatus = se.HttpStatus()
		ae.RequestID = se.RequestId()
		ae.Message = cleanMessage(se.Message(), secrets)
		ae.Kind = classify(ae.Code, se.Message(), ae.HTTPStatus)
		return ae, ae.HTTPStatus >= 500
	case errors.As(err, &ce):
		return clientError(ae, ce, secrets)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && (errors.Is(err, ctxErr) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		ae.Message = ctxErr.Error()
		ae.cause = ctxErr
		ae.Kind = ctxKind(ctxErr)
		return ae, true
	}
	transient, amb := transportKind(err)
	ae.Message = cleanMessage(transportMessage(err), secrets)
	ae.cause = err
	if transient {
		ae.Kind = apierr.ErrTransient
	}
	return ae, amb
}

// clientError fills ae from an SDK client-side error (transport failures
// come wrapped in one).
func clientError(ae *APIError, ce *sdkerrors.ClientError, secrets []string) (*APIError, bool) {
	ae.Code = ce.ErrorCode()
	if orig := ce.OriginError(); orig != nil {
		transient, amb := transportKind(orig)
		ae.Message = cleanMessage(transportMessage(orig), secrets)
		ae.cause = orig
		if transient {
			ae.Kind = apierr.ErrTransient
		}
		if ae.Code == "SDK.JsonUnmarshalError" {
			ae.Kind = apierr.ErrTransient
			amb = true
		}
		return ae, amb
	}
	ae.Message = cleanMessage(ce.Message(), secrets)
	ae.Kind = apierr.ErrInvalid
	if ae.Code == "SDK.JsonUnmarshalError" || ae.Code == errTimeoutCode {
		ae.Kind = apierr.ErrTransient
		return ae, true
	}
	return ae, false
}
