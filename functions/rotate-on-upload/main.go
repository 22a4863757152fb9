// Command rotate-on-upload is the OSS-triggered Function Compute function
// that rotates a Classic Load Balancer certificate when its PEM pair lands
// in the certificate bucket. main only wires; see handler.go.
package main

import (
	"errors"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	notifier, nerr := notify.New(cfg.NotifyKind, cfg.NotifyURL, cfg.NotifySecret, nil, nil)
	h := &Handler{
		Config:    cfg,
		ConfigErr: errors.Join(err, nerr),
		Getenv:    os.Getenv,
		Logger:    fclog.New(os.Stdout, cfg.LogLevel),
		Notifier:  notifier,
	}
	fc.Start(h.Handle)
}
