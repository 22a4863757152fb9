package certs

import (
	"slices"
	"time"
)

// Expiry classes returned by ClassifyExpiry.
const (
	ClassOK       = "ok"
	ClassWarn     = "warn"
	ClassCritical = "critical"
	ClassExpired  = "expired"
)

// CriticalDays is the days-left at or under which a certificate is critical.
const CriticalDays = 7

// DaysLeft returns the whole days from now until notAfter, rounded down
// (negative once expired: one hour past NotAfter is -1).
func DaysLeft(now, notAfter time.Time) int {
	d := notAfter.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// ClassifyExpiry returns the class of a certificate ending at notAfter:
// "expired" once now is after notAfter (a certificate is valid through its
// NotAfter second, as in X.509), "critical" with CriticalDays (7) or fewer
// days left, "warn" with max(warnDays) or fewer, otherwise "ok"; and the
// days left (see DaysLeft).
func ClassifyExpiry(now, notAfter time.Time, warnDays []int) (class string, daysLeft int) {
	daysLeft = DaysLeft(now, notAfter)
	switch {
	case now.After(notAfter):
		return ClassExpired, daysLeft
	case daysLeft <= CriticalDays:
		return ClassCritical, daysLeft
	case len(warnDays) > 0 && daysLeft <= slices.Max(warnDays):
		return ClassWarn, daysLeft
	}
	return ClassOK, daysLeft
}

// CrossedThreshold returns the smallest threshold t in warnDays with
// daysLeft <= t, so a notifier can remember the last threshold it reported
// and notify once per threshold. ok is false when no threshold is crossed.
func CrossedThreshold(now, notAfter time.Time, warnDays []int) (threshold int, ok bool) {
	left := DaysLeft(now, notAfter)
	for _, t := range warnDays {
		if left <= t && (!ok || t < threshold) {
			threshold, ok = t, true
		}
	}
	return threshold, ok
}
