package rotationtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// The fake SLB is what the rotation's SLB port reads.
var _ rotation.SLB = (*clbtest.SLB)(nil)

// Prober answers handshakes from the fake SLB's state: the extension whose
// domain matches the SNI, else the listener's default certificate.
type Prober struct {
	SLB *clbtest.SLB
	mu  sync.Mutex
	// Stale maps "address:port" to a fingerprint served whatever the API
	// says (a frontend that did not pick up the change).
	Stale map[string]string
	// Unreachable addresses time out.
	Unreachable map[string]bool
	probes      []string
}

// Probes returns "address:port sni" for every probe made.
func (p *Prober) Probes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.probes...)
}

// Probe implements rotation.Prober.
func (p *Prober) Probe(_ context.Context, address string, port int, serverName string, _ time.Duration) rotation.ProbeResult {
	p.mu.Lock()
	p.probes = append(p.probes, fmt.Sprintf("%s:%d %s", address, port, serverName))
	stale, isStale := p.Stale[fmt.Sprintf("%s:%d", address, port)]
	unreachable := p.Unreachable[address]
	p.mu.Unlock()
	if unreachable {
		return rotation.ProbeResult{Err: "timeout"}
	}
	if isStale {
		return rotation.ProbeResult{Reachable: true, FingerprintSHA1: stale}
	}
	fp, listening := p.SLB.Serving(address, port, serverName)
	switch {
	case !listening:
		return rotation.ProbeResult{Err: "connection refused"}
	case fp == "":
		return rotation.ProbeResult{Reachable: true, Err: "no certificate"}
	}
	return rotation.ProbeResult{Reachable: true, FingerprintSHA1: fp}
}
