package rotation_test

import "github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"

func certstestOptions() certs.Options { return certs.Options{MinValidDays: 7} }
