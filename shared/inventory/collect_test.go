package inventory_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

const region = "cn-hangzhou"

// fleet seeds n load balancers with one HTTPS listener each (and lb-000's
// with one extension) in the one fake SLB, which refuses a listener
// listing of more than 10 load balancers.
func fleet(n int) *clbtest.SLB {
	s := &clbtest.SLB{MaxListenerIDs: 10}
	s.AddCertificate(clb.ServerCertificate{ID: "c1", Region: region})
	for i := range n {
		id := fmt.Sprintf("lb-%03d", i)
		s.AddLoadBalancer(clb.LoadBalancer{ID: id, Region: region, Address: "127.0.0.1"})
		s.AddListener(clb.Listener{Region: region, LoadBalancerID: id, Port: 443, ServerCertificateID: "c1"})
	}
	s.AddExtension(clb.DomainExtension{Region: region, LoadBalancerID: "lb-000", ListenerPort: 443, Domain: "a.example.com", ServerCertificateID: "c1"})
	return s
}

// slow delays every read and records the most reads in flight.
type slow struct {
	inventory.CLBAPI
	mu            sync.Mutex
	inFlight, max int
}

func (s *slow) enter() func() {
	s.mu.Lock()
	s.inFlight++
	s.max = max(s.max, s.inFlight)
	s.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	return func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }
}

func (s *slow) ListHTTPSListeners(ctx context.Context, region string, ids []string) ([]clb.Listener, error) {
	defer s.enter()()
	return s.CLBAPI.ListHTTPSListeners(ctx, region, ids)
}

func (s *slow) ListDomainExtensions(ctx context.Context, region, lb string, port int) ([]clb.DomainExtension, error) {
	defer s.enter()()
	return s.CLBAPI.ListDomainExtensions(ctx, region, lb, port)
}

// TestCollectBatchesBoundsAndStreams: listeners are listed in the reader's
// batches, every call is counted and at most Limit run at once, each batch
// reaches the handler before ListenersDone, and every SNI listing after.
func TestCollectBatchesBoundsAndStreams(t *testing.T) {
	fake := fleet(35)
	api := &slow{CLBAPI: fake}
	coll := inventory.NewCollector(3)
	var mu sync.Mutex
	var events []string
	h := inventory.Handlers{
		Listeners: func(ls []inventory.TLSListener) {
			mu.Lock()
			events = append(events, fmt.Sprintf("batch %d", len(ls)))
			mu.Unlock()
		},
		ListenersDone: func() { mu.Lock(); events = append(events, "done"); mu.Unlock() },
		SNI: func(l inventory.TLSListener, sni []inventory.SNICertificate, err error) {
			mu.Lock()
			events = append(events, fmt.Sprintf("sni %s %d %v", l.LoadBalancerID, len(sni), err))
			mu.Unlock()
		},
	}
	s := coll.Collect(context.Background(), inventory.CLB{API: api}, region, h)
	if !s.Complete() || len(s.Listeners) != 35 || len(s.SNI) != 35 || len(s.Certificates) != 1 || len(s.Instances) != 35 {
		t.Fatalf("snapshot: complete %v, %d listeners, %d SNI listings, failures %v", s.Complete(), len(s.Listeners), len(s.SNI), s.Failures)
	}
	want := map[string]int{inventory.CallCertificates: 1, inventory.CallInstances: 1, inventory.CallListeners: 4, inventory.CallSNI: 35}
	if fmt.Sprint(coll.Calls()) != fmt.Sprint(want) {
		t.Errorf("calls %v, want %v", coll.Calls(), want)
	}
	if api.max > 3 || api.max < 2 {
		t.Errorf("at most %d reads in flight, want 2 or 3 (the bound is 3)", api.max)
	}
	if len(events) != 4+1+35 || events[4] != "done" || !strings.HasPrefix(events[5], "sni ") {
		t.Errorf("events %v: want 4 batches, done, then 35 SNI listings", events)
	}
	if sni, ok := s.SNI[s.Listeners[0].Key()]; !ok || len(sni) != 1 || sni[0].Domain != "a.example.com" {
		t.Errorf("lb-000's SNI %v %v", sni, ok)
	}
}

// TestCollectRecordsFailuresAndCutShort: a failed batch and a failed SNI
// listing are recorded and the rest goes on; listings the context ended
// before are counted, not made.
func TestCollectRecordsFailuresAndCutShort(t *testing.T) {
	fake := fleet(25)
	fake.FailCall = func(action, _, detail string) error {
		switch {
		case action == "DescribeLoadBalancerListeners" && strings.Contains(detail, "lb-020"):
			return fmt.Errorf("throttled: %w", apierr.ErrTransient)
		case action == "DescribeDomainExtensions" && detail == "lb-003:443":
			return fmt.Errorf("throttled: %w", apierr.ErrTransient)
		}
		return nil
	}
	s := inventory.NewCollector(2).Collect(context.Background(), inventory.CLB{API: fake}, region, inventory.Handlers{})
	if s.Complete() || s.Failed() || len(s.Listeners) != 20 || len(s.SNI) != 19 || len(s.Failures) != 2 {
		t.Fatalf("listeners %d, SNI %d, failures %+v", len(s.Listeners), len(s.SNI), s.Failures)
	}
	if f := s.Failures[0]; f.Part != inventory.PartListeners || len(f.LoadBalancerIDs) != 5 {
		t.Errorf("first failure %+v, want the batch of lb-020..lb-024", f)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	fake.FailCall = func(action, _, _ string) error {
		if action == "DescribeDomainExtensions" {
			if n++; n == 5 {
				cancel()
			}
		}
		return nil
	}
	s = inventory.NewCollector(1).Collect(ctx, inventory.CLB{API: fake}, region, inventory.Handlers{})
	if s.UnlistedSNI != 20 || len(s.SNI) != 5 || s.Complete() {
		t.Errorf("cut short: %d SNI listings, %d unlisted; want 5 and 20", len(s.SNI), s.UnlistedSNI)
	}
}
