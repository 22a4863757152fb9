package aliyun

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// lateTimerCtx is a context whose deadline has a timer that has not fired
// yet: Deadline is set, Err stays nil and Done never closes, as a
// context.WithDeadline looks on a busy machine between its deadline and
// the moment its timer's goroutine runs.
type lateTimerCtx struct {
	context.Context
	deadline time.Time
}

func (c lateTimerCtx) Deadline() (time.Time, bool) { return c.deadline, true }
func (c lateTimerCtx) Err() error                  { return nil }
func (c lateTimerCtx) Done() <-chan struct{}       { return nil }

// TestDeadlineCutReportsTheServiceAnswer: a throttled call whose last
// attempt is cut at the deadline (the request timeout, shortened to the
// deadline, fires before the context's own timer) reports the service's
// Throttling answer, not the transport error of the cut attempt: whether
// the deadline passed is read from the deadline, not only from ctx.Err.
func TestDeadlineCutReportsTheServiceAnswer(t *testing.T) {
	dl := time.Now().Add(50 * time.Millisecond)
	ctx := lateTimerCtx{Context: context.Background(), deadline: dl}
	r := newRetrier(RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, Seed: 1})
	err := r.do(ctx, func(attempt int) error {
		if attempt == 0 {
			return &APIError{Service: "slb", Action: "UploadServerCertificate", Code: "Throttling.User", HTTPStatus: 400, Kind: apierr.ErrTransient}
		}
		time.Sleep(time.Until(dl) + 5*time.Millisecond) // the request timeout fires at the deadline
		return &APIError{Service: "slb", Action: "UploadServerCertificate", Message: "net/http: request canceled (Client.Timeout exceeded while awaiting headers)",
			Kind: apierr.ErrTransient}
	})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "Throttling.User" || ae.HTTPStatus != 400 || !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err = %v, want the service's Throttling.User answer", err)
	}
	if ae.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the throttled one and the cut one)", ae.Attempts)
	}
}
