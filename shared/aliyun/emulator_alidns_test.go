package aliyun

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	alidnsemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/alidns"
	dnsemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	slbemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

type localDNS struct {
	store *dnsemu.Store
	emu   *alidnsemu.Server
	inj   *faults.Injector
	url   string
	sts   Credentials
	plain Credentials
}

func startLocalAlidns(t *testing.T) localDNS {
	t.Helper()
	store := dnsemu.NewStore()
	inj := faults.New(7)
	emu, err := alidnsemu.New(alidnsemu.Options{Store: store, Faults: inj})
	if err != nil {
		t.Fatal(err)
	}
	emu.AddDomain("example.test")
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	accts := slbemu.DefaultAccounts()
	return localDNS{store: store, emu: emu, inj: inj, url: srv.URL,
		plain: Credentials{AccessKeyID: accts[0].AccessKeyID, AccessKeySecret: accts[0].AccessKeySecret},
		sts:   Credentials{AccessKeyID: accts[1].AccessKeyID, AccessKeySecret: accts[1].AccessKeySecret, SecurityToken: accts[1].SecurityToken}}
}

func (l localDNS) count(action string) int {
	n := 0
	for _, r := range l.emu.Requests() {
		if r.Action == action {
			n++
		}
	}
	return n
}

// TestAgainstLocalAlidns drives the adapter and the real SDK through the
// record lifecycle a DNS-01 challenge needs.
func TestAgainstLocalAlidns(t *testing.T) {
	l := startLocalAlidns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := NewAlidns(l.sts, AlidnsOptions{Endpoint: l.url, Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})

	zones, err := a.ListZones(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(zones) != 1 || zones[0].Name != "example.test" || len(zones[0].Nameservers) != 1 || zones[0].Nameservers[0] != "ns1.example.test" {
		t.Fatalf("zones = %+v", zones)
	}
	id, err := a.AddRecord(ctx, "example.test", "_acme-challenge.www", "TXT", "value-1", 600)
	if err != nil || id == "" {
		t.Fatalf("AddRecord = %q, %v", id, err)
	}
	if got := l.store.Lookup("_acme-challenge.www.example.test", "TXT"); len(got) != 1 || got[0].Value != "value-1" || got[0].ID != id {
		t.Fatalf("store after add: %+v", got)
	}
	// adding the same value again adopts the record instead of duplicating it
	if id2, err := a.AddRecord(ctx, "example.test", "_acme-challenge.www", "TXT", "value-1", 600); err != nil || id2 != id {
		t.Fatalf("second AddRecord = %q, %v; want %q", id2, err, id)
	}
	recs, err := a.FindRecords(ctx, "example.test", "_acme-challenge.www", "TXT")
	if err != nil || len(recs) != 1 || recs[0].RR != "_acme-challenge.www" || recs[0].Zone != "example.test" || recs[0].TTL != 600 {
		t.Fatalf("FindRecords = %+v, %v", recs, err)
	}
	if err := a.DeleteRecord(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteRecord(ctx, id); err != nil {
		t.Fatalf("deleting a record that is gone must be nil, got %v", err)
	}
	if got := l.store.Records("example.test"); len(got) != 0 {
		t.Fatalf("records left: %+v", got)
	}
}

func TestAlidnsRefusals(t *testing.T) {
	l := startLocalAlidns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fast := RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	good := NewAlidns(l.plain, AlidnsOptions{Endpoint: l.url, Retry: fast})

	_, err := good.AddRecord(ctx, "missing.test", "_acme-challenge", "TXT", "v", 600)
	if !errors.Is(err, apierr.ErrNotFound) || !strings.Contains(err.Error(), "InvalidDomainName.NoExist") {
		t.Errorf("a zone that does not exist: %v, want ErrNotFound naming InvalidDomainName.NoExist", err)
	}
	wrong := l.plain
	wrong.AccessKeySecret = "not-the-secret"
	_, err = NewAlidns(wrong, AlidnsOptions{Endpoint: l.url, Retry: fast}).ListZones(ctx)
	if !errors.Is(err, apierr.ErrAccessDenied) || strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("wrong secret: %v, want ErrAccessDenied without the secret", err)
	}
	noToken := l.sts
	noToken.SecurityToken = ""
	if _, err = NewAlidns(noToken, AlidnsOptions{Endpoint: l.url, Retry: fast}).ListZones(ctx); !errors.Is(err, apierr.ErrAccessDenied) {
		t.Errorf("STS key without its token: %v, want ErrAccessDenied", err)
	}
	if _, err = NewAlidns(l.plain, AlidnsOptions{Endpoint: "ftp://x"}).ListZones(ctx); !errors.Is(err, apierr.ErrInvalid) {
		t.Errorf("bad endpoint: %v, want ErrInvalid", err)
	}
}

// TestAlidnsLostAnswerAndThrottling: the record is created but the answer
// is lost; the retry finds it instead of creating a second one. Throttling
// answers are retried.
func TestAlidnsLostAnswerAndThrottling(t *testing.T) {
	l := startLocalAlidns(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := NewAlidns(l.sts, AlidnsOptions{Endpoint: l.url, Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})

	l.emu.LoseAnswers("AddDomainRecord", 1)
	id, err := a.AddRecord(ctx, "example.test", "_acme-challenge", "TXT", "lost-answer", 600)
	if err != nil {
		t.Fatal(err)
	}
	got := l.store.Lookup("_acme-challenge.example.test", "TXT")
	if len(got) != 1 || got[0].ID != id {
		t.Fatalf("after a lost answer: records %+v, id %q; want exactly one with that id", got, id)
	}
	if n := l.count("AddDomainRecord"); n != 1 {
		t.Errorf("AddDomainRecord sent %d times; the retry must look the record up first", n)
	}

	l.inj.Set(faults.Rule{Action: "DeleteDomainRecord", ThrottleRate: 1})
	go func() { time.Sleep(50 * time.Millisecond); l.inj.Clear() }()
	if err := a.DeleteRecord(ctx, id); err != nil {
		t.Fatalf("throttled delete: %v", err)
	}
	if n := l.count("DeleteDomainRecord"); n < 2 {
		t.Errorf("DeleteDomainRecord sent %d times, want a retry after throttling", n)
	}
	if len(l.store.Records("")) != 0 {
		t.Error("record not deleted")
	}
}
