package issuance

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/acmeca"
	dnsemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

func one(t *testing.T, res Result) NameResult {
	t.Helper()
	if len(res.Names) != 1 {
		t.Fatalf("results: %+v", res)
	}
	return res.Names[0]
}

func (e *env) count(action string) int {
	n := 0
	for _, r := range e.alidns.Requests() {
		if r.Action == action {
			n++
		}
	}
	return n
}

// TestZoneMissing: a name outside the account's DNS zones is refused before
// any order, naming the fix.
func TestZoneMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.drop("other", "domains: [www.other.test]")
	nr := one(t, e.run(t, time.Now(), "other"))
	if nr.Status != outcome.Rejected || !strings.Contains(nr.Reason, "no Alibaba Cloud DNS domain of this account contains www.other.test") || !strings.Contains(nr.Reason, "no order placed") {
		t.Fatalf("result %+v", nr)
	}
	if e.ca.Orders() != 0 || nr.Orders != 0 {
		t.Errorf("orders: CA %d, result %d; want none", e.ca.Orders(), nr.Orders)
	}
	if len(e.notes.Messages()) != 1 {
		t.Errorf("notifications: %+v", e.notes.Messages())
	}
	e.drop("other2", "domains: [www.sub.example.test]\nzone: sub.example.test")
	if nr := one(t, e.run(t, time.Now(), "other2")); nr.Status != outcome.Rejected || !strings.Contains(nr.Reason, "acme.yaml zone") {
		t.Errorf("configured zone missing: %+v", nr)
	}
}

// TestCARefusesOrder: the CA's problem reaches the result and the
// notification; the failure backs off (no second order) until its time.
func TestCARefusesOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.ca.Refuse("newOrder", acmeca.Problem{Type: "urn:ietf:params:acme:error:rejectedIdentifier", Detail: "policy forbids issuing for www.example.test", Status: 400})
	e.drop("www", "domains: [www.example.test]")
	now := time.Now()
	nr := one(t, e.run(t, now, "www"))
	if nr.Status != outcome.Rejected || !strings.Contains(nr.CAError, "rejectedIdentifier") || !strings.Contains(nr.CAError, "policy forbids") {
		t.Fatalf("result %+v", nr)
	}
	msgs := e.notes.Messages()
	if len(msgs) != 1 || !strings.Contains(strings.Join(msgs[0].Lines, "\n"), "policy forbids") {
		t.Errorf("notification lacks the CA's error: %+v", msgs)
	}
	if st := e.state(t, "www"); st.Failures != 1 || !st.NextAttempt.Equal(now.Add(time.Hour)) || !st.OrderStarted.IsZero() {
		t.Errorf("state %+v", st)
	}
	// an FC retry or a manual invoke a minute later backs off: no CA call
	nr = one(t, e.run(t, now.Add(time.Minute), "www"))
	if nr.Status != outcome.Deferred || !strings.Contains(nr.Reason, "backing off") || !strings.Contains(nr.CAError, "policy forbids") {
		t.Fatalf("retry within the backoff: %+v", nr)
	}
	// after the backoff the next run orders once and issues
	nr = one(t, e.run(t, now.Add(time.Hour+time.Minute), "www"))
	if nr.Status != outcome.Issued || nr.Orders != 1 || e.ca.Orders() != 1 {
		t.Fatalf("after the backoff: %+v, CA orders %d (the refused one is not counted by the CA)", nr, e.ca.Orders())
	}
	if st := e.state(t, "www"); st.Failures != 0 || st.Orders != 2 {
		t.Errorf("state after issuing: %+v", st)
	}
}

// TestChallengeFailsValidation: the CA's resolver sees a zone without the
// TXT record (a split view), so validation fails; the record is deleted
// anyway and the failure is reported with the CA's problem.
func TestChallengeFailsValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	empty := dnsemu.NewStore()
	empty.AddZone("example.test")
	blind, err := dnsemu.Listen(empty, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blind.Close() })
	e.replaceCA(t, acmeca.Options{DNSServer: blind.Addr()})
	e.drop("www", "domains: [www.example.test]")
	nr := one(t, e.run(t, time.Now(), "www"))
	if nr.Status != outcome.Rejected || !strings.Contains(nr.CAError, "_acme-challenge.www.example.test") {
		t.Fatalf("result %+v", nr)
	}
	if left := e.txtLeft(); len(left) != 0 {
		t.Errorf("TXT records left after a failed validation: %+v", left)
	}
	if e.count("AddDomainRecord") != 1 || e.count("DeleteDomainRecord") != 1 {
		t.Errorf("Alidns calls: add %d, delete %d; want 1 and 1", e.count("AddDomainRecord"), e.count("DeleteDomainRecord"))
	}
	if st := e.state(t, "www"); len(st.Records) != 0 || st.Failures != 1 {
		t.Errorf("state %+v", st)
	}
}

