package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/invocation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/issuance"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// Result is the function's return value.
type Result struct {
	Status outcome.Status `json:"status"`
	// Reason says why the invocation was rejected or failed.
	Reason string                `json:"reason,omitempty"`
	Names  []issuance.NameResult `json:"names,omitempty"`
}

// Renewer is the renewal as the handler uses it (*issuance.Renewer, built
// by the composition root for each invocation).
type Renewer interface {
	Run(ctx context.Context, now time.Time, req issuance.Request) (issuance.Result, error)
}

// Handler handles timer events and manual invokes.
type Handler struct {
	// Config is the function's environment (config.Load).
	Config config.Config
	// ConfigErr, when set, rejects every invocation with the configuration
	// problems (all of them, by variable name).
	ConfigErr error
	// NewRenewer builds the renewal of one invocation (app.Root.Renewer:
	// credentials and the request id come with the invocation). A permanent
	// error (no credentials, an unusable configuration) rejects the
	// invocation.
	NewRenewer func(ctx context.Context) (Renewer, error)
	// Log writes the one line per invocation (fclog.New).
	Log *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Handle runs the renewal: every pair with an acme.yaml for a timer event
// or an empty invoke, one pair for {"name": "..."}. A bad payload or
// configuration ends rejected with a nil error (FC must not retry); an error
// is returned only when a pair failed before any order for a reason a retry
// may fix (orders are guarded by the pair's lock and its state).
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (Result, error) {
	start := time.Now()
	req, r, stop := invocation.Prepare(ctx, h.ConfigErr, func() (issuance.Request, error) { return ParseEvent(event) }, h.NewRenewer)
	if stop != nil {
		return h.done(ctx, start, Result{Status: stop.Status, Reason: stop.Reason}, stop.Err)
	}
	res, err := r.Run(ctx, invocation.Now(h.Now), req)
	out := Result{Status: res.Status, Names: res.Names}
	if err != nil {
		out.Reason = err.Error()
		if out.Status.Success() {
			// FC retries an invocation that returns an error: its status
			// never reads as a success.
			out.Status = outcome.Failed
		}
	}
	return h.done(ctx, start, out, err)
}

func (h *Handler) done(ctx context.Context, start time.Time, res Result, err error) (Result, error) {
	h.log(ctx, start, res, err)
	if err != nil {
		return res, fmt.Errorf("renew-certificates: %w", err)
	}
	return res, nil
}

// log writes the invocation's one line (no key, no secret: results carry
// none).
func (h *Handler) log(ctx context.Context, start time.Time, res Result, err error) {
	attrs := []any{slog.String("status", string(res.Status)), slog.Int64("duration_ms", time.Since(start).Milliseconds())}
	if res.Reason != "" {
		attrs = append(attrs, slog.String("reason", res.Reason))
	}
	counts := map[outcome.Status]int{}
	orders := 0
	var names []string
	for _, n := range res.Names {
		counts[n.Status]++
		orders += n.Orders
		names = append(names, n.Name+"="+string(n.Status))
	}
	attrs = append(attrs, slog.Int("pairs", len(res.Names)), slog.Int("orders", orders),
		slog.Int("issued", counts[outcome.Issued]), slog.Int("deferred", counts[outcome.Deferred]),
		slog.Int("rejected", counts[outcome.Rejected]), slog.String("pairs_status", strings.Join(names, ",")))
	for _, n := range res.Names {
		if n.CAError != "" {
			attrs = append(attrs, slog.String("first_ca_error", n.Name+": "+n.CAError))
			break
		}
	}
	invocation.Logger(h.Log).Log(ctx, invocation.Level(res.Status, err), "renew certificates", attrs...)
}

// ParseEvent decodes a timer event (its payload is ignored: the timer
// renews every pair) or a manual invoke {"name": "www"} (one pair) or {}
// (every pair). Unknown fields are refused, naming them.
func ParseEvent(raw []byte) (issuance.Request, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return issuance.Request{}, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return issuance.Request{}, fmt.Errorf("event: not a JSON object: send {\"name\": \"<pair>\"} or {}")
	}
	if _, ok := top["triggerTime"]; ok {
		return issuance.Request{}, nil
	}
	var req issuance.Request
	for k, v := range top {
		if k != "name" {
			return req, fmt.Errorf("event: unknown field %q: the only field is name (a pair's folder under the prefix)", k)
		}
		if err := json.Unmarshal(v, &req.Name); err != nil || strings.TrimSpace(req.Name) == "" {
			return req, fmt.Errorf("event: name must be a non-empty string such as \"www\"")
		}
	}
	req.Name = strings.TrimSpace(req.Name)
	return req, nil
}
