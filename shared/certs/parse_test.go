package certs_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

const (
	certFile = "certs/www/fullchain.pem"
	keyFile  = "certs/www/privkey.pem"
	bundle   = "certs/www.pem"
)

func TestParseRefusals(t *testing.T) {
	w := getWorld(t)
	good := w.inter.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-24 * time.Hour), NotAfter: now.AddDate(0, 0, 90), Chain: true})
	other := w.inter.Issue(t, valid("other.example.com"))
	deep := w.inter2.Issue(t, valid("deep.example.com"))
	loopLeaf, loopA, loopB, loopKey := loopChain(t)

	opt := func(mod func(*certstest.Options)) certstest.Options {
		o := valid("www.example.com")
		mod(&o)
		return o
	}
	expired := w.inter.Issue(t, opt(func(o *certstest.Options) { o.NotBefore, o.NotAfter = now.AddDate(0, -3, 0), now.Add(-time.Second) }))
	future := w.inter.Issue(t, opt(func(o *certstest.Options) { o.NotBefore = now.Add(time.Hour) }))
	short := w.inter.Issue(t, opt(func(o *certstest.Options) { o.NotAfter = now.Add(7*24*time.Hour - time.Second) }))
	weak := w.inter.Issue(t, opt(func(o *certstest.Options) { o.KeyType = certstest.RSA1024 }))
	ec := w.inter.Issue(t, opt(func(o *certstest.Options) { o.KeyType = certstest.ECDSA }))
	ec8 := w.inter.Issue(t, opt(func(o *certstest.Options) { o.KeyType = certstest.ECDSA; o.PKCS8 = true }))
	ed := w.inter.Issue(t, opt(func(o *certstest.Options) { o.KeyType = certstest.Ed25519 }))

	keyDER := pemBlocks(t, good.KeyPEM)[0].Bytes
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: keyDER})
	encrypted8 := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: keyDER})
	csr := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{0x30, 0x03, 0x02, 0x01, 0x01}})
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0x00}})
	truncated := good.CertPEM[:len(good.CertPEM)/3]
	badBase64 := bytes.Replace(good.CertPEM, []byte("\n"), []byte("\n!!!!"), 3)
	badDER := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("definitely not DER")})

	tests := []struct {
		name  string
		files []certs.File
		want  error
		file  string   // the file the message must name
		words []string // more text the message must contain
	}{
		{"not PEM", []certs.File{{certFile, []byte("hello, this is not a certificate\n")}, {keyFile, good.KeyPEM}}, certs.ErrNotPEM, certFile, nil},
		{"binary garbage", []certs.File{{bundle, []byte{0xff, 0x00, 0x13, 0x37, 0xde, 0xad}}}, certs.ErrNotPEM, bundle, []string{"binary"}},
		{"DER certificate", []certs.File{{certFile, good.Leaf.Raw}, {keyFile, good.KeyPEM}}, certs.ErrDER, certFile, []string{"openssl x509 -inform der"}},
		{"DER key", []certs.File{{certFile, good.CertPEM}, {keyFile, keyDER}}, certs.ErrDER, keyFile, []string{"openssl rsa -inform der"}},
		{"no certificate", []certs.File{{keyFile, good.KeyPEM}}, certs.ErrNoCertificate, keyFile, nil},
		{"no key", []certs.File{{certFile, good.CertPEM}}, certs.ErrNoKey, certFile, nil},
		{"two keys", []certs.File{{certFile, cat(good.CertPEM, good.KeyPEM)}, {keyFile, other.KeyPEM}}, certs.ErrTwoKeys, keyFile, []string{certFile}},
		{"key mismatch", []certs.File{{certFile, good.CertPEM}, {keyFile, other.KeyPEM}}, certs.ErrKeyMismatch, keyFile, []string{"www.example.com", good.FingerprintSHA1}},
		{"expired", []certs.File{{certFile, expired.CertPEM}, {keyFile, expired.KeyPEM}}, certs.ErrExpired, certFile, []string{"renew"}},
		{"not yet valid", []certs.File{{certFile, future.CertPEM}, {keyFile, future.KeyPEM}}, certs.ErrNotYetValid, certFile, nil},
		{"validity too short", []certs.File{{certFile, short.CertPEM}, {keyFile, short.KeyPEM}}, certs.ErrValidityTooShort, certFile, []string{"7 days"}},
		{"RSA 1024", []certs.File{{bundle, weak.Bundle()}}, certs.ErrWeakKey, bundle, []string{"1024 bits"}},
		{"ECDSA SEC1 key", []certs.File{{certFile, ec.CertPEM}, {keyFile, ec.KeyPEM}}, certs.ErrNotRSA, keyFile, []string{"Classic Load Balancer accepts RSA certificates only", "--key-type rsa"}},
		{"ECDSA PKCS#8 key", []certs.File{{certFile, ec8.CertPEM}, {keyFile, ec8.KeyPEM}}, certs.ErrNotRSA, keyFile, []string{"PKCS#8 EC (ECDSA", "Classic Load Balancer accepts RSA certificates only"}},
		{"Ed25519", []certs.File{{bundle, ed.Bundle()}}, certs.ErrNotRSA, bundle, []string{"Ed25519", "RSA certificates only"}},
		{"ECDSA certificate without key", []certs.File{{certFile, ec.CertPEM}}, certs.ErrNotRSA, certFile, []string{"ECDSA"}},
		{"encrypted PKCS#1", []certs.File{{certFile, good.CertPEM}, {keyFile, encrypted}}, certs.ErrEncryptedKey, keyFile, []string{"openssl rsa -in key.pem -out privkey.pem -traditional"}},
		{"encrypted PKCS#8", []certs.File{{certFile, good.CertPEM}, {keyFile, encrypted8}}, certs.ErrEncryptedKey, keyFile, []string{"-traditional"}},
		{"chain gap", []certs.File{{certFile, cat(deep.CertPEM, w.inter.CertPEM)}, {keyFile, deep.KeyPEM}}, certs.ErrChainGap, certFile, []string{"Test Intermediate CA 2"}},
		{"chain loop", []certs.File{{certFile, cat(loopLeaf, loopA, loopB)}, {keyFile, loopKey}}, certs.ErrChainLoop, certFile, []string{"Loop CA"}},
		{"unrelated certificate", []certs.File{{certFile, cat(good.CertPEM, other.CertPEM)}, {keyFile, good.KeyPEM}}, certs.ErrUnrelated, certFile, []string{"other.example.com"}},
		{"CSR", []certs.File{{certFile, cat(good.CertPEM, csr)}, {keyFile, good.KeyPEM}}, certs.ErrUnknownBlock, certFile, []string{"signing request"}},
		{"public key instead of key", []certs.File{{certFile, good.CertPEM}, {keyFile, pub}}, certs.ErrUnknownBlock, keyFile, []string{"public key"}},
		{"too large", []certs.File{{certFile, bytes.Repeat([]byte("a"), certs.MaxObjectSize+1)}}, certs.ErrTooLarge, certFile, nil},
		{"empty", []certs.File{{certFile, nil}, {keyFile, good.KeyPEM}}, certs.ErrEmpty, certFile, nil},
		{"blank", []certs.File{{certFile, []byte(" \r\n\n\t")}}, certs.ErrEmpty, certFile, nil},
		{"no files", nil, certs.ErrEmpty, "(no file)", nil},
		{"truncated", []certs.File{{certFile, truncated}, {keyFile, good.KeyPEM}}, certs.ErrCorrupt, certFile, []string{"truncated"}},
		{"bad base64", []certs.File{{certFile, badBase64}, {keyFile, good.KeyPEM}}, certs.ErrCorrupt, certFile, nil},
		{"key labelled CERTIFICATE", []certs.File{{certFile, cat(good.CertPEM, bytes.ReplaceAll(good.KeyPEM, []byte("RSA PRIVATE KEY"), []byte("CERTIFICATE")))}, {keyFile, good.KeyPEM}}, certs.ErrCorrupt, certFile, []string{"holds a private key"}},
		{"bad DER in PEM", []certs.File{{certFile, badDER}, {keyFile, good.KeyPEM}}, certs.ErrCorrupt, certFile, []string{"cannot be parsed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := certs.Parse(now, certs.Options{MinValidDays: 7}, tc.files...)
			if err == nil {
				t.Fatalf("Parse accepted it (fingerprint %s); want %v", b.FingerprintSHA1, tc.want)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %q is not %v", err, tc.want)
			}
			var ce *certs.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *certs.Error", err)
			}
			msg := err.Error()
			if ce.File != tc.file || !strings.HasPrefix(msg, tc.file+": ") {
				t.Errorf("message %q does not name %q first (File=%q)", msg, tc.file, ce.File)
			}
			if !strings.Contains(msg, "; fix: ") || ce.Fix == "" || ce.Problem == "" {
				t.Errorf("message %q has no fix", msg)
			}
			for _, w := range tc.words {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			for _, f := range tc.files {
				for _, line := range keyBodies(f.Data) {
					if strings.Contains(msg, line) {
						t.Fatalf("message contains key material: %q", msg)
					}
				}
			}
		})
	}
}

