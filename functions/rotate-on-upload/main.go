// Command rotate-on-upload is the OSS-triggered Function Compute function
// that rotates a Classic Load Balancer certificate when its PEM pair lands
// in the certificate bucket. main only wires; see handler.go.
package main

import (
	"log/slog"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
)

func main() {
	logger := fclog.New(os.Stdout, fclog.ParseLevel(os.Getenv(config.EnvLogLevel)))
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		logger.Error("rotate-on-upload: configuration", slog.String("error", err.Error()))
		os.Exit(1)
	}
	logger = fclog.New(os.Stdout, cfg.LogLevel)
	notifier, err := notify.New(cfg.NotifyKind, cfg.NotifyURL, cfg.NotifySecret, nil, nil)
	if err != nil {
		logger.Error("rotate-on-upload: notifier", slog.String("error", err.Error()))
		os.Exit(1)
	}
	h := &Handler{Config: cfg, Getenv: os.Getenv, Logger: logger, Notifier: notifier}
	fc.Start(h.Handle)
}
