package expiry

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// Classes of a served certificate.
const (
	ClassOK       = "ok"
	ClassWarn     = "warn"
	ClassCritical = "critical"
	ClassExpired  = "expired"
)

// CriticalDays is the number of days left at or below which a certificate
// is critical.
const CriticalDays = 7

// DefaultWarnDays are the notification thresholds when the payload gives
// none (ACM-style).
var DefaultWarnDays = []int{45, 30, 14, 7, 3, 1}

// DaysLeft is the number of whole days from now until notAfter (rounded
// down); negative once expired.
func DaysLeft(now, notAfter time.Time) int {
	d := notAfter.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// Classify returns the class of a certificate that expires at notAfter:
// expired when notAfter is not after now, critical with CriticalDays or
// fewer whole days left, warn at or below the largest warn threshold, ok
// otherwise.
func Classify(now, notAfter time.Time, warnDays []int) string {
	if !notAfter.After(now) {
		return ClassExpired
	}
	left := DaysLeft(now, notAfter)
	switch {
	case left <= CriticalDays:
		return ClassCritical
	case len(warnDays) > 0 && left <= maxInt(warnDays):
		return ClassWarn
	}
	return ClassOK
}

// Level is the threshold a certificate has crossed: the smallest warn day
// that is at least its days left; 0 once expired; -1 when no threshold is
// crossed. Notifications are sent once per level (levels only go down).
func Level(now, notAfter time.Time, warnDays []int) int {
	if !notAfter.After(now) {
		return 0
	}
	left := DaysLeft(now, notAfter)
	level := -1
	for _, w := range warnDays {
		if left <= w && (level < 0 || w < level) {
			level = w
		}
	}
	return level
}

func maxInt(v []int) int {
	m := v[0]
	for _, x := range v[1:] {
		if x > m {
			m = x
		}
	}
	return m
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

// covers reports whether a certificate for the DNS name pattern (possibly a
// left-most wildcard, RFC 6125 §6.4.3) serves name. A wildcard covers
// exactly one label: *.example.com covers a.example.com, not example.com nor
// a.b.example.com. A wildcard name is covered only by the same wildcard.
func covers(pattern, name string) bool {
	p := strings.ToLower(strings.TrimSuffix(pattern, "."))
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if p == "" || n == "" {
		return false
	}
	if p == n {
		return true
	}
	if !strings.HasPrefix(p, "*.") || strings.HasPrefix(n, "*.") {
		return false
	}
	i := strings.IndexByte(n, '.')
	return i > 0 && n[i+1:] == p[2:]
}

// coversAll reports whether the names cover every domain in domains.
func coversAll(names, domains []string) bool {
	if len(domains) == 0 {
		return false
	}
	for _, d := range domains {
		ok := false
		for _, n := range names {
			if covers(n, d) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// normalizeFingerprint lower-cases a SHA-1 fingerprint and removes its
// separators so that "AB:CD" and "abcd" compare equal.
func normalizeFingerprint(fp string) string {
	return strings.ToLower(strings.NewReplacer(":", "", "-", "", " ", "").Replace(fp))
}

// probeName is the SNI used to reach a domain extension: the domain itself,
// or for a wildcard a name it covers.
func probeName(domain string) string {
	if strings.HasPrefix(domain, "*.") {
		return "probe" + domain[1:]
	}
	return domain
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
