// Package loopback hands out the 127.0.0.x addresses the local cloud's load
// balancers (CLB, ALB, NLB) serve their live TLS listeners on. Every
// emulator in one process draws from the same Default pool unless it is
// given a base of its own, so two load balancers never share an address.
package loopback

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"syscall"
)

// ClaimPort is bound on every address handed out with claim set, as a
// marker other processes respect: two test binaries running in parallel
// (go test ./...) then never give the same 127.0.0.x to their load
// balancers, so their listeners on :443 cannot collide.
const ClaimPort = "1"

// Pool hands out loopback addresses. It is safe for concurrent use.
type Pool struct {
	mu   sync.Mutex
	next uint32
	used map[string]bool
}

// Default is the process-wide pool, starting at 127.0.0.2.
var Default = &Pool{next: 127<<24 | 2, used: map[string]bool{}}

// NewPool returns a pool counting up from base, which must be an IPv4
// loopback address.
func NewPool(base net.IP) (*Pool, error) {
	b4 := base.To4()
	if b4 == nil || b4[0] != 127 {
		return nil, fmt.Errorf("loopback: address base %v is not an IPv4 loopback address", base)
	}
	return &Pool{next: uint32(b4[0])<<24 | uint32(b4[1])<<16 | uint32(b4[2])<<8 | uint32(b4[3]), used: map[string]bool{}}, nil
}

// Alloc returns the next free address. With claim set it also binds the
// marker socket (returned; nil when binding is not permitted) and skips
// addresses another process has claimed.
func (p *Pool) Alloc(claim bool) (string, net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for tries := 0; ; tries++ {
		n := p.next
		p.next++
		if p.next>>24 != 127 {
			p.next = 127<<24 | 2
		}
		ip := net.IPv4(byte(n>>24), byte(n>>16), byte(n>>8), byte(n)).String()
		if last := byte(n); last == 0 || last == 255 || last == 1 && n>>8 == 127<<16 || p.used[ip] {
			continue
		}
		var marker net.Listener
		if claim && tries < 4096 {
			ln, err := net.Listen("tcp", net.JoinHostPort(ip, ClaimPort))
			if errors.Is(err, syscall.EADDRINUSE) {
				continue // another process owns this address
			}
			if err == nil {
				marker = ln
			}
		}
		p.used[ip] = true
		return ip, marker
	}
}

// Release returns ip to the pool and closes its marker (if any).
func (p *Pool) Release(ip string, marker net.Listener) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, ip)
	if marker != nil {
		_ = marker.Close()
	}
}

// RandomBase returns a random base 127.a.b.2 (tests that run in parallel
// processes use it so their frontends never collide).
func RandomBase() net.IP {
	n := rand.Uint32()
	return net.IPv4(127, byte(1+n%254), byte(n>>8), 2)
}
