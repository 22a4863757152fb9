package invocation

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

type useCase struct{ name string }

func TestPrepare(t *testing.T) {
	transient := fmt.Errorf("sts: %w", apierr.ErrTransient)
	for _, tc := range []struct {
		name                  string
		configErr, parseErr   error
		buildErr              error
		want                  *Stop
		wantParsed, wantBuilt bool
	}{
		{name: "ready", wantParsed: true, wantBuilt: true},
		{name: "configuration first", configErr: errors.New("REGIONS: empty"), parseErr: errors.New("never read"),
			want: &Stop{Status: outcome.Rejected, Reason: "configuration: REGIONS: empty"}},
		{name: "bad payload", parseErr: errors.New("payload.warnDays: is empty"),
			want: &Stop{Status: outcome.Rejected, Reason: "payload.warnDays: is empty"}, wantParsed: true},
		{name: "no credentials", buildErr: fmt.Errorf("credentials: %w", apierr.ErrAccessDenied),
			want: &Stop{Status: outcome.Rejected, Reason: "credentials: access denied"}, wantParsed: true, wantBuilt: true},
		{name: "transient builder", buildErr: transient,
			want: &Stop{Status: outcome.Failed, Reason: transient.Error(), Err: transient}, wantParsed: true, wantBuilt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parsed, built := false, false
			parse := func() (string, error) {
				parsed = true
				if tc.parseErr != nil {
					return "", tc.parseErr
				}
				return "req", nil
			}
			build := func(context.Context) (*useCase, error) {
				built = true
				if tc.buildErr != nil {
					return nil, tc.buildErr
				}
				return &useCase{"sweep"}, nil
			}
			req, x, stop := Prepare(context.Background(), tc.configErr, parse, build)
			if parsed != tc.wantParsed || built != tc.wantBuilt {
				t.Fatalf("parsed %v built %v, want %v %v", parsed, built, tc.wantParsed, tc.wantBuilt)
			}
			if tc.want == nil {
				if stop != nil || req != "req" || x == nil || x.name != "sweep" {
					t.Fatalf("Prepare = %q, %+v, %+v; want ready", req, x, stop)
				}
				return
			}
			if stop == nil {
				t.Fatalf("no refusal, want %+v", tc.want)
			}
			if stop.Status != tc.want.Status || stop.Reason != tc.want.Reason || stop.Err != tc.want.Err {
				t.Fatalf("refusal %+v, want %+v", *stop, *tc.want)
			}
			if stop.Status.Success() {
				t.Fatalf("a refusal reads as a success: %s", stop.Status)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		status outcome.Status
		err    error
		want   slog.Level
	}{
		{outcome.OK, nil, slog.LevelInfo},
		{outcome.Issued, nil, slog.LevelInfo},
		{outcome.Partial, nil, slog.LevelWarn},
		{outcome.Rejected, nil, slog.LevelWarn},
		{outcome.Deferred, nil, slog.LevelWarn},
		{outcome.Failed, nil, slog.LevelError},
		{outcome.Partial, boom, slog.LevelError},
		{outcome.OK, boom, slog.LevelError},
	} {
		if got := Level(tc.status, tc.err); got != tc.want {
			t.Errorf("Level(%s, %v) = %v, want %v", tc.status, tc.err, got, tc.want)
		}
	}
}

func TestNowAndLogger(t *testing.T) {
	fixed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if got := Now(func() time.Time { return fixed }); !got.Equal(fixed) {
		t.Fatalf("Now(clock) = %v, want %v", got, fixed)
	}
	before := time.Now()
	if got := Now(nil); got.Before(before) || got.After(time.Now()) {
		t.Fatalf("Now(nil) = %v, not the wall clock", got)
	}
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	if Logger(l) != l {
		t.Fatal("Logger(l) is not l")
	}
	if Logger(nil) != slog.Default() {
		t.Fatal("Logger(nil) is not slog.Default()")
	}
}
