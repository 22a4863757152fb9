package dns

import (
	"errors"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
)

func startServer(t *testing.T) (*Store, *Server) {
	t.Helper()
	st := NewStore()
	st.AddZone("example.test.")
	srv, err := Listen(st, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return st, srv
}

func mustAdd(t *testing.T, st *Store, r Record) Record {
	t.Helper()
	out, err := st.Add(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func query(t *testing.T, srv *Server, net, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: net}
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	in, _, err := c.Exchange(m, srv.Addr())
	if err != nil {
		t.Fatalf("%s %s %s: %v", net, name, mdns.TypeToString[qtype], err)
	}
	return in
}

func TestAnswers(t *testing.T) {
	st, srv := startServer(t)
	mustAdd(t, st, Record{Name: "WWW.example.test", Type: "a", Value: "127.0.0.9"})
	mustAdd(t, st, Record{Name: "_acme-challenge.example.test", Type: TypeTXT, Value: "token-one"})
	mustAdd(t, st, Record{Name: "_acme-challenge.example.test", Type: TypeTXT, Value: "token-two"})
	mustAdd(t, st, Record{Name: "a.deep.example.test", Type: TypeTXT, Value: strings.Repeat("x", 300), TTL: 5})

	tests := []struct {
		name   string
		qname  string
		qtype  uint16
		rcode  int
		answer []string // the rdata of each answer, in order
		soaNs  bool     // an SOA in the authority section
	}{
		{"A record", "www.example.test", mdns.TypeA, mdns.RcodeSuccess, []string{"127.0.0.9"}, false},
		{"case-insensitive", "WwW.Example.TEST", mdns.TypeA, mdns.RcodeSuccess, []string{"127.0.0.9"}, false},
		{"two TXT", "_acme-challenge.example.test", mdns.TypeTXT, mdns.RcodeSuccess, []string{`"token-one"`, `"token-two"`}, false},
		{"long TXT split", "a.deep.example.test", mdns.TypeTXT, mdns.RcodeSuccess, []string{`"` + strings.Repeat("x", 255) + `" "` + strings.Repeat("x", 45) + `"`}, false},
		{"NODATA", "www.example.test", mdns.TypeTXT, mdns.RcodeSuccess, nil, true},
		{"empty non-terminal", "deep.example.test", mdns.TypeA, mdns.RcodeSuccess, nil, true},
		{"NXDOMAIN", "missing.example.test", mdns.TypeTXT, mdns.RcodeNameError, nil, true},
		{"outside zones", "example.org", mdns.TypeA, mdns.RcodeRefused, nil, false},
		{"apex NS", "example.test", mdns.TypeNS, mdns.RcodeSuccess, []string{"ns1.example.test."}, false},
		{"nameserver A", "ns1.example.test", mdns.TypeA, mdns.RcodeSuccess, []string{"127.0.0.1"}, false},
		{"SOA", "example.test", mdns.TypeSOA, mdns.RcodeSuccess, []string{"ns1.example.test. hostmaster.example.test."}, false},
		{"CAA empty", "www.example.test", mdns.TypeCAA, mdns.RcodeSuccess, nil, true},
	}
	for _, tc := range tests {
		for _, network := range []string{"udp", "tcp"} {
			t.Run(tc.name+"/"+network, func(t *testing.T) {
				in := query(t, srv, network, tc.qname, tc.qtype)
				if in.Rcode != tc.rcode {
					t.Fatalf("rcode %s, want %s", mdns.RcodeToString[in.Rcode], mdns.RcodeToString[tc.rcode])
				}
				if tc.rcode != mdns.RcodeRefused && !in.Authoritative {
					t.Error("AA flag not set")
				}
				if len(in.Answer) != len(tc.answer) {
					t.Fatalf("answers %v, want %v", in.Answer, tc.answer)
				}
				for i, rr := range in.Answer {
					rdata := strings.TrimPrefix(rr.String(), rr.Header().String())
					if !strings.HasPrefix(rdata, tc.answer[i]) {
						t.Errorf("answer %d = %q, want prefix %q", i, rdata, tc.answer[i])
					}
				}
				if got := len(in.Ns) == 1 && in.Ns[0].Header().Rrtype == mdns.TypeSOA; got != tc.soaNs {
					t.Errorf("SOA in authority = %v, want %v (%v)", got, tc.soaNs, in.Ns)
				}
			})
		}
	}
}

func TestSerialAndDelete(t *testing.T) {
	st, srv := startServer(t)
	serial := func() uint32 {
		return query(t, srv, "udp", "example.test", mdns.TypeSOA).Answer[0].(*mdns.SOA).Serial
	}
	s0 := serial()
	r := mustAdd(t, st, Record{Name: "_acme-challenge.www.example.test", Type: TypeTXT, Value: "v"})
	if s1 := serial(); s1 <= s0 {
		t.Errorf("serial after add %d, want > %d", s1, s0)
	}
	if got := st.Lookup("_acme-challenge.www.example.test.", ""); len(got) != 1 || got[0].ID != r.ID {
		t.Fatalf("Lookup = %v", got)
	}
	if !st.Delete(r.ID) || st.Delete(r.ID) {
		t.Fatal("Delete must succeed once")
	}
	if in := query(t, srv, "tcp", "_acme-challenge.www.example.test", mdns.TypeTXT); in.Rcode != mdns.RcodeNameError {
		t.Errorf("after delete: rcode %s, want NXDOMAIN", mdns.RcodeToString[in.Rcode])
	}
}

func TestStoreRefusals(t *testing.T) {
	st := NewStore()
	st.AddZone("example.test")
	tests := []struct {
		r    Record
		want error
	}{
		{Record{Name: "www.example.org", Type: TypeA, Value: "127.0.0.1"}, ErrNoZone},
		{Record{Name: "www.example.test", Type: TypeA, Value: "::1"}, ErrInvalid},
		{Record{Name: "www.example.test", Type: TypeA, Value: "nope"}, ErrInvalid},
		{Record{Name: "www.example.test", Type: "MX", Value: "mx"}, ErrInvalid},
		{Record{Name: "", Type: TypeTXT, Value: "v"}, ErrInvalid},
	}
	for _, tc := range tests {
		if _, err := st.Add(tc.r); !errors.Is(err, tc.want) {
			t.Errorf("Add(%+v) = %v, want %v", tc.r, err, tc.want)
		}
	}
	if len(st.Records("")) != 0 {
		t.Error("a refused record was stored")
	}
}

func TestZonesAndUpdate(t *testing.T) {
	st := NewStore()
	st.AddZone("b.test")
	st.AddZone("sub.b.test")
	st.AddZone("b.test") // idempotent
	if got := st.Zones(); len(got) != 2 || got[0] != "b.test" || got[1] != "sub.b.test" {
		t.Fatalf("Zones = %v", got)
	}
	if z := st.ZoneOf("x.sub.b.test."); z != "sub.b.test" {
		t.Errorf("ZoneOf picks the closest zone: %q", z)
	}
	r := mustAdd(t, st, Record{Name: "x.sub.b.test", Type: TypeA, Value: "127.0.0.2"})
	r.Value = "127.0.0.3"
	if !st.Update(r) {
		t.Fatal("Update failed")
	}
	if got, _ := st.Get(r.ID); got.Value != "127.0.0.3" {
		t.Errorf("after Update: %+v", got)
	}
	if st.Update(Record{ID: "999", Name: "x.b.test", Type: TypeA, Value: "127.0.0.1"}) {
		t.Error("Update of a missing id succeeded")
	}
	if n := st.DeleteName("X.sub.b.test", ""); n != 1 {
		t.Errorf("DeleteName = %d", n)
	}
	mustAdd(t, st, Record{Name: "y.sub.b.test", Type: TypeTXT, Value: "v"})
	st.RemoveZone("sub.b.test")
	if len(st.Records("")) != 0 {
		t.Errorf("RemoveZone left %v", st.Records(""))
	}
}

func TestConcurrentWritesAndQueries(t *testing.T) {
	st, srv := startServer(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			r := mustAdd(t, st, Record{Name: "_acme-challenge.example.test", Type: TypeTXT, Value: "v"})
			query(t, srv, []string{"udp", "tcp"}[i%2], "_acme-challenge.example.test", mdns.TypeTXT)
			st.Delete(r.ID)
		})
	}
	wg.Wait()
	if n := len(st.Records("example.test")); n != 0 {
		t.Errorf("%d records left", n)
	}
}
