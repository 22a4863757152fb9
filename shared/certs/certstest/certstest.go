// Package certstest makes X.509 test certificates and keys for the tests of
// every package of the product (and for the demo, which needs certificates
// at run time): a CA with optional intermediates, leaf pairs with the key
// type, encoding and validity each test needs, and self-signed pairs.
//
// RSA keys come from a pool of pre-generated test keys shipped in keys/
// (64 RSA 2048, 2 RSA 1024, 2 RSA 4096; RSA generation is slow, especially
// under -race): every call still gets a key of its own, and once the pool
// is used up fresh keys are generated (about 0.1 s each for 2048 bits, far
// more for 4096). Tests that need many certificates but not many keys can
// pass the same Options.Key.
// These keys are test material only and must never protect anything real.
//
// Every function that takes a testing.TB accepts nil: it then panics on
// failure instead of calling t.Fatal, so non-test code (the demo) can use
// it. The *Err variants return errors instead.
package certstest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"embed"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
)

// Key types understood by Options.KeyType.
const (
	RSA2048 = "rsa2048"
	RSA1024 = "rsa1024"
	RSA4096 = "rsa4096"
	ECDSA   = "ecdsa" // P-256
	Ed25519 = "ed25519"
)

// DefaultDomain is the SAN used when Options.Domains is empty.
const DefaultDomain = "www.example.com"

// Options describe a certificate to issue. The zero value gives an RSA 2048
// leaf for www.example.com valid from an hour ago for 90 days, key in
// PKCS#1, without intermediates.
type Options struct {
	// Domains are the SAN DNS names (default DefaultDomain).
	Domains []string
	// CommonName defaults to Domains[0].
	CommonName string
	// NoSANs leaves the SAN extension out (the name is only in the CN).
	NoSANs bool
	// NotBefore defaults to one hour before now; NotAfter defaults to
	// NotBefore plus 90 days.
	NotBefore, NotAfter time.Time
	// KeyType is one of RSA2048 (default), RSA1024, RSA4096, ECDSA, Ed25519.
	KeyType string
	// PKCS8 encodes the key as "PRIVATE KEY" (PKCS#8) instead of PKCS#1
	// "RSA PRIVATE KEY" (or SEC1 "EC PRIVATE KEY"). Ed25519 is always PKCS#8.
	PKCS8 bool
	// Chain appends the issuing intermediates to CertPEM, leaf first (the
	// self-signed root is never appended).
	Chain bool
	// Key, when set, is used instead of a new key (KeyType is then ignored).
	Key crypto.Signer
}

// Pair is an issued certificate with its key.
type Pair struct {
	// CertPEM is the leaf, followed by the intermediates when Options.Chain.
	CertPEM []byte
	// KeyPEM is the private key (test material).
	KeyPEM []byte
	// Leaf is the parsed leaf certificate.
	Leaf *x509.Certificate
	// Intermediates are the CA certificates between the leaf and the root,
	// nearest first (whether or not they were appended to CertPEM).
	Intermediates []*x509.Certificate
	// Key is the leaf's private key.
	Key crypto.Signer
	// FingerprintSHA1 is the SHA-1 of the leaf's DER in lower-case colon
	// hex, as SLB shows it.
	FingerprintSHA1 string
	// SHA256 is the SHA-256 of the leaf's DER in lower-case hex.
	SHA256 string
}

// Bundle returns the certificate chain followed by the key, as one file.
func (p Pair) Bundle() []byte {
	out := append([]byte{}, p.CertPEM...)
	return append(out, p.KeyPEM...)
}

// CA is a certificate authority: a self-signed root or an intermediate.
type CA struct {
	// Name is the CA's common name.
	Name string
	// Cert is the CA certificate and CertPEM its PEM encoding.
	Cert    *x509.Certificate
	CertPEM []byte
	// Key signs what the CA issues.
	Key crypto.Signer
	// Parent is the issuing CA; nil for a root.
	Parent *CA
}

// CA validity is fixed and wide so tests with any fixed "now" between 2001
// and 2099 see valid CAs.
var (
	caNotBefore = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	caNotAfter  = time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC)
)

// NewCA returns a new self-signed RSA 2048 root CA called name.
func NewCA(t testing.TB, name string) *CA {
	helper(t)
	ca, err := NewCAErr(name)
	check(t, err)
	return ca
}

