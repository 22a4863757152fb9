package expiry

import (
	"context"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// TestHealingConvergesOnTheBucket: every place serving an older
// certificate than a pair in the bucket is healed, near expiry or not; a
// place pinned by a deploy.yaml is only that pair's, and every other
// pair's rotation leaves it alone; pairs rotate latest expiry first.
func TestHealingConvergesOnTheBucket(t *testing.T) {
	const hz = "cn-hangzhou"
	lb0 := "lb-" + hz + "-000"
	pinned := clb.Target{Region: hz, LoadBalancerID: lb0, ListenerPort: 443}
	tests := []struct {
		name        string
		pairs       staticPairs
		wantRotated string // pair names in order
		wantPinned  map[string][]clb.Target
	}{
		{name: "far from expiry, a later pair in the bucket",
			pairs:       staticPairs{{Name: "www", Domains: []string{"www.example.com"}, NotAfter: days(300), Fingerprint: fp(20)}},
			wantRotated: "www", wantPinned: map[string][]clb.Target{"www": nil}},
		{name: "an earlier pair is no replacement",
			pairs: staticPairs{{Name: "www", Domains: []string{"www.example.com"}, NotAfter: days(100), Fingerprint: fp(20)}}},
		{name: "a pinned place goes to its pair, the others to the latest",
			pairs: staticPairs{
				{Name: "latest", Domains: []string{"www.example.com"}, NotAfter: days(300), Fingerprint: fp(20)},
				{Name: "pinned", Domains: []string{"www.example.com"}, NotAfter: days(250), Fingerprint: fp(21), Targets: []clb.Target{pinned}, ExplicitOnly: true},
			},
			wantRotated: "latest,pinned",
			wantPinned:  map[string][]clb.Target{"latest": {pinned}, "pinned": nil}},
		{name: "an explicit-only pair replaces nothing else",
			pairs: staticPairs{
				{Name: "pinned", Domains: []string{"www.example.com"}, NotAfter: days(300), Fingerprint: fp(21), Targets: []clb.Target{{Region: hz, LoadBalancerID: "lb-elsewhere", ListenerPort: 443}}, ExplicitOnly: true},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := newCloud()
			cloud.addRegion(hz, 2, 1, cert("c-www", 1, days(200), "www.example.com"))
			rot := &fakeRotator{}
			s := &Sweeper{Inventory: cloud.reader(), Pairs: tt.pairs, Rotator: rot}
			rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{hz}, AutoRotate: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Counts.OK != 1 {
				t.Fatalf("counts %+v; want the certificate ok (far from expiry)", rep.Counts)
			}
			if got := strings.Join(rot.names, ","); got != tt.wantRotated {
				t.Fatalf("rotated %q; want %q (actions %+v)", got, tt.wantRotated, rep.Actions)
			}
			for name, want := range tt.wantPinned {
				if got := rot.pinned[name]; len(got) != len(want) || len(want) == 1 && got[0] != want[0] {
					t.Errorf("%s rotated with pinned %v; want %v", name, got, want)
				}
			}
			for _, a := range rep.Actions {
				if strings.Join(a.Replaces, ",") != hz+"/c-www" {
					t.Errorf("action %+v replaces %v", a.Pair, a.Replaces)
				}
			}
		})
	}
}
