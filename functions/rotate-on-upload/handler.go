package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/invocation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// handledEvents are the OSS events that mean "an object is complete".
var handledEvents = map[string]bool{
	"ObjectCreated:PutObject":               true,
	"ObjectCreated:PostObject":              true,
	"ObjectCreated:CompleteMultipartUpload": true,
	"ObjectCreated:CopyObject":              true,
}

// Rotator is the rotation as the handler uses it (*rotation.Rotator, built
// by the composition root for each invocation).
type Rotator interface {
	Rotate(ctx context.Context, now time.Time, req rotation.Request) (rotation.Result, error)
}

// Handler is the rotate-on-upload function: it turns an OSS trigger event
// (or a manual invoke {"name":"www","dryRun":true}) into one rotation.
type Handler struct {
	// Config is the function's environment (config.Load).
	Config config.Config
	// ConfigErr, when set, rejects every invocation with the configuration
	// problems (all of them, by variable name): FC retrying cannot fix them,
	// and the result and the log line say what to set.
	ConfigErr error
	// NewRotator builds the rotation of one invocation (app.Root.Rotator:
	// credentials arrive with the invocation). A permanent error (no
	// credentials, an unusable configuration) rejects the invocation.
	NewRotator func(ctx context.Context) (Rotator, error)
	// Notifier announces rotations, rejections, rollbacks and failures
	// (app.Root.Notifier from NOTIFY_*); nil sends nothing.
	Notifier notify.Notifier
	// Log writes the one line per invocation (fclog.New).
	Log *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// invokePayload is the manual invoke's payload.
type invokePayload struct {
	Name   string `json:"name"`
	Bucket string `json:"bucket"`
	DryRun bool   `json:"dryRun"`
}

// work is one rotation to run, decoded from the payload.
type work struct {
	req       rotation.Request
	event     string // OSS event name ("" for a manual invoke)
	region    string // the bucket's region from the event
	status    rotation.Status
	reason    string
	refused   bool // object outside CERT_BUCKET/CERT_PREFIX
	malformed bool
}

// Handle is the function's entry point (fc.Start(h.Handle)). It logs one
// line and returns the rotation's Result. Permanent problems (a malformed
// payload, a bad pair, an unknown target, quota) succeed with status
// "rejected"; transient failures return an error so that FC retries.
func (h *Handler) Handle(ctx context.Context, payload []byte) (rotation.Result, error) {
	start := time.Now()
	if h.ConfigErr != nil {
		res := rotation.NewResult(rotation.StatusRejected)
		res.Reason = "configuration: " + h.ConfigErr.Error()
		h.log(ctx, nil, res, nil, time.Since(start))
		return res, nil
	}
	items := h.decode(payload)
	results := make([]rotation.Result, 0, len(items))
	var firstErr error
	rotator := h.once(ctx)
	for _, it := range items {
		res, err := h.run(ctx, it, rotator)
		results = append(results, res)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	res := h.announce(ctx, merge(results), firstErr)
	h.log(ctx, items, res, firstErr, time.Since(start))
	if firstErr != nil {
		return res, firstErr
	}
	return res, nil
}

// decode turns the raw payload into work items. Every pointer of the SDK's
// event structs is checked before use.
func (h *Handler) decode(payload []byte) []work {
	bad := func(reason string) []work {
		return []work{{status: rotation.StatusRejected, reason: reason, malformed: true}}
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return bad("empty payload: expected an OSS event or {\"name\":\"<pair>\",\"dryRun\":false}")
	}
	var probe struct {
		Events *json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return bad("payload is not a JSON object: " + err.Error())
	}
	if probe.Events == nil {
		var p invokePayload
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return bad("payload is neither an OSS event nor an invoke {\"name\",\"bucket\",\"dryRun\"}: " + err.Error())
		}
		if strings.TrimSpace(p.Name) == "" {
			return bad("invoke payload without a name")
		}
		return []work{{req: rotation.Request{Bucket: p.Bucket, Name: p.Name, DryRun: p.DryRun}}}
	}
	var ev events.OssEvent
	if err := json.Unmarshal(trimmed, &ev); err != nil {
		return bad("malformed OSS event: " + err.Error())
	}
	if len(ev.Events) == 0 {
		return bad("OSS event without records")
	}
	items := make([]work, 0, len(ev.Events))
	for i, rec := range ev.Events {
		items = append(items, h.record(i, rec))
	}
	return items
}

func (h *Handler) record(i int, rec *events.OssEventRecord) work {
	bad := func(field string) work {
		return work{status: rotation.StatusRejected, reason: fmt.Sprintf("malformed OSS event: events[%d].%s is missing", i, field), malformed: true}
	}
	switch {
	case rec == nil:
		return bad("(record)")
	case rec.EventName == nil || *rec.EventName == "":
		return bad("eventName")
	}
	name := strings.TrimPrefix(*rec.EventName, "oss:")
	if !handledEvents[name] {
		return work{event: name, status: rotation.StatusIgnored, reason: "event " + name + " is not handled"}
	}
	switch {
	case rec.Oss == nil:
		return bad("oss")
	case rec.Oss.Bucket == nil || rec.Oss.Bucket.Name == nil || *rec.Oss.Bucket.Name == "":
		return bad("oss.bucket.name")
	case rec.Oss.Object == nil || rec.Oss.Object.Key == nil || *rec.Oss.Object.Key == "":
		return bad("oss.object.key")
	}
	w := work{event: name, req: rotation.Request{Bucket: *rec.Oss.Bucket.Name, Key: *rec.Oss.Object.Key}}
	if rec.Region != nil {
		w.region = *rec.Region
	}
	prefix := h.Config.CertPrefix
	if w.req.Bucket != h.Config.CertBucket || !strings.HasPrefix(w.req.Key, prefix) {
		w.status, w.refused = rotation.StatusIgnored, true
		w.reason = fmt.Sprintf("object oss://%s/%s is outside CERT_BUCKET/CERT_PREFIX (%s/%s): not read", w.req.Bucket, w.req.Key, h.Config.CertBucket, prefix)
	}
	return w
}

// run performs one work item with the invocation's rotator (built on
// first use). A permanent build error rejects the item; a transient one
// fails it and is returned so that FC retries.
func (h *Handler) run(ctx context.Context, w work, rotator func() (Rotator, error)) (rotation.Result, error) {
	if w.status != "" {
		return rotation.Ended(w.status, w.reason), nil
	}
	r, err := rotator()
	if err != nil {
		if apierr.Permanent(err) {
			return rotation.Ended(rotation.StatusRejected, err.Error()), nil
		}
		return rotation.Ended(rotation.StatusFailed, err.Error()), fmt.Errorf("rotate-on-upload: %w", err)
	}
	req := w.req
	req.Owner = lease.NewOwner(app.RequestID(ctx))
	res, err := r.Rotate(ctx, invocation.Now(h.Now), req)
	if err != nil && res.Status.Success() {
		// FC retries an invocation that returns an error: its status never
		// reads as a success.
		res.Status = rotation.StatusFailed
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return res, fmt.Errorf("rotate-on-upload: out of time, FC will retry: %w", err)
		}
		return res, fmt.Errorf("rotate-on-upload: transient failure, FC will retry: %w", err)
	}
	return res, nil
}

