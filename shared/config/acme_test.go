package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"
)

func testRootPEM(t *testing.T) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "root"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestLoadACME(t *testing.T) {
	root := testRootPEM(t)
	base := map[string]string{EnvCertBucket: "my-certs", EnvRegions: "cn-hangzhou"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	c, err := Load(env(with(EnvAlidnsEndpoint, "http://127.0.0.1:9000", EnvACMENameservers, "127.0.0.1:5353, 10.0.0.1:53", EnvACMECARoots, root)))
	if err != nil {
		t.Fatal(err)
	}
	if c.AlidnsEndpoint != "http://127.0.0.1:9000" || strings.Join(c.ACMENameservers, ",") != "127.0.0.1:5353,10.0.0.1:53" || c.ACMECARoots == "" {
		t.Errorf("loaded %v", c)
	}
	oneLine := strings.ReplaceAll(strings.TrimSpace(root), "\n", `\n`)
	if c, err := Load(env(with(EnvACMECARoots, oneLine))); err != nil || c.ACMECARoots != strings.TrimSpace(root) {
		t.Errorf("one-line PEM (\\n escaped): %v, roots %q", err, c.ACMECARoots)
	}
	bad := []struct{ v, val, want string }{
		{EnvACMENameservers, "127.0.0.1", "is not host:port"},
		{EnvACMENameservers, "127.0.0.1:99999", "is not host:port"},
		{EnvACMECARoots, "not pem", "holds no PEM certificate"},
		{EnvAlidnsEndpoint, "ftp://x", "is not an endpoint URL"},
	}
	for _, b := range bad {
		_, err := Load(env(with(b.v, b.val)))
		if err == nil || !strings.Contains(err.Error(), b.v+": ") || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s=%q: %v, want a problem naming it (%s)", b.v, b.val, err, b.want)
		}
	}
}