func TestErrorIsOnlyItsKind(t *testing.T) {
	err := error(&certs.Error{File: "f", Kind: "key-mismatch", Problem: "p", Fix: "x"})
	if !errors.Is(err, certs.ErrKeyMismatch) || errors.Is(err, certs.ErrExpired) || errors.Is(err, certs.ErrNoKey) {
		t.Fatal("Is does not match exactly its own kind")
	}
	if got := err.Error(); got != "f: p; fix: x" {
		t.Fatalf("Error() = %q", got)
	}
	if got := fmt.Errorf("rotation: validate: %w", err); !errors.Is(got, certs.ErrKeyMismatch) {
		t.Fatal("wrapped error lost its kind")
	}
}

// A refusal answers apierr's classification: handlers treat it as
// permanent without matching its text, wrapped or not.
func TestErrorIsInvalid(t *testing.T) {
	_, err := certs.Parse(now, certs.Options{}, certs.File{Name: "certs/www/fullchain.pem", Data: []byte("not a certificate")})
	var ce *certs.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Parse = %v, want a *certs.Error", err)
	}
	for _, e := range []error{err, fmt.Errorf("rotation: validate: %w", err)} {
		if !errors.Is(e, apierr.ErrInvalid) || !apierr.Permanent(e) || errors.Is(e, apierr.ErrTransient) {
			t.Errorf("%v: Is(ErrInvalid) %v, Permanent %v", e, errors.Is(e, apierr.ErrInvalid), apierr.Permanent(e))
		}
	}
	cause := errors.New("cause")
	noFix := error(&certs.Error{File: "deploy.yaml", Problem: "targets[0].region is missing", Err: cause})
	if got := noFix.Error(); got != "deploy.yaml: targets[0].region is missing" {
		t.Errorf("Error() without a fix = %q", got)
	}
	if !errors.Is(noFix, cause) || errors.Is(noFix, certs.ErrKeyMismatch) {
		t.Error("a refusal without a kind must unwrap to its cause and match no kind")
	}
}