// once builds the invocation's rotator at most once.
func (h *Handler) once(ctx context.Context) func() (Rotator, error) {
	var (
		r     Rotator
		err   error
		built bool
	)
	return func() (Rotator, error) {
		if !built {
			built = true
			r, err = h.NewRotator(ctx)
		}
		return r, err
	}
}

// statusRank orders statuses by how much they matter when one payload
// carries several records.
var statusRank = map[rotation.Status]int{
	rotation.StatusIgnored: 0, rotation.StatusPlanned: 1, rotation.StatusUnchanged: 2,
	rotation.StatusWaiting: 3, rotation.StatusRotated: 4, rotation.StatusPartial: 5,
	rotation.StatusRejected: 6, rotation.StatusFailed: 7,
}

// merge combines the results of several records (one record: returned as is).
func merge(results []rotation.Result) rotation.Result {
	if len(results) == 1 {
		return results[0]
	}
	out := rotation.NewResult(rotation.StatusIgnored)
	for _, r := range results {
		if statusRank[r.Status] >= statusRank[out.Status] {
			out.Status, out.Reason = r.Status, r.Reason
		}
		if out.Name == "" && r.Name != "" {
			out.Name, out.Fingerprint, out.SHA256, out.NotAfter, out.Domains = r.Name, r.Fingerprint, r.SHA256, r.NotAfter, r.Domains
		}
		for reg, rr := range r.Regions {
			if out.Regions == nil {
				out.Regions = map[string]rotation.RegionResult{}
			}
			out.Regions[reg] = rr
		}
		out.Targets = append(out.Targets, r.Targets...)
		out.Deleted = append(out.Deleted, r.Deleted...)
		out.Kept = append(out.Kept, r.Kept...)
		out.Errors = append(out.Errors, r.Errors...)
	}
	return out
}

// log writes the invocation's one line.
func (h *Handler) log(ctx context.Context, items []work, res rotation.Result, err error, took time.Duration) {
	logger := invocation.Logger(h.Log)
	targets, switched, rolledBack, deleted, errs := res.Counts()
	attrs := []slog.Attr{
		slog.String("status", string(res.Status)),
		slog.String("name", res.Name),
		slog.String("fingerprint", res.Fingerprint),
		slog.Int("targets", targets),
		slog.Int("switched", switched),
		slog.Int("rolled_back", rolledBack),
		slog.Int("deleted", deleted),
		slog.Int("errors", errs),
		slog.Int64("duration_ms", took.Milliseconds()),
	}
	if res.Reason != "" {
		attrs = append(attrs, slog.String("reason", res.Reason))
	}
	level := slog.LevelInfo
	if len(items) > 0 {
		it := items[0]
		if it.event != "" {
			attrs = append(attrs, slog.String("event", it.event))
		}
		if it.req.Bucket != "" {
			attrs = append(attrs, slog.String("bucket", it.req.Bucket))
		}
		if it.req.Key != "" {
			attrs = append(attrs, slog.String("key", it.req.Key))
		}
		if it.refused {
			attrs = append(attrs, slog.Bool("refused", true))
			level = slog.LevelWarn
		}
	}
	if !res.Status.Success() || rolledBack > 0 {
		level = slog.LevelWarn
	}
	if err != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	logger.LogAttrs(ctx, level, "rotate-on-upload", attrs...)
}
