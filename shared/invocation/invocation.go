// Package invocation is the boundary of one Function Compute invocation
// that the timer-triggered functions (expiry-check, renew-certificates)
// share: the configuration error, the payload and the builder of the use
// case are decided in front of the use case, always in that order and
// always alike, and the invocation's one log line takes its level from the
// outcome. Each function keeps its own parser, result type and log
// attributes. Every function's handler reads its clock and its logger
// through Now and Logger.
package invocation

import (
	"context"
	"log/slog"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// Stop is how an invocation ends before its use case runs (not a refusal
// type: the refusals themselves are certs.Error and the configuration's
// problems; Stop carries the status they end in).
type Stop struct {
	// Status is outcome.Rejected (nothing to retry) or outcome.Failed.
	Status outcome.Status
	// Reason says why, naming the field or the variable.
	Reason string
	// Err is set with Failed only: the error to return so that FC retries.
	Err error
}

// Prepare runs the boundary in front of a use case, in order: a
// configuration error (configErr) ends rejected, before anything is parsed
// or built; the payload parsed by parse, a bad one ends rejected; the use
// case built by build, whose error ends rejected when apierr.Permanent (no
// credentials, a configuration no adapter can use) and failed with the
// error to return otherwise. A nil Stop means req and x are ready.
func Prepare[R, X any](ctx context.Context, configErr error, parse func() (R, error), build func(context.Context) (X, error)) (req R, x X, stop *Stop) {
	if configErr != nil {
		return req, x, &Stop{Status: outcome.Rejected, Reason: "configuration: " + configErr.Error()}
	}
	req, err := parse()
	if err != nil {
		return req, x, &Stop{Status: outcome.Rejected, Reason: err.Error()}
	}
	x, err = build(ctx)
	if err != nil {
		if apierr.Permanent(err) {
			return req, x, &Stop{Status: outcome.Rejected, Reason: err.Error()}
		}
		return req, x, &Stop{Status: outcome.Failed, Reason: err.Error(), Err: err}
	}
	return req, x, nil
}

// Now reads clock, time.Now when nil.
func Now(clock func() time.Time) time.Time {
	if clock == nil {
		return time.Now()
	}
	return clock()
}

// Level is the level of the invocation's log line: ERROR with a returned
// error or a failed status, WARN for any other status that is not a
// success, INFO otherwise.
func Level(status outcome.Status, err error) slog.Level {
	switch {
	case err != nil || status == outcome.Failed:
		return slog.LevelError
	case !status.Success():
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// Logger is l, slog.Default() when nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