func parseOK(t *testing.T, files ...certs.File) *certs.Bundle {
	t.Helper()
	b, err := certs.Parse(now, certs.Options{}, files...)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return b
}

// checkNormalised asserts the documented output form and that the pair
// still works as a TLS key pair.
func checkNormalised(t *testing.T, b *certs.Bundle) {
	t.Helper()
	for name, text := range map[string]string{"CertPEM": b.CertPEM, "Key": b.Key.PEM()} {
		if strings.Contains(text, "\r") || strings.Contains(text, "\n\n") || !strings.HasSuffix(text, "\n") {
			t.Errorf("%s has CR, blank lines or no final newline", name)
		}
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if len(line) > 64 && !strings.HasPrefix(line, "-----") {
				t.Errorf("%s has a line of %d columns", name, len(line))
			}
		}
	}
	kb := pemBlocks(t, []byte(b.Key.PEM()))
	if len(kb) != 1 || kb[0].Type != "RSA PRIVATE KEY" {
		t.Fatalf("key is not one RSA PRIVATE KEY block")
	}
	cb := pemBlocks(t, []byte(b.CertPEM))
	if len(cb) != 1+len(b.Intermediates) || !bytes.Equal(cb[0].Bytes, b.Leaf.Raw) {
		t.Fatalf("CertPEM has %d blocks, leaf first = %v", len(cb), len(cb) > 0 && bytes.Equal(cb[0].Bytes, b.Leaf.Raw))
	}
	for i, c := range b.Intermediates {
		if !bytes.Equal(cb[i+1].Bytes, c.Raw) {
			t.Fatalf("intermediate %d out of place", i)
		}
	}
	if _, err := tls.X509KeyPair([]byte(b.CertPEM), []byte(b.Key.PEM())); err != nil {
		t.Fatalf("normalised pair does not match: %v", err)
	}
	if b.FingerprintSHA1 != certs.FingerprintSHA1(b.Leaf.Raw) || b.SHA256 != certs.SHA256(b.Leaf.Raw) {
		t.Fatal("fingerprints do not belong to the leaf")
	}
}

