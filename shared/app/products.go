package app

import (
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/albnlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// LoadBalancerPorts builds the ALB and NLB ports LB_PRODUCTS asks for, over
// one CAS adapter (their certificates are shared), from the endpoints of
// the configuration. Every rotation the root builds uses them
// (rotate-on-upload and the expiry check's auto-rotation).
func (r *Root) LoadBalancerPorts(creds aliyun.Credentials) []rotation.Product {
	c := r.Config
	var out []rotation.Product
	var cas *aliyun.CAS
	store := func() *aliyun.CAS {
		if cas == nil {
			cas = aliyun.NewCAS(creds, r.rpc(c.CASEndpoint))
		}
		return cas
	}
	if c.HasProduct(clb.ProductALB) {
		out = append(out, rotation.Product{Name: clb.ProductALB,
			Port: albnlb.New(clb.ProductALB, aliyun.NewALB(creds, r.rpc(c.ALBEndpoint)), store())})
	}
	if c.HasProduct(clb.ProductNLB) {
		out = append(out, rotation.Product{Name: clb.ProductNLB,
			Port: albnlb.New(clb.ProductNLB, aliyun.NewNLB(creds, r.rpc(c.NLBEndpoint)), store())})
	}
	return out
}

// Products are the rotation's products: CLB (when configured, or when
// LB_PRODUCTS is not set) over slb, then lbs; nil (the rotation's CLB-only
// default over its SLB) when lbs is empty.
func Products(c config.Config, slb rotation.SLB, lbs []rotation.Product) []rotation.Product {
	if len(lbs) == 0 {
		return nil
	}
	var out []rotation.Product
	if c.HasProduct(clb.ProductCLB) || len(c.Products) == 0 {
		out = append(out, rotation.Product{Name: clb.ProductCLB, Port: rotation.CLBPort{SLB: slb}})
	}
	return append(out, lbs...)
}
