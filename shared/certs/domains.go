package certs

import (
	"crypto/x509"
	"strings"
)

// Domains returns the DNS names a certificate serves: its SAN DNS names, or
// its common name when it has none, lower-cased, without a trailing dot and
// de-duplicated in order.
func Domains(cert *x509.Certificate) []string {
	names := cert.DNSNames
	if len(names) == 0 && cert.Subject.CommonName != "" {
		names = []string{cert.Subject.CommonName}
	}
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = canonicalHost(n)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

func canonicalHost(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// Matches reports whether the certificate name pattern covers host, per
// RFC 6125 §6.4: comparison is case-insensitive and ignores one trailing dot;
// a wildcard is allowed only as the whole left-most label ("*.example.com")
// and stands for exactly one non-empty label, so it matches "a.example.com"
// but neither "example.com" nor "a.b.example.com". A wildcard needs at least
// two labels after it ("*.com" matches nothing). Punycode (xn--) labels are
// compared as they are. A host that is itself a wildcard is matched only by
// the identical pattern.
func Matches(pattern, host string) bool {
	p, h := canonicalHost(pattern), canonicalHost(host)
	if p == "" || h == "" {
		return false
	}
	if p == h {
		return true
	}
	rest, ok := strings.CutPrefix(p, "*.")
	if !ok || strings.Contains(rest, "*") || !strings.Contains(rest, ".") {
		return false
	}
	label, hostRest, ok := strings.Cut(h, ".")
	if !ok || label == "" || label == "*" || strings.Contains(hostRest, "*") {
		return false
	}
	return hostRest == rest && !strings.HasPrefix(rest, ".") && !strings.Contains(rest, "..")
}

// HandshakeName is the name a TLS handshake asks for to reach a
// certificate or SNI extension named domain: the domain itself, or for a
// wildcard a concrete name it covers ("*.example.com" -> "www.example.com").
// Rotation's verification and the sweep's probes both ask for it, so the
// two see the same certificate.
func HandshakeName(domain string) string {
	if rest, ok := strings.CutPrefix(domain, "*."); ok {
		return "www." + rest
	}
	return domain
}

// Covers reports whether every domain in existing is matched by some domain
// in newDomains, i.e. whether a certificate for newDomains can replace one
// for existing without dropping a name. An existing wildcard is covered only
// by the same wildcard. When existing is empty there is nothing to prove
// coverage with, so the answer is false (discovery must not touch a listener
// whose certificate names no domain).
func Covers(newDomains, existing []string) bool {
	if len(existing) == 0 || len(newDomains) == 0 {
		return false
	}
	for _, e := range existing {
		found := false
		for _, n := range newDomains {
			if Matches(n, e) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
