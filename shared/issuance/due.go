package issuance

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// Window is a renewal window the CA suggests through ACME Renewal
// Information (RFC 9773).
type Window struct {
	Start, End     time.Time
	ExplanationURL string
}

// Decision says whether a pair needs a new certificate now, and why.
type Decision struct {
	Renew  bool
	Reason string
	// At is when the certificate becomes due (zero when Renew).
	At time.Time
}

// Due decides from the pair's current certificate (nil: none yet), its
// acme.yaml and the CA's renewal window (nil: the CA offers none), at now.
// interval is the time to the next scheduled run: a renewal that would fall
// after the window's end if postponed to then is done now. Pure.
func Due(now time.Time, cfg Config, leaf *x509.Certificate, ari *Window, interval time.Duration) Decision {
	if leaf == nil {
		return Decision{Renew: true, Reason: "no certificate yet"}
	}
	if have := certDomains(leaf); !slices.Equal(have, sortedCopy(cfg.Domains)) {
		return Decision{Renew: true, Reason: fmt.Sprintf("domains changed: acme.yaml lists %s, the certificate covers %s",
			strings.Join(sortedCopy(cfg.Domains), ", "), strings.Join(have, ", "))}
	}
	if kt := KeyTypeOf(leaf); kt != cfg.KeyType {
		return Decision{Renew: true, Reason: fmt.Sprintf("key type changed: acme.yaml asks for %s, the certificate has %s", cfg.KeyType, kt)}
	}
	if !now.Before(leaf.NotAfter) {
		return Decision{Renew: true, Reason: "the certificate expired at " + leaf.NotAfter.UTC().Format(time.RFC3339)}
	}
	if ari != nil && ari.End.After(ari.Start) {
		at := pointInWindow(leaf, *ari)
		span := ari.Start.UTC().Format(time.RFC3339) + " to " + ari.End.UTC().Format(time.RFC3339)
		switch {
		case !now.Before(at):
			return Decision{Renew: true, Reason: "the CA's renewal window (ARI) is open: " + span}
		case interval > 0 && now.Add(interval).After(ari.End):
			return Decision{Renew: true, Reason: "the CA's renewal window (ARI) ends before the next run: " + span}
		}
		return Decision{Reason: "inside the CA's plan (ARI): renewal due from " + at.UTC().Format(time.RFC3339), At: at}
	}
	lifetime := leaf.NotAfter.Sub(leaf.NotBefore)
	at := leaf.NotAfter.Add(-lifetime / 3)
	if !now.Before(at) {
		return Decision{Renew: true, Reason: fmt.Sprintf("less than a third of the lifetime is left (expires %s)", leaf.NotAfter.UTC().Format(time.RFC3339))}
	}
	return Decision{Reason: "more than a third of the lifetime is left: renewal due from " + at.UTC().Format(time.RFC3339), At: at}
}

// pointInWindow is a fixed point of the window, spread by the certificate's
// serial (RFC 9773 asks clients to pick a random time in the window; a
// stable pick keeps runs of the same day consistent).
func pointInWindow(leaf *x509.Certificate, w Window) time.Time {
	sum := sha256.Sum256(leaf.SerialNumber.Bytes())
	frac := float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
	return w.Start.Add(time.Duration(frac * float64(w.End.Sub(w.Start))))
}

// KeyTypeOf names the certificate's key the way acme.yaml does.
func KeyTypeOf(leaf *x509.Certificate) string {
	switch k := leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("rsa%d", k.N.BitLen())
	case *ecdsa.PublicKey:
		return fmt.Sprintf("ec%d", k.Curve.Params().BitSize)
	}
	return "unknown"
}

func certDomains(leaf *x509.Certificate) []string {
	return sortedCopy(certs.Domains(leaf))
}

func sortedCopy(in []string) []string {
	out := make([]string, 0, len(in))
	for _, d := range in {
		d = strings.ToLower(d)
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}