func TestParseAccepts(t *testing.T) {
	w := getWorld(t)
	opts := valid("WWW.Example.com", "api.example.com", "www.example.com")
	opts.Chain = true
	p := w.inter2.Issue(t, opts)
	p8 := w.inter2.Issue(t, func() certstest.Options { o := opts; o.PKCS8 = true; return o }())
	leafPEM := pemBlocks(t, p.CertPEM)
	if len(leafPEM) != 3 {
		t.Fatalf("fixture has %d blocks", len(leafPEM))
	}
	enc := func(bs ...*pem.Block) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, pem.EncodeToMemory(b)...)
		}
		return out
	}
	leaf, i2, i1 := leafPEM[0], leafPEM[1], leafPEM[2]
	root := pemBlocks(t, w.root.CertPEM)[0]

	tests := []struct {
		name      string
		files     []certs.File
		reordered bool
		root      bool
		converted bool
	}{
		{"pair", []certs.File{{certFile, p.CertPEM}, {keyFile, p.KeyPEM}}, false, false, false},
		{"key file first", []certs.File{{keyFile, p.KeyPEM}, {certFile, p.CertPEM}}, false, false, false},
		{"bundle, key first", []certs.File{{bundle, cat(p.KeyPEM, p.CertPEM)}}, false, false, false},
		{"bundle, key in the middle", []certs.File{{bundle, enc(leaf, pemBlocks(t, p.KeyPEM)[0], i2, i1)}}, false, false, false},
		{"CRLF", []certs.File{{bundle, bytes.ReplaceAll(p.Bundle(), []byte("\n"), []byte("\r\n"))}}, false, false, false},
		{"blank lines inside and between", []certs.File{{bundle, bytes.ReplaceAll(p.Bundle(), []byte("\n"), []byte("\n\n"))}}, false, false, false},
		{"trailing text and whitespace", []certs.File{{certFile, cat(p.CertPEM, []byte("  \n# issued by lego\n\n"))}, {keyFile, p.KeyPEM}}, false, false, false},
		{"openssl bag attributes", []certs.File{{bundle, cat([]byte("Bag Attributes\n    friendlyName: www\nsubject=CN = www.example.com\n"), p.Bundle())}}, false, false, false},
		{"CRLF with text between blocks", []certs.File{{bundle, bytes.ReplaceAll(cat([]byte("subject=CN = www.example.com\n"), p.CertPEM, []byte("\n# key follows\n"), p.KeyPEM), []byte("\n"), []byte("\r\n"))}}, false, false, false},
		{"base64 on one line", []certs.File{{certFile, oneLine(p.CertPEM)}, {keyFile, oneLine(p.KeyPEM)}}, false, false, false},
		{"BOM", []certs.File{{certFile, cat([]byte("\xef\xbb\xbf"), p.CertPEM)}, {keyFile, p.KeyPEM}}, false, false, false},
		{"reversed chain", []certs.File{{certFile, enc(i1, i2, leaf)}, {keyFile, p.KeyPEM}}, true, false, false},
		{"leaf in the middle", []certs.File{{certFile, enc(i2, leaf, i1)}, {keyFile, p.KeyPEM}}, true, false, false},
		{"root at the end is dropped", []certs.File{{certFile, enc(leaf, i2, i1, root)}, {keyFile, p.KeyPEM}}, false, true, false},
		{"root first", []certs.File{{certFile, enc(root, leaf, i2, i1)}, {keyFile, p.KeyPEM}}, true, true, false},
		{"duplicate intermediate", []certs.File{{certFile, enc(leaf, i2, i2, i1)}, {keyFile, p.KeyPEM}}, false, false, false},
		{"same key twice", []certs.File{{certFile, p.Bundle()}, {keyFile, p.KeyPEM}}, false, false, false},
		{"PKCS#8 RSA key", []certs.File{{certFile, p8.CertPEM}, {keyFile, p8.KeyPEM}}, false, false, true},
		{"X509 CERTIFICATE label", []certs.File{{certFile, bytes.ReplaceAll(p.CertPEM, []byte(" CERTIFICATE-----"), []byte(" X509 CERTIFICATE-----"))}, {keyFile, p.KeyPEM}}, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := parseOK(t, tc.files...)
			checkNormalised(t, b)
			if len(b.Intermediates) != 2 {
				t.Fatalf("want 2 intermediates, got %d", len(b.Intermediates))
			}
			if b.Reordered != tc.reordered {
				t.Errorf("Reordered = %v, want %v", b.Reordered, tc.reordered)
			}
			if (b.Root != nil) != tc.root {
				t.Errorf("Root = %v, want %v", b.Root != nil, tc.root)
			}
			if b.KeyConverted != tc.converted {
				t.Errorf("KeyConverted = %v, want %v", b.KeyConverted, tc.converted)
			}
			if got := strings.Join(b.Domains, ","); got != "www.example.com,api.example.com" {
				t.Errorf("Domains = %s", got)
			}
			if b.KeyBits != 2048 || !b.NotAfter.Equal(now.AddDate(0, 0, 90)) {
				t.Errorf("KeyBits %d NotAfter %v", b.KeyBits, b.NotAfter)
			}
			if len(b.Warnings) != 0 {
				t.Errorf("unexpected warnings %v", b.Warnings)
			}
		})
	}
}

