package expiry

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// Classes of a served certificate.
const (
	ClassOK       = certs.ClassOK
	ClassWarn     = certs.ClassWarn
	ClassCritical = certs.ClassCritical
	ClassExpired  = certs.ClassExpired
)

// CriticalDays is the number of days left at or below which a certificate
// is critical.
const CriticalDays = certs.CriticalDays

// DefaultWarnDays are the notification thresholds when the payload gives
// none (ACM-style).
var DefaultWarnDays = []int{45, 30, 14, 7, 3, 1}

// DaysLeft is the number of whole days from now until notAfter (rounded
// down); negative once expired (certs.DaysLeft).
func DaysLeft(now, notAfter time.Time) int { return certs.DaysLeft(now, notAfter) }

// Classify returns the class of a certificate that expires at notAfter
// (certs.ClassifyExpiry): expired once now is after notAfter (a certificate
// is valid through its NotAfter second), critical with CriticalDays or
// fewer whole days left, warn at or below the largest warn threshold, ok
// otherwise.
func Classify(now, notAfter time.Time, warnDays []int) string {
	class, _ := certs.ClassifyExpiry(now, notAfter, warnDays)
	return class
}

// Level is the threshold a certificate has crossed: the smallest warn day
// that is at least its days left (certs.CrossedThreshold); 0 once expired;
// -1 when no threshold is crossed. Notifications are sent once per level
// (levels only go down).
func Level(now, notAfter time.Time, warnDays []int) int {
	if now.After(notAfter) {
		return 0
	}
	if t, ok := certs.CrossedThreshold(now, notAfter, warnDays); ok {
		return t
	}
	return -1
}

// normalizeWarnDays sorts descending and removes duplicates.
func normalizeWarnDays(v []int) []int {
	out := append([]int(nil), v...)
	sort.Sort(sort.Reverse(sort.IntSlice(out)))
	j := 0
	for i, x := range out {
		if i == 0 || x != out[j-1] {
			out[j] = x
			j++
		}
	}
	return out[:j]
}

// coversAll reports whether the names cover every domain in domains
// (RFC 6125 wildcards, certs.Covers); false when domains is empty.
func coversAll(names, domains []string) bool { return certs.Covers(names, domains) }

// normalizeFingerprint lower-cases a SHA-1 fingerprint and removes its
// separators so that "AB:CD" and "abcd" compare equal.
func normalizeFingerprint(fp string) string {
	return strings.ToLower(strings.NewReplacer(":", "", "-", "", " ", "").Replace(fp))
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
