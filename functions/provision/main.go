// Command provision is the manually invoked Function Compute function that
// applies, plans or destroys the declared CLB setup. main only wires; see
// handler.go.
package main

import (
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
)

func main() {
	cfg, cfgErr := config.Load(os.Getenv)
	h := &Handler{
		Logger: fclog.New(os.Stdout, cfg.LogLevel),
		Open:   Opener(cfg, cfgErr, os.Getenv),
	}
	fc.Start(h.Handle)
}
