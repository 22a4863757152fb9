// Command expiry-check is the timer-triggered expiry sweep (Function
// Compute 3.0, runtime go1). handler.go decodes the timer event, runs
// expiry.Sweeper and logs one line; main.go only wires it to fc.Start.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/invocation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// Statuses of a Result: the expiry check's part of the one vocabulary
// (package outcome).
const (
	StatusOK       = outcome.OK       // the sweep ran and found no failure
	StatusPartial  = outcome.Partial  // the sweep ran; some regions, listeners, rotations or the notification failed (see report.errors)
	StatusRejected = outcome.Rejected // the payload or the configuration is invalid: no retry can help
	StatusFailed   = outcome.Failed   // the sweep could not run or its report could not be written
)

// Result is the function's return value.
type Result struct {
	Status outcome.Status `json:"status"`
	// Reason says why a sweep was rejected or failed, naming the field.
	Reason string         `json:"reason,omitempty"`
	Report *expiry.Report `json:"report,omitempty"`
}

// Sweeper is the expiry sweep as the handler uses it (*expiry.Sweeper,
// built by the composition root for each invocation).
type Sweeper interface {
	Sweep(ctx context.Context, now time.Time, req expiry.Request) (expiry.Report, error)
}

// Handler handles timer events.
type Handler struct {
	// Config is the validated environment; ConfigErr, when set, makes every
	// invocation end rejected with it.
	Config    config.Config
	ConfigErr error
	// NewSweeper builds the sweep of one invocation (app.Root.Sweeper:
	// credentials arrive with the invocation). A permanent error (no
	// credentials, an unusable configuration) rejects the invocation.
	NewSweeper func(ctx context.Context) (Sweeper, error)
	// Log writes the one line per invocation (fclog.New).
	Log *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Handle decodes a timer event (or, for a manual invoke, the payload
// object itself), runs the sweep and returns its report. A malformed
// payload or configuration ends with status rejected and a nil error (FC
// must not retry); a transient failure of every region returns an error so
// that FC retries once.
func (h *Handler) Handle(ctx context.Context, event json.RawMessage) (Result, error) {
	start := time.Now()
	parse := func() (expiry.Request, error) { return ParseEvent(event, h.defaults()) }
	req, sw, stop := invocation.Prepare(ctx, h.ConfigErr, parse, h.NewSweeper)
	if stop != nil {
		return h.done(ctx, start, Result{Status: stop.Status, Reason: stop.Reason}, stop.Err)
	}
	rep, err := sw.Sweep(ctx, invocation.Now(h.Now), req)
	res := Result{Status: StatusOK, Report: &rep}
	switch {
	case err != nil && errors.Is(err, apierr.ErrInvalid) && rep.Time.IsZero():
		res = Result{Status: StatusRejected, Reason: err.Error()}
		err = nil
	case err != nil:
		res.Status, res.Reason = StatusFailed, err.Error()
		if apierr.Permanent(err) {
			err = nil // retrying cannot help; the result says why
		}
	case len(rep.Errors) > 0 || rep.Notification.Error != "":
		res.Status = StatusPartial
	}
	return h.done(ctx, start, res, err)
}

// done logs the invocation's one line and returns res, with err (if any)
// named after the function.
func (h *Handler) done(ctx context.Context, start time.Time, res Result, err error) (Result, error) {
	h.log(ctx, start, res, err)
	if err != nil {
		return res, fmt.Errorf("expiry-check: %w", err)
	}
	return res, nil
}

func (h *Handler) defaults() expiry.Request {
	return expiry.Request{
		WarnDays:   append([]int(nil), expiry.DefaultWarnDays...),
		AutoRotate: true,
		Probe:      true,
		Regions:    append([]string(nil), h.Config.Regions...),
	}
}

// log writes the invocation's one log line.
func (h *Handler) log(ctx context.Context, start time.Time, res Result, err error) {
	attrs := []any{slog.String("status", string(res.Status)), slog.Int64("duration_ms", time.Since(start).Milliseconds())}
	if res.Reason != "" {
		attrs = append(attrs, slog.String("reason", res.Reason))
	}
	if r := res.Report; r != nil {
		attrs = append(attrs,
			slog.String("regions", strings.Join(r.Regions, ",")),
			slog.Int("listeners", r.Listeners), slog.Int("targets", r.Targets),
			slog.Int("ok", r.Counts.OK), slog.Int("warn", r.Counts.Warn),
			slog.Int("critical", r.Counts.Critical), slog.Int("expired", r.Counts.Expired),
			slog.Int("rotations", len(r.Actions)), slog.Int("drift", len(r.Drift)),
			slog.Int("unreachable", len(r.Unreachable)), slog.Int("errors", len(r.Errors)),
			slog.Bool("notified", r.Notification.Sent), slog.String("report_key", r.ReportKey))
		if r.Notification.Error != "" {
			attrs = append(attrs, slog.String("notify_error", r.Notification.Error))
		}
		if len(r.Errors) > 0 {
			attrs = append(attrs, slog.String("first_error", r.Errors[0].Error))
		}
	}
	invocation.Logger(h.Log).Log(ctx, invocation.Level(res.Status, err), "expiry check", attrs...)
}

// timerKeys are the fields of a timer trigger event.
var timerKeys = []string{"triggerTime", "triggerName", "payload"}

// ParseEvent decodes the invocation event. A timer event
// {"triggerTime":..., "triggerName":..., "payload":"<JSON string>"} carries
// the request as a JSON string in payload; any other JSON object is taken
// as the request itself (manual invoke). An empty event, an absent or empty
// payload, and absent fields take the defaults. Errors name the field.
func ParseEvent(raw []byte, defaults expiry.Request) (expiry.Request, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return normalize(defaults)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return defaults, fmt.Errorf("event: not a JSON object (%s)", jsonProblem(err))
	}
	isTimer := false
	for _, k := range timerKeys {
		if _, ok := top[k]; ok {
			isTimer = true
		}
	}
	if !isTimer {
		return decodePayload(raw, defaults, "event")
	}
	p, ok := top["payload"]
	if !ok || string(bytes.TrimSpace(p)) == "null" {
		return normalize(defaults)
	}
	var s string
	if err := json.Unmarshal(p, &s); err != nil {
		return defaults, fmt.Errorf("payload: must be a string holding JSON such as \"{\\\"warnDays\\\":[30,7]}\", got %s", kindOf(p))
	}
	if strings.TrimSpace(s) == "" {
		return normalize(defaults)
	}
	return decodePayload([]byte(s), defaults, "payload")
}

// payload is the request with presence: absent fields keep the defaults.
type payload struct {
	WarnDays   *[]int    `json:"warnDays"`
	AutoRotate *bool     `json:"autoRotate"`
	Probe      *bool     `json:"probe"`
	Regions    *[]string `json:"regions"`
	Group      *string   `json:"group"`
}

func decodePayload(b []byte, defaults expiry.Request, where string) (expiry.Request, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p payload
	if err := dec.Decode(&p); err != nil {
		return defaults, fmt.Errorf("%s: %s", where, jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return defaults, fmt.Errorf("%s: unexpected data after the JSON object", where)
	}
	req := defaults
	if p.WarnDays != nil {
		req.WarnDays = *p.WarnDays
		if len(req.WarnDays) == 0 {
			return defaults, fmt.Errorf("%s.warnDays: is empty; give thresholds in days such as [45,30,14,7,3,1] or omit the field", where)
		}
	}
	if p.AutoRotate != nil {
		req.AutoRotate = *p.AutoRotate
	}
	if p.Probe != nil {
		req.Probe = *p.Probe
	}
	if p.Group != nil {
		req.Group = *p.Group
	}
	if p.Regions != nil {
		req.Regions = *p.Regions
		if len(req.Regions) == 0 {
			return defaults, fmt.Errorf("%s.regions: is empty; list region ids such as [\"cn-hangzhou\"] or omit the field to use REGIONS", where)
		}
	}
	out, err := expiry.Normalize(req)
	if err != nil {
		return defaults, fmt.Errorf("%s.%s", where, strings.TrimPrefix(err.Error(), expiry.ErrInvalidRequest.Error()+": "))
	}
	return out, nil
}

func normalize(req expiry.Request) (expiry.Request, error) {
	out, err := expiry.Normalize(req)
	if err != nil {
		return req, fmt.Errorf("defaults: %s", strings.TrimPrefix(err.Error(), expiry.ErrInvalidRequest.Error()+": "))
	}
	return out, nil
}

// jsonProblem turns a decoding error into a message naming the field.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		want := map[string]string{
			"warnDays": "an array of whole numbers of days", "autoRotate": "true or false",
			"probe": "true or false", "regions": "an array of region ids", "group": "a short name such as \"eu\"",
		}
		field := te.Field
		root, _, _ := strings.Cut(field, ".")
		if w, ok := want[root]; ok {
			return fmt.Sprintf("field %s must be %s, got %s", field, w, te.Value)
		}
		if field == "" {
			return "must be a JSON object, got " + te.Value
		}
		return fmt.Sprintf("field %s has the wrong type (%s)", field, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + " (known: warnDays, autoRotate, probe, regions, group)"
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "truncated JSON"
	}
	return err.Error()
}

func kindOf(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}
