package tlsprobe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, cn string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// serve runs a TLS server on 127.0.0.1 that picks a certificate by SNI.
func serve(t *testing.T, byName map[string]tls.Certificate, def tls.Certificate) int {
	t.Helper()
	cfg := &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if c, ok := byName[h.ServerName]; ok {
			return &c, nil
		}
		return &def, nil
	}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func fp(c tls.Certificate) string {
	s := sha1.Sum(c.Certificate[0])
	return strings.ReplaceAll(fmt.Sprintf("% x", s[:]), " ", ":")
}

func TestProbe(t *testing.T) {
	def := selfSigned(t, "default.example.com")
	sni := selfSigned(t, "a.example.com")
	port := serve(t, map[string]tls.Certificate{"a.example.com": sni}, def)

	// a port with nothing listening
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	// a port that accepts TCP but never speaks TLS
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	silentPort := silent.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name       string
		port       int
		serverName string
		wantReach  bool
		wantFP     string
		wantErr    string
	}{
		{"default certificate without SNI", port, "", true, fp(def), ""},
		{"SNI selects the extension certificate", port, "a.example.com", true, fp(sni), ""},
		{"unknown SNI gets the default", port, "b.example.com", true, fp(def), ""},
		{"connection refused", closedPort, "a.example.com", false, "", "refused"},
		{"handshake timeout", silentPort, "a.example.com", false, "", "timed out"},
		{"invalid port", 0, "", false, "", "no address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Probe(context.Background(), "127.0.0.1", tc.port, tc.serverName, 300*time.Millisecond)
			if got.Reachable != tc.wantReach {
				t.Fatalf("Reachable = %v, want %v (err %q)", got.Reachable, tc.wantReach, got.Err)
			}
			if got.FingerprintSHA1 != tc.wantFP {
				t.Errorf("FingerprintSHA1 = %q, want %q", got.FingerprintSHA1, tc.wantFP)
			}
			if tc.wantReach {
				if got.Leaf == nil || len(got.SHA256) != 64 || strings.Count(got.FingerprintSHA1, ":") != 19 {
					t.Errorf("incomplete result %+v", got)
				}
			} else if !strings.Contains(got.Err, tc.wantErr) {
				t.Errorf("Err = %q, want it to contain %q", got.Err, tc.wantErr)
			}
		})
	}
}

func TestProbeHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := Probe(ctx, "127.0.0.1", 1, "", time.Second)
	if got.Reachable || got.Err == "" {
		t.Fatalf("Probe with cancelled ctx = %+v, want unreachable with a reason", got)
	}
}
