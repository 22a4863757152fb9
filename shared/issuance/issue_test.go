package issuance

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/acmeca"
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

// TestECDSAAndExternalAccountBinding: an ec256 pair (ALB/NLB only) and a CA
// that requires external account binding: without it the CA's problem is
// reported, with it the account registers; the HMAC key appears nowhere.
func TestECDSAAndExternalAccountBinding(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const hmacKey = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
	e.replaceCA(t, acmeca.Options{DNSServer: e.dns.Addr(), EAB: map[string]string{"kid-1": hmacKey}})

	e.drop("ec", "domains: [ec.example.test]\nkey_type: ec256")
	nr := one(t, e.run(t, time.Now(), "ec"))
	if nr.Status != outcome.Rejected || !strings.Contains(nr.CAError, "externalAccountRequired") {
		t.Fatalf("without EAB: %+v", nr)
	}
	e.drop("ec", "domains: [ec.example.test]\nkey_type: ec256\nexternal_account_binding: {kid: kid-1, hmac_key: "+hmacKey+"}")
	nr = one(t, e.run(t, time.Now().Add(2*time.Hour), "ec"))
	if nr.Status != outcome.Issued {
		t.Fatalf("with EAB: %+v", nr)
	}
	if kt := KeyTypeOf(e.verifyChain(t, "ec", "ec.example.test")); kt != KeyEC256 {
		t.Errorf("key type %s, want ec256", kt)
	}
	var hay strings.Builder
	for _, m := range e.notes.Messages() {
		hay.WriteString(m.Summary + strings.Join(m.Lines, "\n"))
	}
	b, _ := json.Marshal(nr)
	hay.Write(b)
	st, _ := json.Marshal(e.state(t, "ec"))
	hay.Write(st)
	if strings.Contains(hay.String(), hmacKey) {
		t.Error("the EAB HMAC key leaked into a result, a notification or the state")
	}
}
