// Package lbcerttest holds what the ALB and NLB emulator tests share: a
// fake clock, CAS certificates made to order, the service error code of an
// SDK error, and a TLS handshake that reports what a frontend served.
package lbcerttest

import (
	"crypto/sha1"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// Clock is a fake clock tests advance by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at the wall clock's now.
func NewClock() *Clock { return &Clock{t: time.Now()} }

// Now returns the current fake time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Cert uploads a new ECDSA certificate for domains to cs (as a request in
// region would) and returns its identity and the SHA-1 of its leaf.
func Cert(t testing.TB, cs *cas.Server, region, name string, domains ...string) (identity, sha1hex string) {
	t.Helper()
	p := certstest.SelfSigned(t, certstest.Options{Domains: domains, KeyType: certstest.ECDSA})
	id, err := cs.Seed(region, name, string(p.CertPEM), string(p.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(p.Leaf.Raw)
	return id, fmt.Sprintf("%x", sum)
}

// Code returns the service error code of err ("" for nil, "!other: …" for
// an error that is not the service's).
func Code(err error) string {
	if err == nil {
		return ""
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return "!other: " + err.Error()
}

// WantCode fails t unless err carries the service error code want.
func WantCode(t testing.TB, err error, want string) {
	t.Helper()
	if got := Code(err); got != want {
		t.Fatalf("code %q, want %q", got, want)
	}
}

// Must fails t on err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// Served handshakes with addr ("host:port") using SNI and returns the SHA-1
// of the leaf served.
func Served(t testing.TB, addr, sni string) string {
	t.Helper()
	d := &net.Dialer{Timeout: 3 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: sni})
	if err != nil {
		t.Fatalf("handshake %s (%s): %v", addr, sni, err)
	}
	defer conn.Close()
	sum := sha1.Sum(conn.ConnectionState().PeerCertificates[0].Raw)
	return fmt.Sprintf("%x", sum)
}
