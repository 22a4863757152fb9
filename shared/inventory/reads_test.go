package inventory_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// attaching is a Reader whose listing names no default certificate and
// whose one read of a listener gives everything it holds (ALB's shape):
// listener l<i> on lb-<i> holds default d<i> and additional a<i>.
type attaching struct {
	n    int
	fail string // a listener whose read fails
	mu   sync.Mutex
	sni  int // SNI calls: must stay 0
}

func (a *attaching) Certificates(context.Context, string) ([]clb.ServerCertificate, error) {
	var out []clb.ServerCertificate
	for i := range a.n {
		out = append(out, clb.ServerCertificate{ID: fmt.Sprintf("a%d", i), SANs: []string{fmt.Sprintf("x%d.example.com", i), fmt.Sprintf("y%d.example.com", i)}})
	}
	return out, nil
}

func (a *attaching) Instances(context.Context, string) ([]inventory.Instance, error) {
	var out []inventory.Instance
	for i := range a.n {
		out = append(out, inventory.Instance{ID: fmt.Sprintf("lb-%d", i), Address: fmt.Sprintf("lb-%d.example.net", i)})
	}
	return out, nil
}

func (a *attaching) Listeners(context.Context, string, []string) ([]inventory.TLSListener, error) {
	return nil, fmt.Errorf("Listeners called: the listing must be bare: %w", apierr.ErrInvalid)
}

func (a *attaching) SNI(context.Context, string, inventory.TLSListener) ([]inventory.SNICertificate, error) {
	a.mu.Lock()
	a.sni++
	a.mu.Unlock()
	return nil, nil
}

func (a *attaching) ReadBatch() int { return 0 }

func (a *attaching) BareListeners(_ context.Context, _ string, ids []string) ([]inventory.TLSListener, error) {
	var out []inventory.TLSListener
	for _, id := range ids {
		var i int
		fmt.Sscanf(id, "lb-%d", &i)
		out = append(out, inventory.TLSListener{LoadBalancerID: id, Port: 443, ID: fmt.Sprintf("l%d", i), Protocol: "HTTPS"})
	}
	return out, nil
}

func (a *attaching) ReadListener(_ context.Context, _ string, l inventory.TLSListener, cert func(string) (clb.ServerCertificate, bool)) (inventory.ListenerRead, error) {
	if l.ID == a.fail {
		return inventory.ListenerRead{}, fmt.Errorf("throttled: %w", apierr.ErrTransient)
	}
	var i int
	fmt.Sscanf(l.ID, "l%d", &i)
	def, add := fmt.Sprintf("d%d", i), fmt.Sprintf("a%d", i)
	l.CertificateID = def
	rd := inventory.ListenerRead{Listener: l, Held: []inventory.HeldCertificate{{CertificateID: def, Default: true}, {CertificateID: add, Status: "Associated"}}}
	if c, ok := cert(add); ok {
		for _, d := range c.Domains() {
			rd.SNI = append(rd.SNI, inventory.SNICertificate{ID: l.ID + "|" + d, Domain: d, CertificateID: add})
		}
	}
	return rd, nil
}

// TestListenerReaderReadsEachListenerOnce: a ListenerReader's listeners are
// listed bare and each is read once (no SNI call): the snapshot holds each
// listener's default, what it holds and its SNI places (domains resolved
// in the snapshot's certificates), the handlers see each listener before
// its SNI and ListenersDone last, and the reads are counted and bounded.
func TestListenerReaderReadsEachListenerOnce(t *testing.T) {
	r := &attaching{n: 12}
	coll := inventory.NewCollector(3)
	var mu sync.Mutex
	seen := map[string]string{} // listener -> events
	var order []string
	h := inventory.Handlers{
		Listeners: func(ls []inventory.TLSListener) {
			mu.Lock()
			defer mu.Unlock()
			for _, l := range ls {
				seen[l.ID] += "L" + l.CertificateID
			}
		},
		SNI: func(l inventory.TLSListener, sni []inventory.SNICertificate, err error) {
			mu.Lock()
			defer mu.Unlock()
			seen[l.ID] += fmt.Sprintf("S%d", len(sni))
		},
		Read: func(rd inventory.ListenerRead) {
			mu.Lock()
			seen[rd.Listener.ID] += fmt.Sprintf("R%d", len(rd.Held))
			mu.Unlock()
		},
		ListenersDone: func() { mu.Lock(); order = append(order, fmt.Sprint(len(seen))); mu.Unlock() },
	}
	s := coll.Prefixed("alb.").Collect(context.Background(), r, region, h)
	if !s.Complete() || len(s.Listeners) != 12 || len(s.SNI) != 12 || len(s.Held) != 12 || r.sni != 0 {
		t.Fatalf("complete %v, %d listeners, %d SNI, %d held, %d SNI calls, failures %v", s.Complete(), len(s.Listeners), len(s.SNI), len(s.Held), r.sni, s.Failures)
	}
	want := map[string]int{"alb.Certificates": 1, "alb.Instances": 1, "alb.Listeners": 1, "alb.Listener": 12}
	if fmt.Sprint(coll.Calls()) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", coll.Calls(), want)
	}
	for i, l := range s.Listeners {
		if l.CertificateID == "" || l.Protocol != "HTTPS" || seen[l.ID] != "L"+l.CertificateID+"S2R2" {
			t.Errorf("listener %d %+v: events %q, want its default, then 2 SNI places, then the read", i, l, seen[l.ID])
		}
		if sni := s.SNI[l.Key()]; len(sni) != 2 || sni[0].Domain == "" {
			t.Errorf("listener %s SNI %+v, want one place per domain of its additional certificate", l.ID, sni)
		}
	}
	if fmt.Sprint(order) != "[12]" {
		t.Errorf("ListenersDone after %v listeners, want once after all 12", order)
	}
	if !sort.SliceIsSorted(s.Listeners, func(i, j int) bool { return s.Listeners[i].LoadBalancerID < s.Listeners[j].LoadBalancerID }) {
		t.Errorf("listeners not sorted")
	}
}

// TestListenerReaderWantAndFailure: a listener the handler does not want is
// not read (kept only when its listing named its default: here it does
// not, so the snapshot is partial), and a failed read is a PartSNI
// failure that keeps the listener.
func TestListenerReaderWantAndFailure(t *testing.T) {
	r := &attaching{n: 4, fail: "l2"}
	s := inventory.NewCollector(2).Collect(context.Background(), r, region, inventory.Handlers{
		WantSNI: func(l inventory.TLSListener) bool { return l.ID != "l3" },
	})
	if s.Complete() || !s.Partial || len(s.Listeners) != 3 || len(s.Held) != 2 || len(s.Failures) != 1 {
		t.Fatalf("partial %v, %d listeners, %d read, failures %+v", s.Partial, len(s.Listeners), len(s.Held), s.Failures)
	}
	if f := s.Failures[0]; f.Part != inventory.PartSNI || f.Listener.ID != "l2" {
		t.Errorf("failure %+v, want l2's read", f)
	}
	if _, ok := s.Held[inventory.TLSListener{LoadBalancerID: "lb-3", Port: 443, ID: "l3"}.Key()]; ok {
		t.Errorf("l3 was read although not wanted")
	}
}
