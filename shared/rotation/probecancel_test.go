package rotation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// cancelAtSwitchSLB holds every extension listing until the first switch
// is accepted, then ends the rotation's context and, once a handshake was
// made or a moment passed, answers the listing anyway (a call that
// completed as the invocation's deadline passed). It records which
// listeners' listings answered; its Probe checks that no handshake of a
// listener's default target comes before that (its SNI must avoid the
// extensions' domains).
type cancelAtSwitchSLB struct {
	*clbtest.SLB
	prober   rotation.Prober
	cancel   context.CancelFunc
	once     sync.Once
	switched chan struct{}
	probeOne sync.Once
	probed   chan struct{}

	mu       sync.Mutex
	answered map[int]bool
	early    []string // handshakes before their listener's extensions were listed
}

func (s *cancelAtSwitchSLB) ListDomainExtensions(_ context.Context, region, lbID string, port int) ([]clb.DomainExtension, error) {
	<-s.switched
	s.cancel()
	select {
	case <-s.probed:
	case <-time.After(100 * time.Millisecond):
	}
	exts, err := s.SLB.ListDomainExtensions(context.Background(), region, lbID, port)
	s.mu.Lock()
	s.answered[port] = true
	s.mu.Unlock()
	return exts, err
}

func (s *cancelAtSwitchSLB) SetListenerCertificate(ctx context.Context, region, lbID string, port int, certID string) error {
	err := s.SLB.SetListenerCertificate(ctx, region, lbID, port, certID)
	if err == nil {
		s.once.Do(func() { close(s.switched) })
	}
	return err
}

func (s *cancelAtSwitchSLB) Probe(ctx context.Context, address string, port int, sni string, timeout time.Duration) rotation.ProbeResult {
	s.mu.Lock()
	if !s.answered[port] {
		s.early = append(s.early, fmt.Sprintf("%s:%d %s", address, port, sni))
	}
	s.mu.Unlock()
	s.probeOne.Do(func() { close(s.probed) })
	return s.prober.Probe(ctx, address, port, sni, timeout)
}

// TestNoHandshakeWithoutFactsAfterCancel: listener default targets are
// switched while their listeners' extension listings still run; the
// context ends before those listings answer. A default target's handshake
// needs its listener's extension domains (its SNI must not be an
// extension's), so none is made before they are known, and the listings'
// late answers do not race with a handshake reading them (go test -race);
// the rotation ends with the context's error.
func TestNoHandshakeWithoutFactsAfterCancel(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &cancelAtSwitchSLB{SLB: w.slb, prober: w.prober, cancel: cancel, switched: make(chan struct{}),
		probed: make(chan struct{}), answered: map[int]bool{}}
	w.r.SLB, w.r.Prober = s, s
	old := w.seedCert(t, zjk, oldName("www"), issue(t, "www.example.com"), true)
	w.lb(zjk, "lb-1", "127.0.0.2")
	const listeners = 8
	for i := range listeners {
		w.listener(zjk, "lb-1", 443+i, old)
		w.slb.AddExtension(clb.DomainExtension{ID: fmt.Sprintf("de-%d", i), Region: zjk, LoadBalancerID: "lb-1", ListenerPort: 443 + i,
			Domain: "api.example.com", ServerCertificateID: old})
	}
	w.putPair("www", issue(t, "www.example.com"))

	_, err := w.r.Rotate(ctx, w.now, rotation.Request{Bucket: bucket, Key: "certs/www/fullchain.pem"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v; want the context's", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.early) > 0 {
		t.Errorf("handshakes %q made before their listeners' extensions were listed", s.early)
	}
}
