package provisioning

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// Pair is a validated, normalised certificate pair from the bucket, as the
// rotation loads it. KeyPEM is secret: Pair's String, LogValue and
// MarshalJSON never show it.
type Pair struct {
	// Name is the pair's name in the bucket (certs/<name>/).
	Name string
	// CertificateName is the server certificate name to upload under
	// (certs.CertificateName); empty = <name>-<notAfter yyyymmdd>-<fp8>.
	CertificateName string
	// CertPEM is the normalised chain, leaf first.
	CertPEM string
	// KeyPEM is the PKCS#1 private key.
	KeyPEM string
}

// String shows the pair without its key.
func (p Pair) String() string { return "pair " + p.Name + " (key redacted)" }

// GoString shows the pair without its key (%#v).
func (p Pair) GoString() string { return p.String() }

// LogValue shows the pair without its key.
func (p Pair) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("key", "[redacted]"))
}

// MarshalJSON shows the pair without its key.
func (p Pair) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}{p.Name, "[redacted]"})
}

// PairLoader loads and validates a pair by name exactly as the rotation
// does (pairs.Load). Errors that retrying cannot fix (missing pair,
// bad PEM, key mismatch, expiring) must answer apierr.Permanent.
type PairLoader interface {
	LoadPair(ctx context.Context, name string, now time.Time) (Pair, error)
}

// leaf is what provisioning needs to know about a pair's certificate.
type leaf struct {
	pair        Pair
	fingerprint string // SLB form: lower-case hex pairs separated by colons
	name        string
}

func inspect(p Pair) (leaf, error) {
	block, _ := pem.Decode([]byte(p.CertPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return leaf{}, fmt.Errorf("provisioning: pair %s: no certificate in the chain: %w", p.Name, apierr.ErrInvalid)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return leaf{}, fmt.Errorf("provisioning: pair %s: parse leaf: %v: %w", p.Name, err, apierr.ErrInvalid)
	}
	l := leaf{pair: p, fingerprint: certs.FingerprintSHA1(cert.Raw), name: p.CertificateName}
	if l.name == "" {
		l.name = certs.CertificateName(p.Name, cert.NotAfter, l.fingerprint)
	}
	return l, nil
}

func pairNames(d Desired) []string {
	set := map[string]bool{}
	for _, l := range d.Listeners {
		set[l.Certificate] = true
		for _, e := range l.DomainExtensions {
			set[e.Certificate] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
