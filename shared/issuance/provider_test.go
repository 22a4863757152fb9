package issuance

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	dnsemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
)

// storeDNS is a DNS port straight over an emulator store (no API).
type storeDNS struct{ st *dnsemu.Store }

func (s storeDNS) ListZones(context.Context) ([]Zone, error) {
	var out []Zone
	for _, z := range s.st.Zones() {
		out = append(out, Zone{Name: z, Nameservers: []string{"ns1." + z}})
	}
	return out, nil
}

func (s storeDNS) FindRecords(_ context.Context, zone, rr, typ string) ([]Record, error) {
	var out []Record
	for _, r := range s.st.Lookup(rr+"."+zone, typ) {
		out = append(out, Record{ID: r.ID, Zone: zone, RR: rr, Type: r.Type, Value: r.Value})
	}
	return out, nil
}

func (s storeDNS) AddRecord(_ context.Context, zone, rr, typ, value string, _ int) (string, error) {
	r, err := s.st.Add(dnsemu.Record{Name: rr + "." + zone, Type: typ, Value: value})
	return r.ID, err
}

func (s storeDNS) DeleteRecord(_ context.Context, id string) error { s.st.Delete(id); return nil }

func TestProviderRecordsAndPropagation(t *testing.T) {
	served := dnsemu.NewStore()
	served.AddZone("example.test")
	srv, err := dnsemu.Listen(served, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	stale := dnsemu.NewStore() // a second authoritative server that never gets the record
	stale.AddZone("example.test")
	staleSrv, err := dnsemu.Listen(stale, "")
	if err != nil {
		t.Fatal(err)
	}
	defer staleSrv.Close()

	var mu sync.Mutex
	var journal [][]TXTRecord
	p := &Provider{DNS: storeDNS{served}, Nameservers: []string{srv.Addr()}, PropagationTimeout: 300 * time.Millisecond, Interval: 20 * time.Millisecond,
		Journal: func(_ context.Context, recs []TXTRecord) error {
			mu.Lock()
			defer mu.Unlock()
			journal = append(journal, recs)
			return nil
		}}
	ctx := context.Background()
	foreign, _ := served.Add(dnsemu.Record{Name: "_acme-challenge.www.example.test", Type: "TXT", Value: "not-ours"})
	if err := p.Present(ctx, "www.example.test", "tok", "key-auth"); err != nil {
		t.Fatal(err)
	}
	value := ChallengeValue("key-auth")
	if ok, err := p.PreCheck(ctx, "www.example.test", "_acme-challenge.www.example.test.", value); !ok || err != nil {
		t.Fatalf("PreCheck on the serving server = %v, %v", ok, err)
	}
	p.Nameservers = []string{srv.Addr(), staleSrv.Addr()}
	start := time.Now()
	ok, err := p.PreCheck(ctx, "www.example.test", "_acme-challenge.www.example.test.", value)
	if ok || err == nil || !strings.Contains(err.Error(), staleSrv.Addr()) || strings.Contains(err.Error(), srv.Addr()+",") {
		t.Fatalf("PreCheck with a server lacking the record = %v, %v; want an error naming only that server", ok, err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("PreCheck gave up after %s, want about the 300ms timeout", d)
	}
	if err := p.CleanUp(ctx, "www.example.test", "tok", "key-auth"); err != nil {
		t.Fatal(err)
	}
	left := served.Records("example.test")
	if len(left) != 1 || left[0].ID != foreign.ID {
		t.Errorf("records after CleanUp %+v; want only the foreign one", left)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(journal) != 3 || len(journal[0]) != 1 || journal[0][0].ID != "" || journal[0][0].Value != value ||
		len(journal[1]) != 1 || journal[1][0].ID == "" || len(journal[2]) != 0 {
		t.Errorf("journal %+v; want the intent (no id) before the add, the record after it, none after CleanUp", journal)
	}
	if len(p.Remaining()) != 0 {
		t.Errorf("still tracked: %+v", p.Remaining())
	}
}

// TestProviderCleansIntent: a record journalled as an intent (the run died
// before the API's answer reached it) is found by its value and deleted;
// a record with the same name and another value is left alone.
func TestProviderCleansIntent(t *testing.T) {
	st := dnsemu.NewStore()
	st.AddZone("example.test")
	ours, _ := st.Add(dnsemu.Record{Name: "_acme-challenge.example.test", Type: "TXT", Value: "ours"})
	theirs, _ := st.Add(dnsemu.Record{Name: "_acme-challenge.example.test", Type: "TXT", Value: "theirs"})
	p := &Provider{DNS: storeDNS{st}}
	p.Adopt([]TXTRecord{{Zone: "example.test", RR: "_acme-challenge", Value: "ours"}})
	if err := p.CleanUpAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Get(ours.ID); ok {
		t.Error("the intent's record was not deleted")
	}
	if _, ok := st.Get(theirs.ID); !ok {
		t.Error("a record this product did not write was deleted")
	}
}