func TestPKCS8ConvertedKeyMatchesAndIsPKCS1(t *testing.T) {
	w := getWorld(t)
	o := valid("www.example.com")
	o.PKCS8 = true
	p := w.inter.Issue(t, o)
	b := parseOK(t, certs.File{Name: certFile, Data: p.CertPEM}, certs.File{Name: keyFile, Data: p.KeyPEM})
	blk := pemBlocks(t, []byte(b.Key.PEM()))[0]
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatalf("converted key is not PKCS#1: %v", err)
	}
	if !k.Equal(p.Key.(*rsa.PrivateKey)) {
		t.Fatal("converted key is a different key")
	}
	// Round trip: the converted output parses again to the same bundle.
	b2 := parseOK(t, certs.File{Name: certFile, Data: []byte(b.CertPEM)}, certs.File{Name: keyFile, Data: []byte(b.Key.PEM())})
	if b2.Key.PEM() != b.Key.PEM() || b2.CertPEM != b.CertPEM || b2.KeyConverted {
		t.Fatal("normalised output is not a fixed point")
	}
	if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "without intermediates") {
		t.Fatalf("want a warning about missing intermediates, got %v", b.Warnings)
	}
}

func TestSelfSignedLeafAccepted(t *testing.T) {
	p := certstest.SelfSigned(t, valid("self.example.com"))
	b := parseOK(t, certs.File{Name: bundle, Data: p.Bundle()})
	if len(b.Intermediates) != 0 || b.Root != nil || len(b.Warnings) != 0 {
		t.Fatalf("self-signed leaf: intermediates %d root %v warnings %v", len(b.Intermediates), b.Root != nil, b.Warnings)
	}
}

