package app

import (
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/albnlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// lbAdapters are the ALB, NLB and CAS adapters of one invocation, built
// once (each holds its clients, its pacer and its connections) and shared
// by the rotation's ports and the sweep's inventories; one CAS serves ALB
// and NLB, whose certificates live there.
type lbAdapters struct {
	alb *aliyun.ALB
	nlb *aliyun.NLB
	cas *aliyun.CAS
}

// lbAdapters builds the adapters over creds on the configured endpoints.
// The constructors do no I/O: building one LB_PRODUCTS leaves unused costs
// nothing.
func (r *Root) lbAdapters(creds aliyun.Credentials) lbAdapters {
	c := r.Config
	return lbAdapters{
		alb: aliyun.NewALB(creds, r.rpc(c.ALBEndpoint)),
		nlb: aliyun.NewNLB(creds, r.rpc(c.NLBEndpoint)),
		cas: aliyun.NewCAS(creds, r.rpc(c.CASEndpoint)),
	}
}

// loadBalancerPorts are the ALB and NLB ports LB_PRODUCTS asks for, over
// a's adapters. Every rotation the root builds uses them (rotate-on-upload
// and the expiry check's auto-rotation).
func (r *Root) loadBalancerPorts(a lbAdapters) []rotation.Product {
	var out []rotation.Product
	if r.Config.HasProduct(clb.ProductALB) {
		out = append(out, rotation.Product{Name: clb.ProductALB, Port: albnlb.New(clb.ProductALB, a.alb, a.cas)})
	}
	if r.Config.HasProduct(clb.ProductNLB) {
		out = append(out, rotation.Product{Name: clb.ProductNLB, Port: albnlb.New(clb.ProductNLB, a.nlb, a.cas)})
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
