// Package tlsprobe performs one TLS handshake against an address and reports
// which certificate is served there. It never verifies the chain (it reads
// what is served), so it works against self-made certificates, and it never
// fails the caller: an unreachable address is a Result with Reachable false
// and the reason.
package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
)

// DefaultTimeout applies when Probe is given no timeout: PROBE_TIMEOUT's
// default (package config holds every default).
const DefaultTimeout = config.DefaultProbeTimeout

// Result is what one handshake saw.
type Result struct {
	// Reachable is true when the TLS handshake completed.
	Reachable bool
	// FingerprintSHA1 is the served leaf's SHA-1 as SLB shows fingerprints:
	// lower-case hex pairs joined by colons.
	FingerprintSHA1 string
	// SHA256 is the served leaf's SHA-256, lower-case hex without colons.
	SHA256 string
	// Leaf is the served leaf certificate.
	Leaf *x509.Certificate
	// Err says why the probe failed (dial error, timeout, handshake error).
	Err string
}

// Probe dials address:port within timeout (and the ctx deadline), sends
// serverName as SNI (when not empty) and returns the served leaf's
// fingerprints.
func Probe(ctx context.Context, address string, port int, serverName string, timeout time.Duration) Result {
	return Prober{}.Probe(ctx, address, port, serverName, timeout)
}

// Prober probes like Probe, resolving a host name (an ALB or NLB DNS name)
// through Resolver when it is set.
type Prober struct {
	// Resolver is the DNS server ("host:port", UDP then TCP) asked for
	// names; "" = the system resolver. Addresses that are IPs are not
	// resolved.
	Resolver string
}

// Probe handshakes with address:port; see the package function Probe.
func (p Prober) Probe(ctx context.Context, address string, port int, serverName string, timeout time.Duration) Result {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if address == "" || port <= 0 || port > 65535 {
		return Result{Err: "no address or port to probe"}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	target := net.JoinHostPort(address, strconv.Itoa(port))
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: timeout, Resolver: p.resolver()},
		Config: &tls.Config{
			ServerName: serverName,
			// The probe reads what is served; trust is not its question.
			InsecureSkipVerify: true, //nolint:gosec // deliberate: fingerprint comparison only
			MinVersion:         tls.VersionTLS10,
		},
	}
	conn, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return Result{Err: describe(target, err)}
	}
	defer conn.Close()
	tc, ok := conn.(*tls.Conn)
	if !ok {
		return Result{Err: target + ": not a TLS connection"}
	}
	peer := tc.ConnectionState().PeerCertificates
	if len(peer) == 0 {
		return Result{Err: target + ": no certificate served"}
	}
	leaf := peer[0]
	return Result{
		Reachable:       true,
		FingerprintSHA1: certs.FingerprintSHA1(leaf.Raw),
		SHA256:          certs.SHA256(leaf.Raw),
		Leaf:            leaf,
	}
}

func describe(target string, err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return target + ": timed out"
	case errors.Is(err, context.Canceled):
		return target + ": canceled"
	}
	return target + ": " + err.Error()
}

// resolver returns nil (the system resolver) or one that asks p.Resolver.
func (p Prober) resolver() *net.Resolver {
	if p.Resolver == "" {
		return nil
	}
	server := p.Resolver
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
}
