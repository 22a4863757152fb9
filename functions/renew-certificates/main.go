// Command renew-certificates is the timer-triggered (and manually
// invokable) Function Compute function that issues and renews the
// certificates of the pairs that have an acme.yaml, by ACME DNS-01 on
// Alibaba Cloud DNS. main only wires: the configuration, the composition
// root's renewer and the logger; see handler.go.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	legolog "github.com/go-acme/lego/v5/log"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
)

func main() {
	// The ACME client's own progress lines are not ours: the handler logs
	// one line per invocation.
	legolog.SetDefault(slog.New(slog.DiscardHandler))
	cfg, err := config.Load(os.Getenv)
	root := app.New(cfg, os.Getenv)
	h := &Handler{
		Config:     cfg,
		ConfigErr:  err,
		NewRenewer: func(ctx context.Context) (Renewer, error) { return root.Renewer(ctx) },
		Log:        fclog.New(os.Stdout, cfg.LogLevel),
	}
	fc.Start(h.Handle)
}
