package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/issuance"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		in, name, err string
	}{
		{"", "", ""},
		{"null", "", ""},
		{"{}", "", ""},
		{`{"name": " www "}`, "www", ""},
		{`{"triggerTime":"2026-11-28T18:30:00Z","triggerName":"daily-renewal","payload":"{}"}`, "", ""},
		{`{"name": ""}`, "", "name must be a non-empty string"},
		{`{"name": 3}`, "", "name must be a non-empty string"},
		{`{"names": ["www"]}`, "", `unknown field "names"`},
		{`[1]`, "", "not a JSON object"},
	}
	for _, tc := range tests {
		req, err := ParseEvent([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseEvent(%s) = %v, want error with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || req.Name != tc.name {
			t.Errorf("ParseEvent(%s) = %+v, %v; want name %q", tc.in, req, err, tc.name)
		}
	}
}

type fakeRenewer struct {
	res issuance.Result
	err error
	got issuance.Request
}

func (f *fakeRenewer) Run(_ context.Context, _ time.Time, req issuance.Request) (issuance.Result, error) {
	f.got = req
	return f.res, f.err
}

func TestHandle(t *testing.T) {
	var logs bytes.Buffer
	h := &Handler{Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	ctx := context.Background()

	h.ConfigErr = errors.New("config: CERT_BUCKET: not set")
	if res, err := h.Handle(ctx, []byte(`{}`)); err != nil || res.Status != outcome.Rejected || !strings.Contains(res.Reason, "CERT_BUCKET") {
		t.Errorf("config error: %+v, %v", res, err)
	}
	h.ConfigErr = nil
	if res, err := h.Handle(ctx, []byte(`{"bogus":1}`)); err != nil || res.Status != outcome.Rejected {
		t.Errorf("bad payload: %+v, %v", res, err)
	}

	f := &fakeRenewer{res: issuance.Result{Status: outcome.Issued, Names: []issuance.NameResult{{Name: "www", Status: outcome.Issued, Orders: 1}}}}
	h.NewRenewer = func(context.Context) (Renewer, error) { return f, nil }
	res, err := h.Handle(ctx, []byte(`{"name":"www"}`))
	if err != nil || res.Status != outcome.Issued || f.got.Name != "www" || len(res.Names) != 1 {
		t.Errorf("issued: %+v, %v (request %+v)", res, err, f.got)
	}
	if !strings.Contains(logs.String(), `"status":"issued"`) || !strings.Contains(logs.String(), `"orders":1`) {
		t.Errorf("log line: %s", logs.String())
	}

	f.res, f.err = issuance.Result{Status: outcome.Failed}, errors.Join(errors.New("www: read the state"), apierr.ErrTransient)
	if _, err := h.Handle(ctx, nil); err == nil || !errors.Is(err, apierr.ErrTransient) {
		t.Errorf("a transient failure must return an error (FC retries): %v", err)
	}
	f.res = issuance.Result{Status: outcome.Issued, Names: []issuance.NameResult{{Name: "www", Status: outcome.Issued}, {Name: "shop", Status: outcome.Failed}}}
	if res, err := h.Handle(ctx, nil); err == nil || res.Status != outcome.Failed {
		t.Errorf("a returned error (FC retries) must not read as a success: %+v, %v", res, err)
	}
	h.NewRenewer = func(context.Context) (Renewer, error) { return nil, errors.New("no credentials") }
	if res, err := h.Handle(ctx, nil); err == nil || res.Status != outcome.Failed {
		t.Errorf("setup failure: %+v, %v", res, err)
	}
	h.NewRenewer = func(context.Context) (Renewer, error) {
		return nil, fmt.Errorf("aliyun: credentials: ALIBABA_CLOUD_ACCESS_KEY_ID not set: %w", apierr.ErrAccessDenied)
	}
	if res, err := h.Handle(ctx, nil); err != nil || res.Status != outcome.Rejected || !strings.Contains(res.Reason, "ALIBABA_CLOUD_ACCESS_KEY_ID") {
		t.Errorf("permanent setup failure (FC must not retry): %+v, %v", res, err)
	}
}