// NewCAErr is NewCA returning an error.
func NewCAErr(name string) (*CA, error) {
	return newCA(nil, name)
}

// Intermediate returns a new intermediate CA called name, issued by ca.
func (ca *CA) Intermediate(t testing.TB, name string) *CA {
	helper(t)
	sub, err := ca.IntermediateErr(name)
	check(t, err)
	return sub
}

// IntermediateErr is Intermediate returning an error.
func (ca *CA) IntermediateErr(name string) (*CA, error) {
	return newCA(ca, name)
}

func newCA(parent *CA, name string) (*CA, error) {
	key, err := NewKeyErr(RSA2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"certstest"}},
		NotBefore:             caNotBefore,
		NotAfter:              caNotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	issuerCert, issuerKey := tmpl, key
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuerCert, key.Public(), issuerKey)
	if err != nil {
		return nil, fmt.Errorf("certstest: create CA %q: %w", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certstest: parse CA %q: %w", name, err)
	}
	return &CA{Name: name, Cert: cert, CertPEM: encodeCert(der), Key: key, Parent: parent}, nil
}

// Chain returns ca and its ancestors nearest first, without the
// self-signed root: the intermediates a leaf issued by ca needs.
func (ca *CA) Chain() []*CA {
	var out []*CA
	for c := ca; c != nil && c.Parent != nil; c = c.Parent {
		out = append(out, c)
	}
	return out
}

// Root returns the self-signed root above ca (ca itself for a root).
func (ca *CA) Root() *CA {
	c := ca
	for c.Parent != nil {
		c = c.Parent
	}
	return c
}

// Pool returns a cert pool holding the root, for x509 verification.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root().Cert)
	return p
}

// Issue returns a leaf certificate issued by ca.
func (ca *CA) Issue(t testing.TB, o Options) Pair {
	helper(t)
	p, err := ca.IssueErr(o)
	check(t, err)
	return p
}

// MustIssue is Issue for non-test code: it panics on failure.
func (ca *CA) MustIssue(o Options) Pair { return ca.Issue(nil, o) }

// IssueErr is Issue returning an error.
func (ca *CA) IssueErr(o Options) (Pair, error) {
	return issue(ca, o)
}

// SelfSigned returns a self-signed leaf (not a CA).
func SelfSigned(t testing.TB, o Options) Pair {
	helper(t)
	p, err := SelfSignedErr(o)
	check(t, err)
	return p
}

// MustSelfSigned is SelfSigned for non-test code: it panics on failure.
func MustSelfSigned(o Options) Pair { return SelfSigned(nil, o) }

// SelfSignedErr is SelfSigned returning an error.
func SelfSignedErr(o Options) (Pair, error) {
	return issue(nil, o)
}

