package certs

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// MaxObjectSize is the largest certificate or key file accepted (64 KiB).
const MaxObjectSize = 64 << 10

// MaxCertificateNameLen is SLB's limit on ServerCertificateName.
const MaxCertificateNameLen = 80

// FingerprintSHA1 returns the SHA-1 of der as lower-case colon hex
// ("68:08:1a:…"), the form SLB shows as a server certificate's Fingerprint.
func FingerprintSHA1(der []byte) string {
	sum := sha1.Sum(der)
	var b strings.Builder
	b.Grow(len(sum) * 3)
	for i, x := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex.EncodeToString([]byte{x}))
	}
	return b.String()
}

// SHA256 returns the SHA-256 of der as lower-case hex.
func SHA256(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// NormalizeFingerprint returns fp in lower-case colon hex whatever its case
// or separators (colons, none), so fingerprints from different sources
// compare equal. Input that is not 40 hex digits is returned lower-cased.
func NormalizeFingerprint(fp string) string {
	h := strings.ToLower(strings.NewReplacer(":", "", " ", "", "-", "").Replace(fp))
	if len(h) != 40 {
		return strings.ToLower(fp)
	}
	if _, err := hex.DecodeString(h); err != nil {
		return strings.ToLower(fp)
	}
	parts := make([]string, 0, 20)
	for i := 0; i < 40; i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// CertificateName returns the server certificate name
// "<name>-<notAfter yyyymmdd UTC>-<first 8 hex digits of the fingerprint>",
// sanitised to SLB's rule (1–80 characters, starting with a letter; letters,
// digits, '.', '_' and '-'): runs of other characters become one '-', a name
// that does not start with a letter gets the prefix "c", and the name part is
// truncated so the whole fits in 80 characters.
func CertificateName(name string, notAfter time.Time, fingerprintSHA1 string) string {
	fp := strings.ToLower(strings.ReplaceAll(fingerprintSHA1, ":", ""))
	var fb strings.Builder
	for _, r := range fp {
		if (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f') {
			fb.WriteRune(r)
		}
	}
	fp = fb.String()
	if len(fp) > 8 {
		fp = fp[:8]
	}
	suffix := "-" + notAfter.UTC().Format("20060102") + "-" + fp

	var b strings.Builder
	dash := false
	for _, r := range name {
		if isNameChar(r) {
			b.WriteRune(r)
			dash = false
		} else if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" || !isLetter(rune(base[0])) {
		base = "c" + base
	}
	if max := MaxCertificateNameLen - len(suffix); len(base) > max {
		base = strings.TrimRight(base[:max], "-")
	}
	return base + suffix
}

// ParseCertificateName splits a name made by CertificateName into its parts.
// ok is false when s does not end in "-<yyyymmdd>-<8 hex digits>".
func ParseCertificateName(s string) (name string, notAfterDay time.Time, fp8 string, ok bool) {
	const tail = 1 + 8 + 1 + 8
	if len(s) < tail+1 {
		return "", time.Time{}, "", false
	}
	base, rest := s[:len(s)-tail], s[len(s)-tail:]
	if rest[0] != '-' || rest[9] != '-' {
		return "", time.Time{}, "", false
	}
	day, err := time.Parse("20060102", rest[1:9])
	if err != nil {
		return "", time.Time{}, "", false
	}
	fp8 = rest[10:]
	if _, err := hex.DecodeString(fp8); err != nil || strings.ToLower(fp8) != fp8 {
		return "", time.Time{}, "", false
	}
	return base, day, fp8, true
}

func isLetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }

func isNameChar(r rune) bool {
	return isLetter(r) || (r >= '0' && r <= '9') || r == '.' || r == '_' || r == '-'
}
