package app

import (
	"reflect"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

func names(ps []rotation.Product) []string {
	var out []string
	for _, p := range ps {
		if p.Port == nil {
			out = append(out, p.Name+"(no port)")
			continue
		}
		out = append(out, p.Name)
	}
	return out
}

// TestProducts: LB_PRODUCTS decides which ports both rotating functions
// build, CLB first; with no ALB or NLB the rotation keeps its CLB-only
// default (nil).
func TestProducts(t *testing.T) {
	for _, tc := range []struct {
		env       string // LB_PRODUCTS ("" = unset: every product)
		ports     []string
		products  []string
		clbOnlyOK bool
	}{
		{"", []string{"alb", "nlb"}, []string{"clb", "alb", "nlb"}, false},
		{"clb,alb,nlb", []string{"alb", "nlb"}, []string{"clb", "alb", "nlb"}, false},
		{"alb", []string{"alb"}, []string{"alb"}, false},
		{"nlb,clb", []string{"nlb"}, []string{"clb", "nlb"}, false},
		{"clb", nil, nil, true},
	} {
		t.Run(tc.env, func(t *testing.T) {
			cfg, err := config.Load(func(k string) string {
				return map[string]string{config.EnvCertBucket: "my-certs", config.EnvRegions: "cn-hangzhou", config.EnvProducts: tc.env}[k]
			})
			if err != nil {
				t.Fatal(err)
			}
			r := New(cfg, nil)
			lbs := r.loadBalancerPorts(r.lbAdapters(aliyun.Credentials{AccessKeyID: "ak", AccessKeySecret: "secret"}))
			if got := names(lbs); !reflect.DeepEqual(got, tc.ports) {
				t.Fatalf("loadBalancerPorts = %v, want %v", got, tc.ports)
			}
			got := Products(cfg, nil, lbs)
			if !reflect.DeepEqual(names(got), tc.products) {
				t.Fatalf("Products = %v, want %v", names(got), tc.products)
			}
			if tc.clbOnlyOK != (got == nil) {
				t.Fatalf("Products = %v: nil (the CLB-only default) %v, want %v", got, got == nil, tc.clbOnlyOK)
			}
		})
	}
}
