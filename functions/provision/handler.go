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
	"fmt"
	"log/slog"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/invocation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/provisioning"
)

// Provisioner is the provisioning use case as the handler uses it
// (*provisioning.Provisioner, built by the composition root for each
// invocation).
type Provisioner interface {
	Apply(ctx context.Context, now time.Time, d provisioning.Desired) (provisioning.Result, error)
	Plan(ctx context.Context, now time.Time, d provisioning.Desired) (provisioning.Result, error)
	Destroy(ctx context.Context, now time.Time, d provisioning.Desired) (provisioning.Result, error)
}

// Handler serves one invocation: raw payload in, Result out.
type Handler struct {
	// Config is the function's environment (config.Load).
	Config config.Config
	// ConfigErr, when set, rejects every invocation with the configuration
	// problems (all of them, by variable name) before anything is read.
	ConfigErr error
	// NewProvisioner builds the use case of one invocation
	// (app.Root.Provisioner: credentials arrive with the invocation). A
	// permanent error (no credentials, an unusable configuration) rejects
	// the invocation.
	NewProvisioner func(ctx context.Context) (Provisioner, error)
	// Log writes the one line per invocation (fclog.New).
	Log *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Handle decodes and validates the payload, runs the action and logs the
// outcome once. Permanent problems end with status "rejected" and a nil
// error (Function Compute must not retry); transient ones return the error.
func (h *Handler) Handle(ctx context.Context, payload []byte) (provisioning.Result, error) {
	start := invocation.Now(h.Now)
	res, err := h.handle(ctx, start, payload)
	if err != nil && res.Status.Success() {
		// FC retries an invocation that returns an error: its status never
		// reads as a success.
		res.Status = provisioning.StatusFailed
	}
	h.log(ctx, res, err, invocation.Now(h.Now).Sub(start))
	return res, err
}

func (h *Handler) handle(ctx context.Context, now time.Time, payload []byte) (provisioning.Result, error) {
	if h.ConfigErr != nil {
		return provisioning.Rejected(actionOf(payload), fmt.Errorf("configuration: %w", h.ConfigErr)), nil
	}
	d, err := provisioning.Parse(payload)
	if err != nil {
		return provisioning.Rejected(actionOf(payload), err), nil
	}
	svc, err := h.NewProvisioner(ctx)
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
	logger := invocation.Logger(h.Log)
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
