package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
)

// fcClient talks to the local cloud's FC control API over HTTP.
type fcClient struct{ fcrt.Client }

func newFCClient(endpoint string) *fcClient {
	return &fcClient{fcrt.Client{Base: strings.TrimRight(endpoint, "/"), HTTP: &http.Client{}}}
}

// do calls the API; a function that failed (x-fc-error-type) is an error.
func (c *fcClient) do(ctx context.Context, method, path string, body []byte, hdr map[string]string) ([]byte, http.Header, error) {
	out, h, err := c.Call(ctx, method, path, body, hdr)
	if err != nil {
		return out, h, fmt.Errorf("fc: %w", err)
	}
	if et := h.Get("x-fc-error-type"); et != "" {
		return out, h, fmt.Errorf("fc: %s %s: function error %s: %s", method, path, et, bytes.TrimSpace(out))
	}
	return out, h, nil
}

// Deploy creates or replaces a function.
func (c *fcClient) Deploy(ctx context.Context, spec fcrt.FunctionSpec) error {
	body, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	_, _, err = c.do(ctx, http.MethodPut, "/local/functions/"+url.PathEscape(spec.Name), body, nil)
	return err
}

// Invoke runs a function synchronously and returns its result.
func (c *fcClient) Invoke(ctx context.Context, name string, payload []byte) ([]byte, error) {
	out, _, err := c.do(ctx, http.MethodPost, "/2023-03-30/functions/"+url.PathEscape(name)+"/invocations", payload,
		map[string]string{"x-fc-invocation-type": "Sync"})
	return out, err
}

// Fire fires a trigger (a timer now) and returns what the local cloud answers.
func (c *fcClient) Fire(ctx context.Context, name, trigger string) ([]byte, error) {
	out, _, err := c.do(ctx, http.MethodPost, "/local/functions/"+url.PathEscape(name)+"/triggers/"+url.PathEscape(trigger)+"/fire", nil, nil)
	return out, err
}

// State returns the FC runtime's state document (/local/fc/state, else the
// whole cloud's /local/state).
func (c *fcClient) State(ctx context.Context) ([]byte, error) {
	out, _, err := c.do(ctx, http.MethodGet, "/local/fc/state", nil, nil)
	if err != nil {
		out, _, err = c.do(ctx, http.MethodGet, "/local/state", nil, nil)
	}
	return out, err
}