// TestLostAnswerAfterTXTCreated: Alidns creates the record and the answer
// is lost; the adapter finds it instead of adding a second one, the order
// completes and the record is deleted.
func TestLostAnswerAfterTXTCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.alidns.LoseAnswers("AddDomainRecord", 1)
	e.drop("www", "domains: [www.example.test]")
	nr := one(t, e.run(t, time.Now(), "www"))
	if nr.Status != outcome.Issued || nr.Orders != 1 || e.ca.Orders() != 1 {
		t.Fatalf("result %+v, CA orders %d", nr, e.ca.Orders())
	}
	if e.count("AddDomainRecord") != 1 {
		t.Errorf("AddDomainRecord sent %d times, want 1 (the retry looks the record up)", e.count("AddDomainRecord"))
	}
	if left := e.txtLeft(); len(left) != 0 {
		t.Errorf("TXT records left: %+v", left)
	}
}

// TestRateLimited: a rateLimited answer defers the pair (no error for FC to
// retry) with a backoff, and the next run inside it sends nothing.
func TestRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.inj.Set(faults.Rule{Action: "acme:newOrder", ThrottleRate: 1})
	e.drop("www", "domains: [www.example.test]")
	now := time.Now()
	nr := one(t, e.run(t, now, "www"))
	if nr.Status != outcome.Deferred || !strings.Contains(nr.CAError, "rateLimited") || nr.NextAttempt.Before(now.Add(time.Hour)) {
		t.Fatalf("result %+v", nr)
	}
	calls := e.inj.Stats()["acme:newOrder"].Calls
	nr = one(t, e.run(t, now.Add(10*time.Minute), "www"))
	if nr.Status != outcome.Deferred || e.inj.Stats()["acme:newOrder"].Calls != calls {
		t.Errorf("second run inside the backoff: %+v, newOrder calls %d -> %d", nr, calls, e.inj.Stats()["acme:newOrder"].Calls)
	}
}

// TestDeactivatedAccount: an account the CA deactivated is reported with
// what to do, and no order is placed.
func TestDeactivatedAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.drop("www", "domains: [www.example.test]")
	now := time.Now()
	if nr := one(t, e.run(t, now, "www")); nr.Status != outcome.Issued {
		t.Fatalf("first issuance: %+v", nr)
	}
	deactivate(t, e)
	e.drop("www", "domains: [www.example.test, api.example.test]") // due again: domains changed
	nr := one(t, e.run(t, now.Add(time.Minute), "www"))
	if nr.Status != outcome.Rejected || !strings.Contains(nr.CAError, "delete its key") {
		t.Fatalf("result %+v", nr)
	}
	if e.ca.Orders() != 1 {
		t.Errorf("CA orders %d, want 1 (none with the deactivated account)", e.ca.Orders())
	}
}

// TestConcurrentRunsOneOrder: two runs at once (a manual invoke during the
// timer's run) place exactly one order; the second sees the first's
// certificate after the lock.
func TestConcurrentRunsOneOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.drop("www", "domains: [www.example.test, \"*.example.test\"]")
	now := time.Now()
	var wg sync.WaitGroup
	results := make([]NameResult, 3)
	for i := range results {
		wg.Go(func() { results[i] = one(t, e.run(t, now, "")) })
	}
	wg.Wait()
	issued := 0
	for _, r := range results {
		switch {
		case r.Status == outcome.Issued:
			issued++
		case r.Status == outcome.Unchanged && strings.Contains(r.Reason, "another run"):
		default:
			t.Errorf("unexpected result %+v", r)
		}
	}
	if issued != 1 || e.ca.Orders() != 1 {
		t.Errorf("issued %d, CA orders %d; want exactly 1 and 1", issued, e.ca.Orders())
	}
}

