package alb

import (
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
)

// TestFaultsBeforeTheAction: throttling, 5xx, a timeout and a reset on
// UpdateListenerAttribute leave the listener Running with its certificate;
// the request log names each fault.
func TestFaultsBeforeTheAction(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rule  faults.Rule
		fault string
	}{
		{"throttle", faults.Rule{ThrottleRate: 1}, "throttle"},
		{"5xx", faults.Rule{ServerErrorRate: 1}, "5xx"},
		{"timeout", faults.Rule{TimeoutRate: 1}, "timeout"},
		{"reset", faults.Rule{ResetRate: 1}, "reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, false)
			a, _ := e.cert("a", "a.example.com")
			b, _ := e.cert("b", "a.example.com")
			lbID, err := e.alb.SeedLoadBalancer(hz, "f", "Basic")
			must(t, err)
			lsn, err := e.alb.SeedListener(hz, lbID, 443, "HTTPS", a)
			must(t, err)
			tc.rule.Action = "UpdateListenerAttribute"
			e.inj.Set(tc.rule)
			c := e.client(hz)
			c.SetReadTimeout(300 * time.Millisecond)
			if _, err := updateDefault(c, lsn, b); err == nil {
				t.Fatal("the faulted call succeeded")
			}
			l := e.alb.Dump().LoadBalancers[0].Listeners[0]
			if l.Status != lbcert.Running || l.Default != a || l.PendingDefault != "" {
				t.Fatalf("a fault before the action changed the listener: %+v", l)
			}
			waitFault(t, e.alb, tc.fault)
		})
	}
}

func waitFault(t *testing.T, s *Server, fault string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, r := range s.Requests() {
			if r.Action == "UpdateListenerAttribute" && r.Fault == fault {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("request log has no UpdateListenerAttribute with fault %q: %+v", fault, s.Requests())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
