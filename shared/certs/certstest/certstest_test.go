package certstest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"testing"
	"time"
)

func blocks(t *testing.T, data []byte) []*pem.Block {
	t.Helper()
	var out []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		out = append(out, b)
	}
	if len(bytes.TrimSpace(data)) != 0 {
		t.Fatalf("trailing non-PEM data: %q", data)
	}
	return out
}

func TestIssueChainVerifiesAndMatchesKey(t *testing.T) {
	root := NewCA(t, "Test Root")
	inter := root.Intermediate(t, "Test Intermediate")
	nb := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := inter.Issue(t, Options{Domains: []string{"a.example.com", "*.b.example.com"}, NotBefore: nb, NotAfter: nb.AddDate(0, 0, 30), Chain: true})

	bs := blocks(t, p.CertPEM)
	if len(bs) != 2 {
		t.Fatalf("CertPEM has %d blocks, want leaf + intermediate", len(bs))
	}
	if !bytes.Equal(bs[0].Bytes, p.Leaf.Raw) || !bytes.Equal(bs[1].Bytes, inter.Cert.Raw) {
		t.Fatal("CertPEM is not leaf first then intermediate")
	}
	if len(p.Intermediates) != 1 || p.Intermediates[0] != inter.Cert {
		t.Fatalf("Intermediates = %v", p.Intermediates)
	}
	pool := x509.NewCertPool()
	pool.AddCert(inter.Cert)
	if _, err := p.Leaf.Verify(x509.VerifyOptions{Roots: root.Pool(), Intermediates: pool, DNSName: "x.b.example.com", CurrentTime: nb.Add(time.Hour)}); err != nil {
		t.Fatalf("leaf does not verify: %v", err)
	}
	if _, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM); err != nil {
		t.Fatalf("key does not match: %v", err)
	}
	if !p.Leaf.NotBefore.Equal(nb) || !p.Leaf.NotAfter.Equal(nb.AddDate(0, 0, 30)) {
		t.Fatalf("validity %v..%v", p.Leaf.NotBefore, p.Leaf.NotAfter)
	}
	if !regexp.MustCompile(`^([0-9a-f]{2}:){19}[0-9a-f]{2}$`).MatchString(p.FingerprintSHA1) {
		t.Fatalf("fingerprint %q is not colon hex", p.FingerprintSHA1)
	}
	if p.FingerprintSHA1 != FingerprintSHA1(p.Leaf.Raw) || len(p.SHA256) != 64 {
		t.Fatalf("fingerprints %q %q", p.FingerprintSHA1, p.SHA256)
	}
	if p.Leaf.Subject.CommonName != "a.example.com" {
		t.Fatalf("CN %q", p.Leaf.Subject.CommonName)
	}
}

func TestKeyTypesAndEncodings(t *testing.T) {
	ca := NewCA(t, "Root")
	tests := []struct {
		name     string
		o        Options
		pemType  string
		checkKey func(any) bool
	}{
		{"default rsa2048 pkcs1", Options{}, "RSA PRIVATE KEY", func(k any) bool { r, ok := k.(*rsa.PrivateKey); return ok && r.N.BitLen() == 2048 }},
		{"rsa2048 pkcs8", Options{PKCS8: true}, "PRIVATE KEY", func(k any) bool { r, ok := k.(*rsa.PrivateKey); return ok && r.N.BitLen() == 2048 }},
		{"rsa1024", Options{KeyType: RSA1024}, "RSA PRIVATE KEY", func(k any) bool { r, ok := k.(*rsa.PrivateKey); return ok && r.N.BitLen() == 1024 }},
		{"rsa4096", Options{KeyType: RSA4096}, "RSA PRIVATE KEY", func(k any) bool { r, ok := k.(*rsa.PrivateKey); return ok && r.N.BitLen() == 4096 }},
		{"ecdsa sec1", Options{KeyType: ECDSA}, "EC PRIVATE KEY", func(k any) bool { _, ok := k.(*ecdsa.PrivateKey); return ok }},
		{"ecdsa pkcs8", Options{KeyType: ECDSA, PKCS8: true}, "PRIVATE KEY", func(k any) bool { _, ok := k.(*ecdsa.PrivateKey); return ok }},
		{"ed25519", Options{KeyType: Ed25519}, "PRIVATE KEY", func(k any) bool { _, ok := k.(ed25519.PrivateKey); return ok }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ca.Issue(t, tc.o)
			bs := blocks(t, p.KeyPEM)
			if len(bs) != 1 || bs[0].Type != tc.pemType {
				t.Fatalf("key PEM type %q, want %q", bs[0].Type, tc.pemType)
			}
			if !tc.checkKey(p.Key) {
				t.Fatalf("key is %T", p.Key)
			}
			if _, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM); err != nil {
				t.Fatalf("pair does not match: %v", err)
			}
		})
	}
}

func TestEveryPairHasItsOwnKey(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 70; i++ { // more than the 64 pooled 2048-bit keys
		p := SelfSigned(t, Options{})
		n := p.Key.(*rsa.PrivateKey).N.String()
		if seen[n] {
			t.Fatalf("key reused at issue %d", i)
		}
		seen[n] = true
	}
}

func TestSelfSignedNoSANsAndReusedKey(t *testing.T) {
	key := NewKey(t, "")
	a := SelfSigned(t, Options{Domains: []string{"legacy.example.com"}, NoSANs: true, Key: key})
	if len(a.Leaf.DNSNames) != 0 || a.Leaf.Subject.CommonName != "legacy.example.com" {
		t.Fatalf("SANs %v CN %q", a.Leaf.DNSNames, a.Leaf.Subject.CommonName)
	}
	if err := a.Leaf.CheckSignature(a.Leaf.SignatureAlgorithm, a.Leaf.RawTBSCertificate, a.Leaf.Signature); err != nil {
		t.Fatalf("self-signed leaf does not verify with its own key: %v", err)
	}
	b := SelfSigned(t, Options{Key: key})
	if !bytes.Equal(a.KeyPEM, b.KeyPEM) || a.FingerprintSHA1 == b.FingerprintSHA1 {
		t.Fatal("Options.Key should give the same key and a different certificate")
	}
	if got := a.Bundle(); !bytes.HasPrefix(got, a.CertPEM) || !bytes.HasSuffix(got, a.KeyPEM) {
		t.Fatal("Bundle is not cert then key")
	}
}

func TestNilTBPanicsOnError(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("want a panic for an unknown key type with a nil testing.TB")
		}
	}()
	MustSelfSigned(Options{KeyType: "dsa"})
}

func TestMustIssueWorksWithoutTB(t *testing.T) {
	ca, err := NewCAErr("demo")
	if err != nil {
		t.Fatal(err)
	}
	p := ca.MustIssue(Options{Domains: []string{"demo.example.com"}})
	if p.Leaf.Issuer.CommonName != "demo" {
		t.Fatalf("issuer %q", p.Leaf.Issuer.CommonName)
	}
}
