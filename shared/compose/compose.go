// Package compose maps the validated environment (config.Config) onto the
// settings of the use cases, once, for every function that builds them.
// It is where the functions' wiring meets: a handler asks it for a use
// case's settings instead of copying fields itself.
package compose

import (
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// RotationConfig is the rotation's configuration from the environment:
// bucket and prefix, regions, validity floor, superseded certificates kept,
// dry run, probe timeout and concurrency. The rotation's own defaults
// apply to what the environment does not set (a zero Config field).
func RotationConfig(c config.Config) rotation.Config {
	return rotation.Config{
		Bucket:       c.CertBucket,
		Prefix:       c.CertPrefix,
		Regions:      c.Regions,
		MinValidDays: c.MinValidDays,
		Keep:         c.KeepSuperseded,
		DryRun:       c.DryRun,
		ProbeTimeout: c.ProbeTimeout,
		Concurrency:  c.Concurrency,
	}
}
