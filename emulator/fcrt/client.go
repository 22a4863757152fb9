package fcrt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// Client calls a local cloud's FC API over HTTP (the control API under
// /local/ and the invocation API); the demo and the localcloud command
// use it.
type Client struct {
	// Base is prefixed to every path ("http://127.0.0.1:PORT"; "" when
	// callers pass whole URLs).
	Base string
	// HTTP is the client used (nil: http.DefaultClient).
	HTTP *http.Client
}

// Call sends body as JSON with the headers hdr and returns the answer's
// body and headers. Errors name the method and path: a transport failure
// wraps the *url.Error of net/http, an answer other than 2xx quotes its
// body (and returns it).
func (c Client) Call(ctx context.Context, method, path string, body []byte, hdr map[string]string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return out, resp.Header, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(out))
	}
	return out, resp.Header, nil
}
