package certs_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

var update = flag.Bool("update", false, "regenerate testdata/bad and testdata/good")

// badCorpus maps every file of testdata/bad to the kind Parse must report
// when the file is given alone (as a bundle) at the fixed test clock.
var badCorpus = map[string]error{
	"not-pem-text.pem":                 certs.ErrNotPEM,
	"utf16-bundle.pem":                 certs.ErrNotPEM,
	"binary-garbage.pem":               certs.ErrNotPEM,
	"base64-without-armour.pem":        certs.ErrNotPEM,
	"unknown-block-type.pem":           certs.ErrUnknownBlock,
	"der-certificate.der":              certs.ErrDER,
	"der-key.der":                      certs.ErrDER,
	"pkcs12-like.pfx":                  certs.ErrDER,
	"only-key.pem":                     certs.ErrNoCertificate,
	"only-certificate.pem":             certs.ErrNoKey,
	"two-keys.pem":                     certs.ErrTwoKeys,
	"mismatched-key.pem":               certs.ErrKeyMismatch,
	"expired.pem":                      certs.ErrExpired,
	"not-yet-valid.pem":                certs.ErrNotYetValid,
	"expires-in-3-days.pem":            certs.ErrValidityTooShort,
	"rsa-1024.pem":                     certs.ErrWeakKey,
	"rsa-512.pem":                      certs.ErrWeakKey,
	"ecdsa-sec1.pem":                   certs.ErrNotRSA,
	"ecdsa-pkcs8.pem":                  certs.ErrNotRSA,
	"ecdsa-with-ec-parameters.pem":     certs.ErrNotRSA,
	"ed25519.pem":                      certs.ErrNotRSA,
	"ecdsa-certificate-only.pem":       certs.ErrNotRSA,
	"encrypted-pkcs1.pem":              certs.ErrEncryptedKey,
	"encrypted-pkcs8.pem":              certs.ErrEncryptedKey,
	"chain-gap.pem":                    certs.ErrChainGap,
	"chain-loop.pem":                   certs.ErrChainLoop,
	"unrelated-certificate.pem":        certs.ErrUnrelated,
	"extra-certificate-after-root.pem": certs.ErrUnrelated,
	"csr.pem":                          certs.ErrUnknownBlock,
	"public-key.pem":                   certs.ErrUnknownBlock,
	"openssh-key.pem":                  certs.ErrUnknownBlock,
	"pkcs7.pem":                        certs.ErrUnknownBlock,
	"too-large.pem":                    certs.ErrTooLarge,
	"empty.pem":                        certs.ErrEmpty,
	"whitespace-only.pem":              certs.ErrEmpty,
	"truncated-certificate.pem":        certs.ErrCorrupt,
	"truncated-key.pem":                certs.ErrCorrupt,
	"bad-base64.pem":                   certs.ErrCorrupt,
	"bad-der-in-pem.pem":               certs.ErrCorrupt,
	"bad-key-der.pem":                  certs.ErrCorrupt,
	"mismatched-end-line.pem":          certs.ErrCorrupt,
	"binary-between-blocks.pem":        certs.ErrCorrupt,
	"stray-end-line.pem":               certs.ErrCorrupt,
}

// goodCorpus lists testdata/good: bundles Parse must accept (fuzz seeds).
var goodCorpus = []string{"chain-pkcs1.pem", "chain-pkcs8-crlf.pem", "reversed-chain-with-root.pem", "self-signed.pem"}

