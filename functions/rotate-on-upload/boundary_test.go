package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// TestHandlerBuildError: the boundary every function shares. A permanent
// build error (no credentials, an unusable configuration) rejects the
// invocation without an error (FC does not retry); a transient one fails
// it and returns the error (FC retries). The rotator is built once per
// invocation and the outcome logged once, with the request id.
func TestHandlerBuildError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status rotation.Status
		retry  bool
	}{
		{"no credentials: refused", fmt.Errorf("aliyun: credentials: ALIBABA_CLOUD_ACCESS_KEY_ID not set: %w", apierr.ErrAccessDenied), rotation.StatusRejected, false},
		{"unusable configuration: refused", fmt.Errorf("OSS adapter: oss: V4 signing needs the region: %w", apierr.ErrInvalid), rotation.StatusRejected, false},
		{"transient: FC retries", fmt.Errorf("OSS adapter: %w", apierr.ErrTransient), rotation.StatusFailed, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs fcrttest.Log
			builds := 0
			h := &Handler{
				Config: config.Config{CertBucket: bucket, CertPrefix: "certs/"},
				NewRotator: func(context.Context) (Rotator, error) {
					builds++
					return nil, tc.err
				},
				Log: fclog.New(&logs, slog.LevelInfo),
			}
			ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "req-build"})
			res, err := h.Handle(ctx, event("ObjectCreated:PutObject", bucket, "certs/www/fullchain.pem"))
			if (err != nil) != tc.retry || res.Status != tc.status || !strings.Contains(res.Reason, tc.err.Error()) {
				t.Fatalf("Handle = %s %q, %v; want %s naming the cause, error %v", res.Status, res.Reason, err, tc.status, tc.retry)
			}
			if builds != 1 {
				t.Errorf("built %d times, want once", builds)
			}
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			var rec map[string]any
			if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &rec) != nil || rec[fclog.KeyRequestID] != "req-build" || rec["status"] != string(tc.status) {
				t.Errorf("log = %q, want one line with the request id and status %s", logs.String(), tc.status)
			}
		})
	}
}
