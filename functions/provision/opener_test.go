package main

import (
	"context"
	"errors"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
)

func TestOpener(t *testing.T) {
	noEnv := func(string) string { return "" }
	cfgErr := errors.New("config: CERT_BUCKET: not set")
	if _, err := Opener(config.Config{}, cfgErr, noEnv)(context.Background()); !errors.Is(err, cfgErr) {
		t.Errorf("Opener with a configuration error = %v, want that error", err)
	}
	_, err := Opener(config.Config{CertBucket: "b"}, nil, noEnv)(context.Background())
	if !errors.Is(err, apierr.ErrAccessDenied) || !apierr.Permanent(err) {
		t.Errorf("Opener without credentials = %v, want a permanent access-denied error", err)
	}
	env := map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIexample", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "not-a-real-secret"}
	svc, err := Opener(config.Config{CertBucket: "b", OSSRegion: "cn-zhangjiakou"}, nil, func(k string) string { return env[k] })(context.Background())
	if err != nil || svc == nil {
		t.Errorf("Opener with environment credentials = %v, %v; want a service", svc, err)
	}
}
