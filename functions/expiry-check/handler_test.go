package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

var defaults = expiry.Request{WarnDays: []int{45, 30, 14, 7, 3, 1}, AutoRotate: true, Probe: true, Regions: []string{"cn-zhangjiakou"}}

func timer(payload string) string {
	b, _ := json.Marshal(map[string]string{"triggerTime": "2026-11-28T19:00:00Z", "triggerName": "daily-expiry-check", "payload": payload})
	return string(b)
}

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		want    expiry.Request
		wantErr string
	}{
		{"empty body", "", defaults, ""},
		{"null", "null", defaults, ""},
		{"payload absent", `{"triggerTime":"2026-11-28T19:00:00Z","triggerName":"t"}`, defaults, ""},
		{"payload null", `{"triggerName":"t","payload":null}`, defaults, ""},
		{"payload empty", timer(""), defaults, ""},
		{"payload blank", timer("  "), defaults, ""},
		{"full payload", timer(`{"warnDays":[7,30],"autoRotate":false,"probe":false,"regions":["cn-hangzhou","cn-shanghai"]}`),
			expiry.Request{WarnDays: []int{30, 7}, Regions: []string{"cn-hangzhou", "cn-shanghai"}}, ""},
		{"partial payload keeps defaults", timer(`{"probe":false}`),
			expiry.Request{WarnDays: defaults.WarnDays, AutoRotate: true, Regions: defaults.Regions}, ""},
		{"manual invoke with the payload itself", `{"regions":["cn-beijing"]}`,
			expiry.Request{WarnDays: defaults.WarnDays, AutoRotate: true, Probe: true, Regions: []string{"cn-beijing"}}, ""},
		{"empty object", `{}`, defaults, ""},
		{"a fanned-out group", timer(`{"regions":["eu-central-1"],"group":"eu"}`),
			expiry.Request{WarnDays: defaults.WarnDays, AutoRotate: true, Probe: true, Regions: []string{"eu-central-1"}, Group: "eu"}, ""},

		{"not JSON", `triggerTime=now`, expiry.Request{}, "event: not a JSON object"},
		{"event is an array", `[1,2]`, expiry.Request{}, "event: not a JSON object"},
		{"payload is an object", `{"triggerName":"t","payload":{"warnDays":[1]}}`, expiry.Request{}, "payload: must be a string holding JSON"},
		{"payload is not JSON", timer("awesome-fc"), expiry.Request{}, "payload: invalid JSON"},
		{"payload truncated", timer(`{"warnDays":[30,`), expiry.Request{}, "payload: "},
		{"warnDays is a string", timer(`{"warnDays":"30"}`), expiry.Request{}, "payload: field warnDays must be an array of whole numbers of days"},
		{"warnDays has a fraction", timer(`{"warnDays":[30,7.5]}`), expiry.Request{}, "field warnDays"},
		{"warnDays zero", timer(`{"warnDays":[30,0]}`), expiry.Request{}, "payload.warnDays[1] = 0"},
		{"warnDays empty", timer(`{"warnDays":[]}`), expiry.Request{}, "payload.warnDays: is empty"},
		{"autoRotate a string", timer(`{"autoRotate":"yes"}`), expiry.Request{}, "payload: field autoRotate must be true or false"},
		{"probe a number", timer(`{"probe":1}`), expiry.Request{}, "payload: field probe must be true or false"},
		{"regions a string", timer(`{"regions":"cn-hangzhou"}`), expiry.Request{}, "payload: field regions must be an array of region ids"},
		{"region malformed", timer(`{"regions":["cn-hangzhou","Hangzhou"]}`), expiry.Request{}, `payload.regions[1] = "Hangzhou"`},
		{"regions empty", timer(`{"regions":[]}`), expiry.Request{}, "payload.regions: is empty"},
		{"group malformed", timer(`{"group":"EU/west"}`), expiry.Request{}, `payload.group = "EU/west"`},
		{"group a number", timer(`{"group":1}`), expiry.Request{}, "payload: field group must be a short name"},
		{"unknown field", timer(`{"warnDay":[30]}`), expiry.Request{}, `payload: unknown field "warnDay"`},
		{"trailing data", timer(`{"probe":true} {"probe":false}`), expiry.Request{}, "payload: unexpected data"},
		{"manual invoke unknown field", `{"renewBeforeDays":30}`, expiry.Request{}, `event: unknown field "renewBeforeDays"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent([]byte(tt.event), defaults)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSampleTimerEvent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "timer.json"))
	if err != nil {
		t.Skipf("events/timer.json not present: %v", err)
	}
	got, err := ParseEvent(raw, defaults)
	if err != nil {
		t.Fatalf("the sample timer event does not decode: %v", err)
	}
	if len(got.WarnDays) == 0 || len(got.Regions) == 0 {
		t.Errorf("sample decoded to %+v", got)
	}
}

// fakeSweep returns a fixed report or error and records the request.
type fakeSweep struct {
	rep  expiry.Report
	err  error
	got  []expiry.Request
	when []time.Time
}

func (f *fakeSweep) Sweep(_ context.Context, now time.Time, req expiry.Request) (expiry.Report, error) {
	f.got = append(f.got, req)
	f.when = append(f.when, now)
	return f.rep, f.err
}

func newHandler(sw *fakeSweep, buildErr error, logs *bytes.Buffer) *Handler {
	return &Handler{
		Config: config.Config{Regions: []string{"cn-zhangjiakou"}},
		NewSweeper: func(context.Context) (Sweeper, error) {
			if buildErr != nil {
				return nil, buildErr
			}
			return sw, nil
		},
		Now: func() time.Time { return time.Date(2026, 11, 28, 19, 0, 5, 0, time.UTC) },
		Log: slog.New(slog.NewJSONHandler(logs, nil)),
	}
}

func TestHandle(t *testing.T) {
	okReport := expiry.Report{Time: time.Now(), Regions: []string{"cn-zhangjiakou"}, Counts: expiry.Counts{OK: 2, Warn: 1}, ReportKey: "reports/2026-11-28.json"}
	partial := okReport
	partial.Errors = []expiry.Problem{{Stage: "loadbalancers", Region: "cn-beijing", Error: "boom", Transient: true}}
	tests := []struct {
		name       string
		event      string
		sweep      fakeSweep
		buildErr   error
		configErr  error
		wantStatus outcome.Status
		wantErr    bool
		wantReason string
		wantSweeps int
	}{
		{"ok", timer(""), fakeSweep{rep: okReport}, nil, nil, StatusOK, false, "", 1},
		{"partial", timer(""), fakeSweep{rep: partial}, nil, nil, StatusPartial, false, "", 1},
		{"malformed payload is rejected without a sweep", timer(`{"warnDays":"x"}`), fakeSweep{}, nil, nil, StatusRejected, false, "payload: field warnDays", 0},
		{"configuration error is rejected", timer(""), fakeSweep{}, nil, errors.New("CERT_BUCKET: not set"), StatusRejected, false, "configuration: CERT_BUCKET", 0},
		{"every region throttled: FC retries", timer(""), fakeSweep{rep: partial, err: fmt.Errorf("every region failed: %w", apierr.ErrTransient)}, nil, nil, StatusFailed, true, "every region failed", 1},
		{"every region denied: no retry", timer(""), fakeSweep{rep: partial, err: fmt.Errorf("every region failed: %w", apierr.ErrAccessDenied)}, nil, nil, StatusFailed, false, "every region failed", 1},
		{"missing credentials", timer(""), fakeSweep{}, errors.New("aliyun: credentials: ALIBABA_CLOUD_ACCESS_KEY_ID not set"), nil, StatusFailed, true, "credentials", 0},
		{"build refused (no credentials): no retry", timer(""), fakeSweep{}, fmt.Errorf("aliyun: credentials: ALIBABA_CLOUD_ACCESS_KEY_ID not set: %w", apierr.ErrAccessDenied), nil, StatusRejected, false, "credentials", 0},
		{"build failed transiently: FC retries", timer(""), fakeSweep{}, fmt.Errorf("OSS adapter: %w", apierr.ErrTransient), nil, StatusFailed, true, "OSS adapter", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			sw := tt.sweep
			h := newHandler(&sw, tt.buildErr, &logs)
			h.ConfigErr = tt.configErr
			res, err := h.Handle(context.Background(), json.RawMessage(tt.event))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if res.Status != tt.wantStatus || !strings.Contains(res.Reason, tt.wantReason) {
				t.Errorf("result = %s %q, want %s %q", res.Status, res.Reason, tt.wantStatus, tt.wantReason)
			}
			if len(sw.got) != tt.wantSweeps {
				t.Errorf("sweeps = %d, want %d", len(sw.got), tt.wantSweeps)
			}
			if n := strings.Count(logs.String(), "\n"); n != 1 {
				t.Errorf("logged %d lines, want exactly one:\n%s", n, logs.String())
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line["status"] != string(tt.wantStatus) {
				t.Errorf("log line %s (%v)", logs.String(), err)
			}
			if tt.wantStatus == StatusOK {
				if res.Report == nil || res.Report.Counts.OK != 2 || line["report_key"] != "reports/2026-11-28.json" || line["warn"] != float64(1) {
					t.Errorf("report %+v, log %v", res.Report, line)
				}
				if !sw.when[0].Equal(h.Now()) {
					t.Errorf("sweep ran at %v, want the handler's now", sw.when[0])
				}
				if fmt.Sprint(sw.got[0]) != fmt.Sprint(defaults) {
					t.Errorf("request = %+v, want the defaults %+v", sw.got[0], defaults)
				}
			}
		})
	}
}

func TestResultJSON(t *testing.T) {
	res := Result{Status: StatusOK, Report: &expiry.Report{Counts: expiry.Counts{Expired: 1}}}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"status":"ok"`) || !strings.Contains(string(b), `"expired":1`) {
		t.Errorf("result JSON = %s", b)
	}
}
