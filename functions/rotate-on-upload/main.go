// Command rotate-on-upload is the OSS-triggered Function Compute function
// that rotates a load balancer certificate when its PEM pair lands in the
// certificate bucket. main only wires: the configuration, the composition
// root's rotator and notifier, the logger; see handler.go.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	root := app.New(cfg, os.Getenv)
	notifier, nerr := root.Notifier()
	h := &Handler{
		Config:     cfg,
		ConfigErr:  errors.Join(err, nerr),
		NewRotator: func(ctx context.Context) (Rotator, error) { return root.Rotator(ctx) },
		Notifier:   notifier,
		Log:        fclog.New(os.Stdout, cfg.LogLevel),
	}
	fc.Start(h.Handle)
}
