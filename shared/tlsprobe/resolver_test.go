package tlsprobe

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
)

// TestProberResolver: a load balancer's DNS name is resolved through the
// resolver the Prober names (PROBE_RESOLVER), not the system's.
func TestProberResolver(t *testing.T) {
	def := selfSigned(t, "lb.example.com")
	port := serve(t, nil, def)
	st := dns.NewStore()
	st.AddZone("probe.test")
	if _, err := st.Add(dns.Record{Name: "alb-1.probe.test", Type: dns.TypeA, Value: "127.0.0.1", TTL: 60}); err != nil {
		t.Fatal(err)
	}
	srv, err := dns.Listen(st, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	p := Prober{Resolver: srv.Addr()}
	for _, tc := range []struct {
		host string
		want bool
	}{{"alb-1.probe.test", true}, {"127.0.0.1", true}, {"nlb-unknown.probe.test", false}} {
		r := p.Probe(ctx, tc.host, port, "lb.example.com", 3*time.Second)
		if r.Reachable != tc.want {
			t.Fatalf("Probe(%s) = %+v, want reachable %v", tc.host, r, tc.want)
		}
		if tc.want && r.FingerprintSHA1 != fp(def) {
			t.Fatalf("Probe(%s) served %s, want %s", tc.host, r.FingerprintSHA1, fp(def))
		}
		if !tc.want && !strings.Contains(r.Err, "nlb-unknown.probe.test") {
			t.Fatalf("unresolvable name: error %q does not name the host", r.Err)
		}
	}
}
