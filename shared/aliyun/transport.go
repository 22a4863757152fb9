package aliyun

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// newBaseTransport is the connection pool shared by the per-call SDK
// clients of one adapter (an *http.Transport is safe for concurrent use; the
// SDK client around it is not, so it is never shared).
func newBaseTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       60 * time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// ctxTransport ties every request of one call to the caller's ctx, for SDKs
// that take no context (alibaba-cloud-sdk-go v1). It lives only as long as
// the per-call client that uses it.
type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.ctx == nil || t.ctx.Done() == nil {
		return t.base.RoundTrip(r)
	}
	merged, cancel := context.WithCancelCause(r.Context())
	stop := context.AfterFunc(t.ctx, func() { cancel(context.Cause(t.ctx)) })
	done := func() { stop(); cancel(nil) }
	resp, err := t.base.RoundTrip(r.WithContext(merged))
	if err != nil {
		done()
		if ctxErr := t.ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, done: done}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	done func()
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.done()
	return err
}
