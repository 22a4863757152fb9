package main

import (
	"context"
	"os"
	_ "time/tzdata" // TZ (s.yaml: Asia/Shanghai) names the report's day; no zoneinfo in the runtime is needed

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
)

// main only wires: the configuration, the composition root's sweeper and
// the logger; see handler.go.
func main() {
	cfg, err := config.Load(os.Getenv)
	root := app.New(cfg, os.Getenv)
	h := &Handler{
		Config:     cfg,
		ConfigErr:  err,
		NewSweeper: func(ctx context.Context) (Sweeper, error) { return root.Sweeper(ctx) },
		Log:        fclog.New(os.Stdout, cfg.LogLevel),
	}
	fc.Start(h.Handle)
}
