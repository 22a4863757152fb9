package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
)

func main() {
	cfg, cfgErr := config.Load(os.Getenv)
	logger := fclog.New(os.Stdout, cfg.LogLevel)
	h := &Handler{
		Logger: logger,
		Open: func(ctx context.Context) (Service, error) {
			if cfgErr != nil {
				return nil, cfgErr // every problem, by variable name; permanent
			}
			creds, err := aliyun.CredentialsFromContext(ctx, os.Getenv)
			if err != nil {
				// Missing credentials: retrying cannot help.
				return nil, fmt.Errorf("provision: %w: %w", err, apierr.ErrAccessDenied)
			}
			return NewService(cfg, creds)
		},
	}
	fc.Start(h.Handle)
}
