package main

import (
	"os"
	_ "time/tzdata" // TZ (s.yaml: Asia/Shanghai) names the report's day; no zoneinfo in the runtime is needed

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
)

func main() {
	cfg, err := config.Load(os.Getenv)
	h := &Handler{
		Config:    cfg,
		ConfigErr: err,
		NewSweep:  SweeperFactory(cfg, os.Getenv),
		Log:       fclog.New(os.Stdout, cfg.LogLevel),
	}
	fc.Start(h.Handle)
}