// TestInterruptedOrder is what an FC retry finds after the function was
// killed mid-order: the state says an order started and lists the TXT
// record it created. The retry deletes that record (and keeps a record with
// the same name that this product did not create), counts the order as
// failed and backs off instead of ordering again; after the backoff it
// issues.
func TestInterruptedOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.drop("www", "domains: [www.example.test]")
	now := time.Now()
	ours, _ := e.store.Add(dnsemu.Record{Name: "_acme-challenge.www.example.test", Type: "TXT", Value: "left-by-the-killed-run"})
	theirs, _ := e.store.Add(dnsemu.Record{Name: "_acme-challenge.www.example.test", Type: "TXT", Value: "someone-else"})
	st := State{OrderStarted: now.Add(-2 * time.Minute), Orders: 1,
		Records: []TXTRecord{{Zone: "example.test", RR: "_acme-challenge.www", Value: "left-by-the-killed-run", ID: ours.ID},
			{Zone: "example.test", RR: "_acme-challenge.www", Value: "changed-since", ID: theirs.ID}}}
	if err := e.r.saveState(context.Background(), "www", st); err != nil {
		t.Fatal(err)
	}
	nr := one(t, e.run(t, now, "www"))
	if nr.Status != outcome.Deferred || e.ca.Orders() != 0 {
		t.Fatalf("retry after a kill: %+v, CA orders %d; want deferred and none", nr, e.ca.Orders())
	}
	left := e.txtLeft()
	if len(left) != 1 || left[0].ID != theirs.ID {
		t.Errorf("records left %+v; want only the one this product did not write", left)
	}
	if st := e.state(t, "www"); st.Failures != 1 || !strings.Contains(st.LastError, "ended during its order") || len(st.Records) != 0 {
		t.Errorf("state %+v", st)
	}
	nr = one(t, e.run(t, now.Add(2*time.Hour), "www"))
	if nr.Status != outcome.Issued || e.ca.Orders() != 1 {
		t.Fatalf("after the backoff: %+v, orders %d", nr, e.ca.Orders())
	}
}

// TestARIFromTheCA: the CA's renewal window decides, not the one-third
// rule: a window in the past renews a fresh certificate, one in the future
// keeps it.
func TestARIFromTheCA(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.drop("www", "domains: [www.example.test]")
	now := time.Now()
	if nr := one(t, e.run(t, now, "www")); nr.Status != outcome.Issued {
		t.Fatalf("first issuance: %+v", nr)
	}
	chain := e.bucket.get(t, "certs/www/fullchain.pem")
	window := func(from, to time.Time) string {
		b, _ := json.Marshal(map[string]any{"suggestedWindow": map[string]string{"start": from.UTC().Format(time.RFC3339), "end": to.UTC().Format(time.RFC3339)}})
		return string(b)
	}
	ctx := context.Background()
	if err := e.ca.SetRenewalInfo(ctx, chain, window(now.Add(80*24*time.Hour), now.Add(81*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	// 70 days on, the one-third rule would renew; the CA's window is later
	if nr := one(t, e.run(t, now.Add(70*24*time.Hour), "www")); nr.Status != outcome.Unchanged || !strings.Contains(nr.Reason, "ARI") {
		t.Fatalf("window in the future: %+v", nr)
	}
	if err := e.ca.SetRenewalInfo(ctx, chain, window(now.Add(-2*time.Hour), now.Add(-time.Hour))); err != nil {
		t.Fatal(err)
	}
	nr := one(t, e.run(t, now.Add(time.Hour), "www"))
	if nr.Status != outcome.Issued || !strings.Contains(nr.Reason, "ARI") || e.ca.Orders() != 2 {
		t.Fatalf("window open: %+v, orders %d", nr, e.ca.Orders())
	}
}

// deactivate deactivates the env's ACME account at the CA, as its owner.
func deactivate(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	keys, _ := e.bucket.ListKeys(ctx, bucket, "acme/accounts/")
	if len(keys) != 1 {
		t.Fatalf("account keys %v", keys)
	}
	signer, err := parseAccountKey(e.bucket.get(t, keys[0]), keys[0])
	if err != nil {
		t.Fatal(err)
	}
	a := e.r.CA.(*ACME)
	u := &user{key: signer}
	c, err := a.client(Config{Directory: e.ca.DirectoryURL()}, u)
	if err != nil {
		t.Fatal(err)
	}
	if u.reg, err = c.Registration.ResolveAccountByKey(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Registration.DeleteRegistration(ctx); err != nil {
		t.Fatal(err)
	}
}
