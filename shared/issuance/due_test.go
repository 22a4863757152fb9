package issuance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
	"time"
)

var rsaTestKey, _ = rsa.GenerateKey(rand.Reader, 2048)

func testLeaf(t *testing.T, notBefore time.Time, life time.Duration, ec bool, names ...string) *x509.Certificate {
	t.Helper()
	var pub, priv any = &rsaTestKey.PublicKey, rsaTestKey
	if ec {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		pub, priv = &k.PublicKey, k
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), DNSNames: names, NotBefore: notBefore, NotAfter: notBefore.Add(life)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestDue(t *testing.T) {
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cfg := Config{Domains: []string{"www.example.com", "*.example.com"}, KeyType: KeyRSA2048}
	leaf := testLeaf(t, issued, 90*day, false, "*.example.com", "www.example.com")
	win := &Window{Start: issued.Add(60 * day), End: issued.Add(62 * day)}
	point := pointInWindow(leaf, *win)
	tests := []struct {
		name   string
		now    time.Time
		cfg    Config
		leaf   *x509.Certificate
		ari    *Window
		renew  bool
		reason string
	}{
		{"no certificate", issued, cfg, nil, nil, true, "no certificate yet"},
		{"fresh, one-third rule", issued.Add(59 * day), cfg, leaf, nil, false, "more than a third"},
		{"one-third reached", issued.Add(60 * day), cfg, leaf, nil, true, "less than a third"},
		{"expired", issued.Add(91 * day), cfg, leaf, win, true, "expired"},
		{"domains changed", issued.Add(day), Config{Domains: []string{"www.example.com"}, KeyType: KeyRSA2048}, leaf, nil, true, "domains changed"},
		{"key type changed", issued.Add(day), Config{Domains: cfg.Domains, KeyType: KeyEC256}, leaf, nil, true, "key type changed"},
		{"ARI before the window", issued.Add(59 * day), cfg, leaf, win, false, "ARI"},
		{"ARI before its point, next run inside", point.Add(-time.Minute), cfg, leaf, win, false, "ARI"},
		{"ARI at its point", point, cfg, leaf, win, true, "window (ARI) is open"},
		{"ARI window ends before the next run", win.End.Add(-time.Hour), cfg, leaf, &Window{Start: win.End.Add(-2 * time.Minute), End: win.End}, true, "ends before the next run"},
		{"ARI earlier than one-third (revocation)", issued.Add(10 * day), cfg, leaf, &Window{Start: issued.Add(9 * day), End: issued.Add(9*day + time.Hour)}, true, "ARI"},
		{"ARI later than one-third wins", issued.Add(61 * day), cfg, leaf, &Window{Start: issued.Add(80 * day), End: issued.Add(82 * day)}, false, "ARI"},
		{"empty ARI window falls back", issued.Add(61 * day), cfg, leaf, &Window{Start: issued, End: issued}, true, "less than a third"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Due(tc.now, tc.cfg, tc.leaf, tc.ari, 24*time.Hour)
			if d.Renew != tc.renew || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("Due = %+v, want renew=%v with %q", d, tc.renew, tc.reason)
			}
			if !d.Renew && !d.At.After(tc.now) {
				t.Errorf("not due, but At %s is not after now %s", d.At, tc.now)
			}
		})
	}
	if p := pointInWindow(leaf, *win); p.Before(win.Start) || p.After(win.End) || !p.Equal(point) {
		t.Errorf("pointInWindow %s outside %s..%s or not stable", p, win.Start, win.End)
	}
	if kt := KeyTypeOf(testLeaf(t, issued, day, true, "a.example.com")); kt != KeyEC256 {
		t.Errorf("KeyTypeOf(P-256) = %s", kt)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Hour, 4 * time.Hour, 16 * time.Hour, 64 * time.Hour, 72 * time.Hour, 72 * time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}

func TestDueDirectoryChanged(t *testing.T) {
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	leaf := testLeaf(t, issued, 90*24*time.Hour, false, "www.example.com")
	prod := Config{Domains: []string{"www.example.com"}, KeyType: KeyRSA2048, Directory: Directories["letsencrypt"]}
	now := issued.Add(24 * time.Hour)
	if d := dueWithState(now, prod, leaf, nil, 0, State{Directory: Directories["letsencrypt-staging"]}); !d.Renew || !strings.Contains(d.Reason, "directory changed") {
		t.Errorf("staging certificate, production acme.yaml: %+v", d)
	}
	for _, st := range []State{{Directory: prod.Directory}, {}} {
		if d := dueWithState(now, prod, leaf, nil, 0, st); d.Renew {
			t.Errorf("state %+v: %+v, want not due", st, d)
		}
	}
}
