package expiry

import (
	"context"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// TestAutoRotationReachesALBAndNLB: the sweep hands the pairs that replace
// ALB and NLB (CAS) certificates to the Rotator, with the certificates
// they replace, as it does for CLB; a pair whose deploy.yaml pins an ALB
// listener (by listener id, or by port) wins that place over a later pair
// with discovery.
func TestAutoRotationReachesALBAndNLB(t *testing.T) {
	casRegion := aliyun.CASRegion("cn-hangzhou")
	for _, tc := range []struct {
		name    string
		pin     clb.Target // zero: no deploy.yaml
		rotated string
		actions map[string]string // pair -> the certificates it replaces
	}{
		{"discovery", clb.Target{}, "shop-new,mq-new",
			map[string]string{"shop-new": "shop", "mq-new": "mq"}},
		{"pinned by listener id", clb.Target{Type: clb.ProductALB, Region: "cn-hangzhou", LoadBalancerID: "alb-1", ListenerID: "lsn-alb-1-443"}, "shop-new,mq-new,shop-pinned",
			map[string]string{"shop-pinned": "shop", "mq-new": "mq"}},
		{"pinned by port", clb.Target{Type: clb.ProductALB, Region: "cn-hangzhou", LoadBalancerID: "alb-1", ListenerPort: 443}, "shop-new,mq-new,shop-pinned",
			map[string]string{"shop-pinned": "shop", "mq-new": "mq"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newLBFleet()
			ids := map[string]string{"shop": casRegion + "/" + f.albWarn, "mq": casRegion + "/" + f.nlbCrit}
			pairs := staticPairs{
				{Name: "shop-new", Domains: []string{"shop.example.com"}, NotAfter: days(300), Fingerprint: fp(41)},
				{Name: "mq-new", Domains: []string{"mq.example.com"}, NotAfter: days(90), Fingerprint: fp(42)},
			}
			if tc.pin.LoadBalancerID != "" {
				pairs = append(pairs, Candidate{Name: "shop-pinned", Domains: []string{"shop.example.com"}, NotAfter: days(80),
					Fingerprint: fp(43), Targets: []clb.Target{tc.pin}})
			}
			rot := &fakeRotator{}
			s := f.sweeper()
			s.Pairs, s.Rotator = pairs, rot
			rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}, AutoRotate: true})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, a := range rep.Actions {
				got[a.Pair] = strings.Join(a.Replaces, ",")
			}
			for pair, cert := range tc.actions {
				if got[pair] != ids[cert] {
					t.Errorf("pair %s replaces %q, want %q (actions %+v)", pair, got[pair], ids[cert], rep.Actions)
				}
			}
			if len(got) != len(tc.actions) || strings.Join(rot.names, ",") != strings.Join(actionOrder(tc.rotated, tc.actions), ",") {
				t.Errorf("rotated %v, actions %+v; want the pairs %v", rot.names, rep.Actions, tc.actions)
			}
			if c, ok := entry(rep, clb.ProductALB, f.albWarn); !ok || c.Replacement != pairFor(tc.actions, "shop") {
				t.Errorf("ALB certificate's replacement %q, want %q", c.Replacement, pairFor(tc.actions, "shop"))
			}
		})
	}
}

// actionOrder keeps the pairs of order (latest expiry first) that act.
func actionOrder(order string, actions map[string]string) []string {
	var out []string
	for _, p := range strings.Split(order, ",") {
		if _, ok := actions[p]; ok {
			out = append(out, p)
		}
	}
	return out
}

func pairFor(actions map[string]string, cert string) string {
	for p, c := range actions {
		if c == cert {
			return p
		}
	}
	return ""
}
