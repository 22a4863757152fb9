package issuance

import (
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

func TestIssueThenCurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.drop("www", "domains: [www.example.test, \"*.example.test\"]\ncontact: ops@example.test")
	now := time.Now()
	res := e.run(t, now, "www")
	if res.Status != outcome.Issued || len(res.Names) != 1 || res.Names[0].Orders != 1 {
		t.Fatalf("first run: %+v", res)
	}
	t.Logf("timings %+v", *res.Names[0].Timings)
	leaf := e.verifyChain(t, "www", "www.example.test", "*.example.test")
	if got := KeyTypeOf(leaf); got != KeyRSA2048 {
		t.Errorf("key type %s, want the default rsa2048", got)
	}
	if !e.bucket.encrypted["certs/www/privkey.pem"] {
		t.Error("privkey.pem was not written with server-side encryption")
	}
	if left := e.txtLeft(); len(left) != 0 {
		t.Errorf("challenge records left: %+v", left)
	}
	if n := e.ca.Orders(); n != 1 {
		t.Errorf("orders at the CA: %d, want 1", n)
	}
	res = e.run(t, now.Add(time.Hour), "www")
	if res.Status != outcome.Unchanged || e.ca.Orders() != 1 {
		t.Fatalf("second run: %+v, orders %d", res, e.ca.Orders())
	}
}
