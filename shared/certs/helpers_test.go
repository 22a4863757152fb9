package certs_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// now is the fixed clock of every test.
var now = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// valid returns options for a leaf valid from a day before now for 90 days.
func valid(domains ...string) certstest.Options {
	return certstest.Options{Domains: domains, NotBefore: now.Add(-24 * time.Hour), NotAfter: now.AddDate(0, 0, 90)}
}

// world is a root, an intermediate under it and a second intermediate
// under that, shared by the tests of this package (CA keys are pooled but
// making the world once keeps the tests quick).
type world struct {
	root, inter, inter2 *certstest.CA
}

var (
	worldOnce sync.Once
	theWorld  world
)

func getWorld(t testing.TB) world {
	t.Helper()
	worldOnce.Do(func() {
		root := certstest.NewCA(nil, "Test Root CA")
		inter := root.Intermediate(nil, "Test Intermediate CA 1")
		theWorld = world{root: root, inter: inter, inter2: inter.Intermediate(nil, "Test Intermediate CA 2")}
	})
	return theWorld
}

// pemBlocks decodes every block of data.
func pemBlocks(t testing.TB, data []byte) []*pem.Block {
	t.Helper()
	var out []*pem.Block
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		out = append(out, b)
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// keyBodies returns the base64 lines of every PRIVATE KEY block in data, for
// leak checks.
func keyBodies(data []byte) []string {
	var out []string
	s := strings.ReplaceAll(string(data), "\r", "")
	for {
		i := strings.Index(s, "PRIVATE KEY-----")
		if i < 0 {
			return out
		}
		s = s[i+len("PRIVATE KEY-----"):]
		body, _, _ := strings.Cut(s, "-----END")
		for _, line := range strings.Split(body, "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= 16 && !strings.Contains(line, ":") {
				out = append(out, line)
			}
		}
	}
}

// loopChain returns a leaf issued by A, and CA certificates A and B that
// issue each other (A by B, B by A), with the leaf's key as PEM.
func loopChain(t testing.TB) (leafPEM, aPEM, bPEM, keyPEM []byte) {
	t.Helper()
	kA, kB, kLeaf := certstest.NewKey(t, ""), certstest.NewKey(t, ""), certstest.NewKey(t, "")
	skA, skB := []byte{0xa1, 1, 2, 3}, []byte{0xb2, 1, 2, 3}
	caTmpl := func(cn string, ski []byte) *x509.Certificate {
		return &x509.Certificate{
			SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn}, SubjectKeyId: ski,
			NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(5, 0, 0),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
	}
	mk := func(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) []byte {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
		if err != nil {
			t.Fatal(err)
		}
		return certstest.EncodeCert(der)
	}
	aT, bT := caTmpl("Loop CA A", skA), caTmpl("Loop CA B", skB)
	aPEM = mk(aT, bT, kA.Public(), kB)
	bPEM = mk(bT, aT, kB.Public(), kA)
	leafT := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "loop.example.com"}, DNSNames: []string{"loop.example.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 0, 60),
	}
	leafPEM = mk(leafT, aT, kLeaf.Public(), kA)
	keyPEM, err := certstest.EncodeKey(kLeaf, false)
	if err != nil {
		t.Fatal(err)
	}
	return leafPEM, aPEM, bPEM, keyPEM
}