func issue(ca *CA, o Options) (Pair, error) {
	domains := o.Domains
	if len(domains) == 0 {
		domains = []string{DefaultDomain}
	}
	cn := o.CommonName
	if cn == "" {
		cn = domains[0]
	}
	notBefore := o.NotBefore
	if notBefore.IsZero() {
		notBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	notAfter := o.NotAfter
	if notAfter.IsZero() {
		notAfter = notBefore.Add(90 * 24 * time.Hour)
	}
	key := o.Key
	if key == nil {
		var err error
		if key, err = NewKeyErr(o.KeyType); err != nil {
			return Pair{}, err
		}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if _, ok := key.(*rsa.PrivateKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if !o.NoSANs {
		tmpl.DNSNames = append([]string(nil), domains...)
	}
	parentCert, parentKey := tmpl, key
	if ca != nil {
		parentCert, parentKey = ca.Cert, ca.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), parentKey)
	if err != nil {
		return Pair{}, fmt.Errorf("certstest: create leaf %q: %w", cn, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return Pair{}, fmt.Errorf("certstest: parse leaf %q: %w", cn, err)
	}
	keyPEM, err := EncodeKey(key, o.PKCS8)
	if err != nil {
		return Pair{}, err
	}
	var certPEM bytes.Buffer
	certPEM.Write(encodeCert(der))
	var inter []*x509.Certificate
	if ca != nil {
		for _, c := range ca.Chain() {
			inter = append(inter, c.Cert)
			if o.Chain {
				certPEM.Write(c.CertPEM)
			}
		}
	}
	return Pair{
		CertPEM:         certPEM.Bytes(),
		KeyPEM:          keyPEM,
		Leaf:            leaf,
		Intermediates:   inter,
		Key:             key,
		FingerprintSHA1: FingerprintSHA1(der),
		SHA256:          SHA256(der),
	}, nil
}

// EncodeKey returns key as PEM: PKCS#8 "PRIVATE KEY" when pkcs8 (always for
// Ed25519), otherwise PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY".
func EncodeKey(key crypto.Signer, pkcs8 bool) ([]byte, error) {
	var block *pem.Block
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if !pkcs8 {
			block = &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
		}
	case *ecdsa.PrivateKey:
		if !pkcs8 {
			der, err := x509.MarshalECPrivateKey(k)
			if err != nil {
				return nil, fmt.Errorf("certstest: encode EC key: %w", err)
			}
			block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
		}
	}
	if block == nil {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("certstest: encode key: %w", err)
		}
		block = &pem.Block{Type: "PRIVATE KEY", Bytes: der}
	}
	return pem.EncodeToMemory(block), nil
}

// NewKey returns a private key of keyType ("" means RSA2048) that no other
// call of this process has returned.
func NewKey(t testing.TB, keyType string) crypto.Signer {
	helper(t)
	k, err := NewKeyErr(keyType)
	check(t, err)
	return k
}

// NewKeyErr is NewKey returning an error.
func NewKeyErr(keyType string) (crypto.Signer, error) {
	switch keyType {
	case "", RSA2048:
		return rsaKey(2048)
	case RSA1024:
		return rsaKey(1024)
	case RSA4096:
		return rsaKey(4096)
	case ECDSA:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("certstest: generate ECDSA key: %w", err)
		}
		return k, nil
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("certstest: generate Ed25519 key: %w", err)
		}
		return k, nil
	}
	return nil, fmt.Errorf("certstest: unknown key type %q (want %s, %s, %s, %s or %s)",
		keyType, RSA2048, RSA1024, RSA4096, ECDSA, Ed25519)
}

//go:embed keys/*.pem
var keyFiles embed.FS

type rsaPool struct {
	once sync.Once
	keys []*rsa.PrivateKey
	err  error
	next int
}

var (
	poolMu sync.Mutex
	pools  = map[int]*rsaPool{2048: {}, 1024: {}, 4096: {}}
)

// rsaKey hands out the next unused pooled key of that size, or a freshly
// generated one when the pool is used up.
func rsaKey(bits int) (*rsa.PrivateKey, error) {
	p := pools[bits]
	p.once.Do(func() { p.keys, p.err = loadPool(bits) })
	if p.err != nil {
		return nil, p.err
	}
	poolMu.Lock()
	if p.next < len(p.keys) {
		k := p.keys[p.next]
		p.next++
		poolMu.Unlock()
		return k, nil
	}
	poolMu.Unlock()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("certstest: generate RSA %d key: %w", bits, err)
	}
	return k, nil
}

func loadPool(bits int) ([]*rsa.PrivateKey, error) {
	data, err := keyFiles.ReadFile(fmt.Sprintf("keys/rsa%d.pem", bits))
	if err != nil {
		return nil, fmt.Errorf("certstest: read key pool: %w", err)
	}
	var keys []*rsa.PrivateKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certstest: parse pooled RSA %d key: %w", bits, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok || rk.N.BitLen() != bits {
			return nil, errors.New("certstest: pooled key of the wrong type or size")
		}
		keys = append(keys, rk)
	}
	return keys, nil
}

// FingerprintSHA1 returns the SHA-1 of der as lower-case colon hex.
func FingerprintSHA1(der []byte) string {
	sum := sha1.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = hex.EncodeToString([]byte{b})
	}
	return strings.Join(parts, ":")
}

// SHA256 returns the SHA-256 of der as lower-case hex.
func SHA256(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// EncodeCert returns the PEM encoding of a certificate's DER.
func EncodeCert(der []byte) []byte { return encodeCert(der) }

func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

var serialLimit = new(big.Int).Lsh(big.NewInt(1), 127)

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, serialLimit)
	if err != nil {
		panic("certstest: random serial: " + err.Error())
	}
	return n.Add(n, big.NewInt(1))
}

func helper(t testing.TB) {
	if t != nil {
		t.Helper()
	}
}

func check(t testing.TB, err error) {
	if err == nil {
		return
	}
	if t == nil {
		panic(err)
	}
	t.Helper()
	t.Fatal(err)
}