func TestCNOnlyDomains(t *testing.T) {
	o := valid("Legacy.Example.COM.")
	o.NoSANs = true
	p := certstest.SelfSigned(t, o)
	b := parseOK(t, certs.File{Name: bundle, Data: p.Bundle()})
	if len(b.Domains) != 1 || b.Domains[0] != "legacy.example.com" {
		t.Fatalf("Domains = %v", b.Domains)
	}
}

func TestValidityBoundaries(t *testing.T) {
	key := certstest.NewKey(t, "")
	tests := []struct {
		name      string
		notBefore time.Time
		notAfter  time.Time
		minDays   int
		want      error
	}{
		{"exactly 7 days left", now.Add(-time.Hour), now.AddDate(0, 0, 7), 7, nil},
		{"one second short of 7 days", now.Add(-time.Hour), now.AddDate(0, 0, 7).Add(-time.Second), 7, certs.ErrValidityTooShort},
		{"MinValidDays 0 (MIN_VALID_DAYS=0), one hour left", now.Add(-time.Hour), now.Add(time.Hour), 0, nil},
		{"MinValidDays 0, one day left", now.Add(-time.Hour), now.AddDate(0, 0, 1), 0, nil},
		{"MinValidDays 0, expired", now.AddDate(0, 0, -10), now.Add(-time.Second), 0, certs.ErrExpired},
		{"exactly 30 days with MinValidDays 30", now.Add(-time.Hour), now.AddDate(0, 0, 30), 30, nil},
		{"29 days with MinValidDays 30", now.Add(-time.Hour), now.AddDate(0, 0, 29), 30, certs.ErrValidityTooShort},
		{"check disabled, one hour left", now.Add(-time.Hour), now.Add(time.Hour), -1, nil},
		{"NotAfter is now", now.AddDate(0, 0, -10), now, -1, nil},
		{"NotAfter one second ago", now.AddDate(0, 0, -10), now.Add(-time.Second), -1, certs.ErrExpired},
		{"NotBefore is now", now, now.AddDate(0, 0, 90), 0, nil},
		{"NotBefore one second ahead", now.Add(time.Second), now.AddDate(0, 0, 90), 0, certs.ErrNotYetValid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := certstest.SelfSigned(t, certstest.Options{NotBefore: tc.notBefore, NotAfter: tc.notAfter, Key: key})
			_, err := certs.Parse(now, certs.Options{MinValidDays: tc.minDays}, certs.File{Name: bundle, Data: p.Bundle()})
			if tc.want == nil && err != nil {
				t.Fatalf("want accepted, got %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
}

func TestKeyNeverPrinted(t *testing.T) {
	w := getWorld(t)
	p := w.inter.Issue(t, valid("www.example.com"))
	b := parseOK(t, certs.File{Name: bundle, Data: p.Bundle()})
	secret := keyBodies([]byte(b.Key.PEM()))
	if len(secret) == 0 {
		t.Fatal("no key body found to look for")
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("bundle", "key", b.Key, "bundle_key", b.Key)
	js, err := json.Marshal(struct {
		K certs.PrivateKey
		P *certs.PrivateKey
	}{b.Key, &b.Key})
	if err != nil {
		t.Fatal(err)
	}
	txt, _ := b.Key.MarshalText()
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", b.Key), "%+v": fmt.Sprintf("%+v", b.Key), "%#v": fmt.Sprintf("%#v", b.Key),
		"%s": fmt.Sprintf("%s", b.Key), "%x": fmt.Sprintf("%x", b.Key), "%q": fmt.Sprintf("%q", b.Key),
		"bundle %+v": fmt.Sprintf("%+v", *b), "bundle %#v": fmt.Sprintf("%#v", *b),
		"slog": logBuf.String(), "json": string(js), "text": string(txt),
	}
	for name, out := range outputs {
		if !strings.Contains(out, certs.Redacted) {
			t.Errorf("%s: %q does not say %s", name, clipStr(out), certs.Redacted)
		}
		if strings.Contains(out, "PRIVATE KEY") {
			t.Errorf("%s prints the key", name)
		}
		for _, s := range secret {
			if strings.Contains(out, s) {
				t.Fatalf("%s leaks key material", name)
			}
		}
	}
}

func clipStr(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// TestErrorsNeverQuoteKeys feeds key blocks damaged in many ways and checks
// no message contains a line of their base64.
func TestErrorsNeverQuoteKeys(t *testing.T) {
	w := getWorld(t)
	p := w.inter.Issue(t, valid("www.example.com"))
	other := w.inter.Issue(t, valid("other.example.com"))
	body := strings.Join(keyBodies(p.KeyPEM), "\n")
	lines := strings.Split(body, "\n")
	inputs := map[string][]byte{
		"key as block type":        []byte("-----BEGIN " + lines[1] + "-----\n" + body + "\n-----END " + lines[1] + "-----\n"),
		"key without armour":       []byte(body + "\n"),
		"truncated key":            cat(p.CertPEM, p.KeyPEM[:len(p.KeyPEM)/2]),
		"key with bad base64":      cat(p.CertPEM, bytes.Replace(p.KeyPEM, []byte(lines[3]), []byte(lines[3][:10]+"!@#"+lines[3][13:]), 1)),
		"key with wrong END":       cat(p.CertPEM, bytes.Replace(p.KeyPEM, []byte("END RSA PRIVATE KEY"), []byte("END PRIVATE KEY"), 1)),
		"key garbage DER":          cat(p.CertPEM, []byte("-----BEGIN RSA PRIVATE KEY-----\n"+lines[0]+"\n-----END RSA PRIVATE KEY-----\n")),
		"key in the header":        cat(p.CertPEM, []byte("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: "+lines[2]+"\n\n"+body+"\n-----END RSA PRIVATE KEY-----\n")),
		"mismatched key":           cat(p.CertPEM, other.KeyPEM),
		"two keys":                 cat(p.CertPEM, p.KeyPEM, other.KeyPEM),
		"stray END with key":       cat([]byte(lines[0]+"-----END RSA PRIVATE KEY-----\n"), p.Bundle()),
		"binary after the key":     cat(p.Bundle(), []byte{0, 1, 2}, []byte(lines[4])),
		"key labelled CERTIFICATE": cat(bytes.ReplaceAll(p.KeyPEM, []byte("RSA PRIVATE KEY"), []byte("CERTIFICATE")), p.CertPEM),
	}
	secrets := append(keyBodies(p.KeyPEM), keyBodies(other.KeyPEM)...)
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			_, err := certs.Parse(now, certs.Options{}, certs.File{Name: bundle, Data: in})
			if err == nil {
				t.Fatal("accepted")
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) || strings.Contains(err.Error(), s[:16]) {
					t.Fatalf("message leaks key text: %q", err)
				}
			}
		})
	}
}

func TestExpiredIntermediateWarns(t *testing.T) {
	w := getWorld(t)
	key := certstest.NewKey(t, "")
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Old Intermediate"},
		NotBefore: now.AddDate(-5, 0, 0), NotAfter: now.AddDate(0, 0, -1),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, w.root.Cert, key.Public(), w.root.Key)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	old := &certstest.CA{Name: "Old Intermediate", Cert: inter, CertPEM: certstest.EncodeCert(der), Key: key, Parent: w.root}
	o := valid("www.example.com")
	o.Chain = true
	p := old.Issue(t, o)
	b := parseOK(t, certs.File{Name: bundle, Data: p.Bundle()})
	if len(b.Warnings) != 1 || !strings.Contains(b.Warnings[0], "Old Intermediate") || !strings.Contains(b.Warnings[0], "expired") {
		t.Fatalf("want one warning about the expired intermediate, got %v", b.Warnings)
	}
}

// oneLine rewrites every PEM block of data with its base64 on one line.
func oneLine(data []byte) []byte {
	var out []byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		out = append(out, "-----BEGIN "+b.Type+"-----\n"+base64.StdEncoding.EncodeToString(b.Bytes)+"\n-----END "+b.Type+"-----\n"...)
	}
}
