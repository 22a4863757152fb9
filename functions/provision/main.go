// Command provision is the manually invoked Function Compute function that
// applies, plans or destroys the declared CLB setup. main only wires: the
// configuration, the composition root's provisioner and the logger; see
// handler.go.
package main

import (
	"context"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	root := app.New(cfg, os.Getenv)
	h := &Handler{
		Config:         cfg,
		ConfigErr:      err,
		NewProvisioner: func(ctx context.Context) (Provisioner, error) { return root.Provisioner(ctx) },
		Log:            fclog.New(os.Stdout, cfg.LogLevel),
	}
	fc.Start(h.Handle)
}
