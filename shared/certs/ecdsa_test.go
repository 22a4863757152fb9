package certs_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// TestAllowECDSA: an ECDSA pair is refused by default (CLB takes RSA only)
// and accepted with AllowECDSA, its key normalised to SEC 1 whether it came
// as "EC PRIVATE KEY" or PKCS#8; an RSA pair is unchanged by the option.
func TestAllowECDSA(t *testing.T) {
	now := time.Now()
	ec := certstest.SelfSigned(t, certstest.Options{KeyType: certstest.ECDSA, NotBefore: now.Add(-time.Hour)})
	block, _ := pem.Decode(ec.KeyPEM)
	pkcs8 := ec.KeyPEM
	if block.Type == "EC PRIVATE KEY" {
		k, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		pkcs8 = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	rsaPair := certstest.SelfSigned(t, certstest.Options{NotBefore: now.Add(-time.Hour)})
	for _, tc := range []struct {
		name      string
		cert, key []byte
		allow     bool
		wantECDSA bool
		wantErr   error
	}{
		{"ecdsa refused by default", ec.CertPEM, ec.KeyPEM, false, false, certs.ErrNotRSA},
		{"ecdsa accepted", ec.CertPEM, ec.KeyPEM, true, true, nil},
		{"ecdsa pkcs8 accepted", ec.CertPEM, pkcs8, true, true, nil},
		{"rsa with the option", rsaPair.CertPEM, rsaPair.KeyPEM, true, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := certs.Parse(now, certs.Options{AllowECDSA: tc.allow},
				certs.File{Name: "fullchain.pem", Data: tc.cert}, certs.File{Name: "privkey.pem", Data: tc.key})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.ECDSA != tc.wantECDSA {
				t.Fatalf("ECDSA %t", b.ECDSA)
			}
			wantLabel := "RSA PRIVATE KEY"
			if tc.wantECDSA {
				wantLabel = "EC PRIVATE KEY"
			}
			if !strings.Contains(b.Key.PEM(), "BEGIN "+wantLabel) {
				t.Fatalf("key not normalised to %s", wantLabel)
			}
		})
	}
}