func TestCorpus(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	kinds := map[string]bool{}
	seen := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		seen[name] = true
		want, ok := badCorpus[name]
		if !ok {
			t.Errorf("testdata/bad/%s has no expected kind in badCorpus", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "bad", name))
			if err != nil {
				t.Fatal(err)
			}
			key := "certs/bad/" + name
			b, err := certs.Parse(now, certs.Options{MinValidDays: 7}, certs.File{Name: key, Data: data})
			if err == nil {
				t.Fatalf("accepted (%s)", b.FingerprintSHA1)
			}
			if !errors.Is(err, want) {
				t.Fatalf("got %v, want %v", err, want)
			}
			var ce *certs.Error
			if !errors.As(err, &ce) || ce.File != key || !strings.HasPrefix(err.Error(), key+": ") || !strings.Contains(err.Error(), "; fix: ") {
				t.Fatalf("message does not name the file and a fix: %v", err)
			}
			for _, line := range keyBodies(data) {
				if strings.Contains(err.Error(), line) {
					t.Fatalf("message leaks key material: %v", err)
				}
			}
			kinds[ce.Kind] = true
		})
	}
	for name := range badCorpus {
		if !seen[name] {
			t.Errorf("badCorpus names %s but testdata/bad has no such file (run go test -run TestGenerateCorpus -update)", name)
		}
	}
	if len(entries) < 25 {
		t.Errorf("corpus has %d files, want at least 25", len(entries))
	}
	if len(kinds) < 19 {
		t.Errorf("corpus covers %d kinds, want all 19", len(kinds))
	}
	for _, name := range goodCorpus {
		data, err := os.ReadFile(filepath.Join("testdata", "good", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := certs.Parse(now, certs.Options{}, certs.File{Name: name, Data: data}); err != nil {
			t.Errorf("testdata/good/%s refused: %v", name, err)
		}
	}
}

// TestGenerateCorpus rewrites testdata/bad and testdata/good. Run it with
// go test -run TestGenerateCorpus -update ./shared/certs/
// (the rsa-512 file needs openssl, since Go no longer generates such keys).
func TestGenerateCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/bad and testdata/good")
	}
	w := getWorld(t)
	o := func(mod func(*certstest.Options)) certstest.Options {
		opts := valid("www.example.com")
		opts.Chain = true
		if mod != nil {
			mod(&opts)
		}
		return opts
	}
	good := w.inter.Issue(t, o(nil))
	other := w.inter.Issue(t, o(func(o *certstest.Options) { o.Domains = []string{"other.example.com"} }))
	deep := w.inter2.Issue(t, o(nil))
	keyDER := pemBlocks(t, good.KeyPEM)[0].Bytes

	// EncryptPEMBlock is deprecated, but a legacy encrypted key is exactly
	// the bad input needed here.
	//lint:ignore SA1019 a legacy encrypted key is the refusal under test
	encBlock, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", keyDER, []byte("secret"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "www.example.com"}, DNSNames: []string{"www.example.com"}}, good.Key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(good.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	pfx, err := asn1.Marshal(struct {
		Version int
		Data    []byte
	}{3, []byte("not really a PKCS#12 file")})
	if err != nil {
		t.Fatal(err)
	}
	ec := w.inter.Issue(t, o(func(o *certstest.Options) { o.KeyType = certstest.ECDSA }))
	ec8 := w.inter.Issue(t, o(func(o *certstest.Options) { o.KeyType = certstest.ECDSA; o.PKCS8 = true }))
	ed := w.inter.Issue(t, o(func(o *certstest.Options) { o.KeyType = certstest.Ed25519 }))
	loopLeaf, loopA, loopB, loopKey := loopChain(t)
	enc := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	large := bytes.Repeat([]byte(strings.Repeat("A", 63)+"\n"), certs.MaxObjectSize/64+2)

	bad := map[string][]byte{
		"not-pem-text.pem":                 []byte("This is the certificate you asked for:\nwww.example.com, valid until 2031\n"),
		"utf16-bundle.pem":                 utf16(good.Bundle()),
		"binary-garbage.pem":               {0x7f, 'E', 'L', 'F', 0, 0, 0, 1, 2, 3, 0xff, 0xfe},
		"base64-without-armour.pem":        []byte(strings.Join(strings.Split(strings.TrimSpace(string(good.CertPEM)), "\n")[1:8], "\n") + "\n"),
		"unknown-block-type.pem":           []byte("-----BEGIN COMMENT-----\n-----END COMMENT-----\n"),
		"der-certificate.der":              good.Leaf.Raw,
		"der-key.der":                      keyDER,
		"pkcs12-like.pfx":                  pfx,
		"only-key.pem":                     good.KeyPEM,
		"only-certificate.pem":             good.CertPEM,
		"two-keys.pem":                     cat(good.CertPEM, good.KeyPEM, other.KeyPEM),
		"mismatched-key.pem":               cat(good.CertPEM, other.KeyPEM),
		"expired.pem":                      w.inter.Issue(t, o(func(o *certstest.Options) { o.NotBefore, o.NotAfter = now.AddDate(0, -3, 0), now.AddDate(0, 0, -1) })).Bundle(),
		"not-yet-valid.pem":                w.inter.Issue(t, o(func(o *certstest.Options) { o.NotBefore, o.NotAfter = now.AddDate(0, 0, 1), now.AddDate(0, 3, 0) })).Bundle(),
		"expires-in-3-days.pem":            w.inter.Issue(t, o(func(o *certstest.Options) { o.NotAfter = now.AddDate(0, 0, 3) })).Bundle(),
		"rsa-1024.pem":                     w.inter.Issue(t, o(func(o *certstest.Options) { o.KeyType = certstest.RSA1024 })).Bundle(),
		"ecdsa-sec1.pem":                   ec.Bundle(),
		"ecdsa-pkcs8.pem":                  ec8.Bundle(),
		"ecdsa-with-ec-parameters.pem":     cat(ec.CertPEM, []byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"), ec.KeyPEM),
		"ed25519.pem":                      ed.Bundle(),
		"ecdsa-certificate-only.pem":       ec.CertPEM,
		"encrypted-pkcs1.pem":              cat(good.CertPEM, pem.EncodeToMemory(encBlock)),
		"encrypted-pkcs8.pem":              cat(good.CertPEM, enc("ENCRYPTED PRIVATE KEY", keyDER)),
		"chain-gap.pem":                    cat(pemFirst(t, deep.CertPEM), w.inter.CertPEM, deep.KeyPEM),
		"chain-loop.pem":                   cat(loopLeaf, loopA, loopB, loopKey),
		"unrelated-certificate.pem":        cat(good.CertPEM, pemFirst(t, other.CertPEM), good.KeyPEM),
		"extra-certificate-after-root.pem": cat(good.CertPEM, w.root.CertPEM, certstest.NewCA(t, "Another Root").CertPEM, good.KeyPEM),
		"csr.pem":                          cat(good.CertPEM, enc("CERTIFICATE REQUEST", csrDER)),
		"public-key.pem":                   cat(good.CertPEM, enc("PUBLIC KEY", pubDER)),
		"openssh-key.pem":                  cat(good.CertPEM, enc("OPENSSH PRIVATE KEY", []byte("openssh-key-v1\x00not a real key"))),
		"pkcs7.pem":                        enc("PKCS7", pfx),
		"too-large.pem":                    cat(good.Bundle(), large),
		"empty.pem":                        {},
		"whitespace-only.pem":              []byte("\r\n  \n\t\n"),
		"truncated-certificate.pem":        good.CertPEM[:len(pemFirst(t, good.CertPEM))*2/3],
		"truncated-key.pem":                cat(good.CertPEM, good.KeyPEM[:len(good.KeyPEM)-40]),
		"bad-base64.pem":                   bytes.Replace(good.Bundle(), []byte("\n"), []byte("\n*&^%"), 4),
		"bad-der-in-pem.pem":               cat(enc("CERTIFICATE", []byte("\x30\x82\x01\x00 truncated DER")), good.KeyPEM),
		"bad-key-der.pem":                  cat(good.CertPEM, enc("RSA PRIVATE KEY", []byte("\x30\x03\x02\x01\x00"))),
		"mismatched-end-line.pem":          bytes.Replace(good.Bundle(), []byte("-----END CERTIFICATE-----"), []byte("-----END CERTIFICAT-----"), 1),
		"binary-between-blocks.pem":        cat(good.CertPEM, []byte{0, 0xff, 0x10, '\n'}, good.KeyPEM),
		"stray-end-line.pem":               cat([]byte("-----END CERTIFICATE-----\n"), good.Bundle()),
	}
	if key512, err := exec.Command("openssl", "genrsa", "512").Output(); err == nil {
		blk, _ := pem.Decode(key512)
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		p := w.inter.Issue(t, o(func(o *certstest.Options) { o.Key = k.(*rsa.PrivateKey) }))
		bad["rsa-512.pem"] = p.Bundle()
	} else {
		t.Logf("openssl not available (%v): keeping the existing rsa-512.pem", err)
	}

	root := pemBlocks(t, w.root.CertPEM)[0]
	blocks := pemBlocks(t, deep.CertPEM)
	goodFiles := map[string][]byte{
		"chain-pkcs1.pem":              good.Bundle(),
		"chain-pkcs8-crlf.pem":         bytes.ReplaceAll(w.inter2.Issue(t, o(func(o *certstest.Options) { o.PKCS8 = true })).Bundle(), []byte("\n"), []byte("\r\n")),
		"reversed-chain-with-root.pem": cat(pem.EncodeToMemory(root), pem.EncodeToMemory(blocks[2]), pem.EncodeToMemory(blocks[1]), pem.EncodeToMemory(blocks[0]), deep.KeyPEM),
		"self-signed.pem":              certstest.SelfSigned(t, valid("self.example.com")).Bundle(),
	}
	write := func(dir string, files map[string][]byte) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		names := make([]string, 0, len(files))
		for n := range files {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(filepath.Join("testdata", "bad"), bad)
	write(filepath.Join("testdata", "good"), goodFiles)
}

// pemFirst returns the first PEM block of data, re-encoded.
func pemFirst(t testing.TB, data []byte) []byte {
	t.Helper()
	return pem.EncodeToMemory(pemBlocks(t, data)[0])
}

// utf16 encodes ASCII text as UTF-16LE with a byte order mark, as Windows
// Notepad's "Unicode" does.
func utf16(ascii []byte) []byte {
	out := []byte{0xff, 0xfe}
	for _, b := range ascii {
		out = append(out, b, 0)
	}
	return out
}
