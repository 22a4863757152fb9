package main

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/provisioning"
)

func TestRejectedResultNamesTheActionAsGiven(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    string
	}{
		{"misspelt", `{"action":"aply","region":"cn-zhangjiakou"}`, "aply"},
		{"plan", `{"action":"plan","region":"cn-zhangjiakou"}`, "plan"},
		{"absent means apply", `{"region":"cn-zhangjiakou"}`, "apply"},
		{"not a string", `{"action":5}`, ""},
		{"not JSON", `action=apply`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{NewProvisioner: func(context.Context) (Provisioner, error) { t.Fatal("opened for an invalid payload"); return nil, nil },
				Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))}
			res, err := h.Handle(context.Background(), []byte(tt.payload))
			if err != nil || res.Status != provisioning.StatusRejected {
				t.Fatalf("status %s err %v", res.Status, err)
			}
			if res.Action != tt.want {
				t.Errorf("action = %q, want %q", res.Action, tt.want)
			}
		})
	}
}
