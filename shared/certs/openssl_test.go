package certs_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// TestOpenSSLInterop parses what the openssl command line really writes
// (PKCS#8 keys, legacy and PKCS#8 encryption, DER, PKCS#12 and its PEM
// export with "Bag Attributes"). It is skipped when openssl is not
// installed or cannot produce one of the files.
func TestOpenSSLInterop(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed; skipping the interoperability test")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			// A different openssl (LibreSSL, an old release) may lack an
			// option: that is the environment, not the product.
			t.Skipf("openssl %v failed here (%v), skipping: %s", args, err, out)
		}
	}
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "30",
		"-subj", "/CN=osl.example.com", "-addext", "subjectAltName=DNS:osl.example.com,DNS:*.osl.example.com")
	run("pkcs8", "-topk8", "-in", "key.pem", "-out", "enc8.pem", "-passout", "pass:x", "-v2", "aes256")
	run("rsa", "-in", "key.pem", "-aes256", "-traditional", "-out", "legacy-enc.pem", "-passout", "pass:x")
	run("rsa", "-in", "key.pem", "-traditional", "-out", "pkcs1.pem")
	run("x509", "-in", "cert.pem", "-outform", "der", "-out", "cert.der")
	run("pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "bundle.pfx", "-passout", "pass:x")
	run("pkcs12", "-in", "bundle.pfx", "-nodes", "-passin", "pass:x", "-out", "from-p12.pem")
	run("req", "-new", "-key", "key.pem", "-subj", "/CN=osl.example.com", "-out", "csr.pem")
	run("ecparam", "-name", "prime256v1", "-genkey", "-out", "ec.pem")

	read := func(name string) certs.File {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return certs.File{Name: name, Data: data}
	}
	tests := []struct {
		name  string
		files []string
		want  error
	}{
		{"PKCS#8 key from req", []string{"cert.pem", "key.pem"}, nil},
		{"PKCS#1 key from rsa -traditional", []string{"pkcs1.pem", "cert.pem"}, nil},
		{"PEM exported from PKCS#12", []string{"from-p12.pem"}, nil},
		{"PKCS#8 encrypted", []string{"cert.pem", "enc8.pem"}, certs.ErrEncryptedKey},
		{"legacy encrypted", []string{"cert.pem", "legacy-enc.pem"}, certs.ErrEncryptedKey},
		{"DER certificate", []string{"cert.der", "key.pem"}, certs.ErrDER},
		{"PKCS#12", []string{"bundle.pfx"}, certs.ErrDER},
		{"CSR instead of certificate", []string{"csr.pem", "key.pem"}, certs.ErrUnknownBlock},
		{"EC key with parameters", []string{"cert.pem", "ec.pem"}, certs.ErrNotRSA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var files []certs.File
			for _, f := range tc.files {
				files = append(files, read(f))
			}
			b, err := certs.Parse(time.Now(), certs.Options{}, files...)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				checkNormalised(t, b)
				if len(b.Domains) != 2 || b.Domains[1] != "*.osl.example.com" {
					t.Fatalf("Domains = %v", b.Domains)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
