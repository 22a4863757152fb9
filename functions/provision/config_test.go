package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/provisioning"
)

// TestConfigErrorRefused: a bad environment refuses every invocation before
// the use case is built or the payload read: rejected (no FC retry), the
// problems named, the action as given, one log line.
func TestConfigErrorRefused(t *testing.T) {
	var logs bytes.Buffer
	h := &Handler{
		ConfigErr: errors.New("config: 1 problem: CERT_BUCKET: not set (set it)"),
		NewProvisioner: func(context.Context) (Provisioner, error) {
			t.Fatal("use case built despite the configuration error")
			return nil, nil
		},
		Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	res, err := h.Handle(context.Background(), []byte(`{"action":"plan","region":"cn-zhangjiakou"}`))
	if err != nil || res.Status != provisioning.StatusRejected || res.Action != "plan" || !strings.Contains(res.Error, "configuration: config: 1 problem: CERT_BUCKET") {
		t.Fatalf("Handle = %+v, %v; want rejected naming CERT_BUCKET, no error", res, err)
	}
	var rec map[string]any
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil || rec["status"] != "rejected" || rec["level"] != "WARN" {
		t.Errorf("want exactly one JSON log record, rejected at WARN: %v\n%s", err, logs.String())
	}
}
