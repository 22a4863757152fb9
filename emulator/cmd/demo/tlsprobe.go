package main

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// served is what a TLS handshake showed.
type served struct {
	Subject     string
	DNSNames    []string
	Fingerprint string // SHA-1, colon separated lower-case hex (as SLB shows it)
	NotAfter    time.Time
}

// handshake connects to addr:port with SNI serverName and reads the leaf
// (the chain is not verified: the demo's certificates are self-made).
func handshake(ctx context.Context, addr string, port int, serverName string) (served, error) {
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: 3 * time.Second},
		Config:    &tls.Config{ServerName: serverName, InsecureSkipVerify: true}, //nolint:gosec // reads what is served
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		return served{}, fmt.Errorf("tls: handshake %s:%d: %w", addr, port, err)
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	if len(state.PeerCertificates) == 0 {
		return served{}, fmt.Errorf("tls: %s:%d served no certificate", addr, port)
	}
	return describe(state.PeerCertificates[0]), nil
}

func describe(c *x509.Certificate) served {
	return served{Subject: c.Subject.String(), DNSNames: c.DNSNames, Fingerprint: fingerprint(c.Raw), NotAfter: c.NotAfter}
}

func fingerprint(der []byte) string {
	sum := sha1.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}
