package certs_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// FuzzParse checks that Parse never panics, that every refusal is an
// *Error naming its file with a fix, that no message repeats a line of a
// PRIVATE KEY block of the input, and that every accepted bundle is a
// normalised pair that really matches. The input is used as one bundle and,
// split at cut, as a certificate file plus a key file.
// Seeds: every file of testdata/good and testdata/bad.
// Run: go test -run '^$' -fuzz FuzzParse -fuzztime 30s -parallel 1 ./shared/certs/
// (-parallel 1 on small machines: with two workers on a loaded 2-CPU box
// the fuzzer made almost no progress; one worker ran about 1 300 execs/s).
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		entries, err := os.ReadDir(filepath.Join("testdata", dir))
		if err != nil {
			f.Fatalf("read seeds: %v", err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join("testdata", dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, uint16(len(data)/2))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		secrets := keyBodies(data)
		check := func(b *certs.Bundle, err error, names ...string) {
			if err != nil {
				var ce *certs.Error
				if !errors.As(err, &ce) {
					t.Fatalf("error %T is not *certs.Error: %v", err, err)
				}
				msg := err.Error()
				named := false
				for _, n := range names {
					if strings.Contains(ce.File, n) {
						named = true
					}
				}
				if !named || !strings.Contains(msg, "; fix: ") || ce.Kind == "" {
					t.Fatalf("message does not name a file and a fix: %q", msg)
				}
				for _, s := range secrets {
					if strings.Contains(msg, s) {
						t.Fatalf("message leaks key material: %q", msg)
					}
				}
				return
			}
			if strings.Contains(b.CertPEM, "\r") || strings.Contains(b.CertPEM, "\n\n") {
				t.Fatal("accepted bundle is not normalised")
			}
			if _, err := tls.X509KeyPair([]byte(b.CertPEM), []byte(b.Key.PEM())); err != nil {
				t.Fatalf("accepted bundle does not match: %v", err)
			}
			if !strings.HasPrefix(b.Key.PEM(), "-----BEGIN RSA PRIVATE KEY-----\n") {
				t.Fatal("accepted key is not PKCS#1")
			}
		}
		b, err := certs.Parse(now, certs.Options{}, certs.File{Name: "certs/f.pem", Data: data})
		check(b, err, "certs/f.pem")

		i := int(cut)
		if i > len(data) {
			i = len(data)
		}
		b, err = certs.Parse(now, certs.Options{MinValidDays: -1},
			certs.File{Name: "certs/f/fullchain.pem", Data: bytes.Clone(data[:i])},
			certs.File{Name: "certs/f/privkey.pem", Data: bytes.Clone(data[i:])})
		check(b, err, "certs/f/fullchain.pem", "certs/f/privkey.pem")
	})
}
