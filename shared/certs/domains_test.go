package certs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

func TestMatches(t *testing.T) {
	tests := []struct {
		pattern, host string
		want          bool
	}{
		{"example.com", "example.com", true},
		{"Example.COM", "example.com", true},
		{"example.com", "EXAMPLE.com", true},
		{"example.com.", "example.com", true},
		{"example.com", "example.com.", true},
		{"example.com", "www.example.com", false},
		{"www.example.com", "example.com", false},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "A.Example.Com", true},
		{"*.EXAMPLE.com.", "a.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", ".example.com", false},
		{"*.example.com", "a.example.org", false},
		{"*.example.com", "aexample.com", false},
		{"*.example.com", "*.example.com", true},
		{"*.example.com", "*.a.example.com", false},
		{"*.a.example.com", "*.example.com", false},
		{"a.example.com", "*.example.com", false},
		{"*.com", "example.com", false},
		{"*", "example.com", false},
		{"f*.example.com", "foo.example.com", false},
		{"*foo.example.com", "afoo.example.com", false},
		{"a.*.example.com", "a.b.example.com", false},
		{"*.*.example.com", "a.b.example.com", false},
		{"*.xn--mnchen-3ya.de", "www.xn--mnchen-3ya.de", true},
		{"xn--mnchen-3ya.de", "XN--MNCHEN-3YA.DE", true},
		{"*.xn--mnchen-3ya.de", "www.münchen.de", false},
		{"", "", false},
		{"example.com", "", false},
		{"", "example.com", false},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"~"+tc.host, func(t *testing.T) {
			if got := certs.Matches(tc.pattern, tc.host); got != tc.want {
				t.Fatalf("Matches(%q, %q) = %v, want %v", tc.pattern, tc.host, got, tc.want)
			}
		})
	}
}

func TestCovers(t *testing.T) {
	tests := []struct {
		name          string
		new, existing []string
		want          bool
	}{
		{"same single", []string{"www.example.com"}, []string{"www.example.com"}, true},
		{"superset", []string{"www.example.com", "api.example.com"}, []string{"www.example.com"}, true},
		{"subset loses a name", []string{"www.example.com"}, []string{"www.example.com", "api.example.com"}, false},
		{"wildcard covers names", []string{"*.example.com"}, []string{"www.example.com", "api.example.com"}, true},
		{"wildcard does not cover apex", []string{"*.example.com"}, []string{"example.com", "www.example.com"}, false},
		{"wildcard plus apex", []string{"example.com", "*.example.com"}, []string{"example.com", "www.example.com"}, true},
		{"wildcard does not cover two levels", []string{"*.example.com"}, []string{"a.b.example.com"}, false},
		{"existing wildcard needs the same wildcard", []string{"www.example.com", "api.example.com"}, []string{"*.example.com"}, false},
		{"existing wildcard covered by itself", []string{"*.example.com"}, []string{"*.EXAMPLE.com"}, true},
		{"existing wildcard not covered by a wider level", []string{"*.example.com"}, []string{"*.a.example.com"}, false},
		{"case and trailing dot", []string{"WWW.example.com."}, []string{"www.EXAMPLE.com"}, true},
		{"other domain", []string{"www.example.org"}, []string{"www.example.com"}, false},
		{"nothing to cover", []string{"www.example.com"}, nil, false},
		{"nothing covering", nil, []string{"www.example.com"}, false},
		{"punycode as is", []string{"*.xn--fiqs8s.example"}, []string{"a.xn--fiqs8s.example"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := certs.Covers(tc.new, tc.existing); got != tc.want {
				t.Fatalf("Covers(%v, %v) = %v, want %v", tc.new, tc.existing, got, tc.want)
			}
		})
	}
}

func TestCertificateName(t *testing.T) {
	day := time.Date(2030, 9, 1, 23, 30, 0, 0, time.FixedZone("CST", 8*3600)) // 2030-09-01 15:30 UTC
	fp := "68:08:1A:f8:2c:97:69:a3:a1:e6:16:41:4b:ca:4f:5d:ee:a5:ef:0d"
	tests := []struct {
		name, in, want string
	}{
		{"plain", "www", "www-20300901-68081af8"},
		{"dots and underscores kept", "www.example_com", "www.example_com-20300901-68081af8"},
		{"spaces and slashes", "my site/prod", "my-site-prod-20300901-68081af8"},
		{"runs collapse", "a  //  b", "a-b-20300901-68081af8"},
		{"non-ASCII", "证书www", "www-20300901-68081af8"},
		{"only non-ASCII", "证书", "c-20300901-68081af8"},
		{"leading digit", "1password", "c1password-20300901-68081af8"},
		{"leading dot", ".hidden", "c.hidden-20300901-68081af8"},
		{"empty", "", "c-20300901-68081af8"},
		{"wildcard name", "*.example.com", "c.example.com-20300901-68081af8"},
		{"long", strings.Repeat("a", 100), strings.Repeat("a", 62) + "-20300901-68081af8"},
		{"long with a dash at the cut", strings.Repeat("a", 61) + "-bbbb", strings.Repeat("a", 61) + "-20300901-68081af8"},
	}
	valid := func(s string) bool {
		if len(s) < 1 || len(s) > 80 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
			return false
		}
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return false
			}
		}
		return true
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := certs.CertificateName(tc.in, day, fp)
			if got != tc.want {
				t.Fatalf("CertificateName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !valid(got) {
				t.Fatalf("%q breaks SLB's naming rule", got)
			}
			base, d, fp8, ok := certs.ParseCertificateName(got)
			if !ok || fp8 != "68081af8" || !d.Equal(time.Date(2030, 9, 1, 0, 0, 0, 0, time.UTC)) || !strings.HasPrefix(got, base+"-") {
				t.Fatalf("ParseCertificateName(%q) = %q %v %q %v", got, base, d, fp8, ok)
			}
		})
	}
}

func TestParseCertificateNameRejectsForeignNames(t *testing.T) {
	for _, s := range []string{"", "www", "my-cert", "www-2030091-68081af8", "www-20301301-68081af8", "www-20300901-68081AF8", "www-20300901-68081af", "www_20300901_68081af8", "-20300901-68081af8"} {
		if _, _, _, ok := certs.ParseCertificateName(s); ok {
			t.Errorf("ParseCertificateName(%q) ok, want not ours", s)
		}
	}
}

func TestFingerprints(t *testing.T) {
	der := []byte("abc")
	if got, want := certs.FingerprintSHA1(der), "a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d"; got != want {
		t.Fatalf("FingerprintSHA1 = %s, want %s", got, want)
	}
	if got, want := certs.SHA256(der), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("SHA256 = %s, want %s", got, want)
	}
	for in, want := range map[string]string{
		"A9993E364706816ABA3E25717850C26C9CD0D89D":                    "a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d",
		"A9:99:3E:36:47:06:81:6A:BA:3E:25:71:78:50:C2:6C:9C:D0:D8:9D": "a9:99:3e:36:47:06:81:6a:ba:3e:25:71:78:50:c2:6c:9c:d0:d8:9d",
		"not-a-fingerprint": "not-a-fingerprint",
	} {
		if got := certs.NormalizeFingerprint(in); got != want {
			t.Errorf("NormalizeFingerprint(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassifyExpiry(t *testing.T) {
	warn := []int{30, 14, 7}
	day := 24 * time.Hour
	tests := []struct {
		name      string
		notAfter  time.Time
		warnDays  []int
		wantClass string
		wantDays  int
	}{
		{"far", now.Add(90 * day), warn, "ok", 90},
		{"31 days", now.Add(31 * day), warn, "ok", 31},
		{"30 days exactly", now.Add(30 * day), warn, "warn", 30},
		{"30 days and an hour", now.Add(30*day + time.Hour), warn, "warn", 30},
		{"8 days", now.Add(8 * day), warn, "warn", 8},
		{"7 days and 23 hours", now.Add(8*day - time.Hour), warn, "critical", 7},
		{"7 days exactly", now.Add(7 * day), warn, "critical", 7},
		{"one hour", now.Add(time.Hour), warn, "critical", 0},
		{"NotAfter is now", now, warn, "critical", 0},
		{"one second ago", now.Add(-time.Second), warn, "expired", -1},
		{"two days ago", now.Add(-2 * day), warn, "expired", -2},
		{"no warn days", now.Add(20 * day), nil, "ok", 20},
		{"no warn days but critical", now.Add(3 * day), nil, "critical", 3},
		{"unsorted warn days", now.Add(45 * day), []int{7, 60, 30}, "warn", 45},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			class, days := certs.ClassifyExpiry(now, tc.notAfter, tc.warnDays)
			if class != tc.wantClass || days != tc.wantDays {
				t.Fatalf("ClassifyExpiry = %s %d, want %s %d", class, days, tc.wantClass, tc.wantDays)
			}
		})
	}
}

func TestCrossedThreshold(t *testing.T) {
	warn := []int{30, 14, 7, 1}
	day := 24 * time.Hour
	tests := []struct {
		name     string
		notAfter time.Time
		warnDays []int
		want     int
		ok       bool
	}{
		{"none crossed", now.Add(31 * day), warn, 0, false},
		{"30 exactly", now.Add(30 * day), warn, 30, true},
		{"between 30 and 14", now.Add(20 * day), warn, 30, true},
		{"14 exactly", now.Add(14 * day), warn, 14, true},
		{"13 days 23 hours", now.Add(14*day - time.Hour), warn, 14, true},
		{"7", now.Add(7 * day), warn, 7, true},
		{"1", now.Add(day), warn, 1, true},
		{"hours left", now.Add(time.Hour), warn, 1, true},
		{"expired", now.Add(-day), warn, 1, true},
		{"unsorted", now.Add(10 * day), []int{7, 30, 14}, 14, true},
		{"no thresholds", now.Add(time.Hour), nil, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := certs.CrossedThreshold(now, tc.notAfter, tc.warnDays)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("CrossedThreshold = %d %v, want %d %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestHandshakeName(t *testing.T) {
	for _, tt := range []struct{ domain, want string }{
		{"api.example.com", "api.example.com"},
		{"*.example.com", "www.example.com"},
		{"*.api.example.com", "www.api.example.com"},
	} {
		got := certs.HandshakeName(tt.domain)
		if got != tt.want || !certs.Matches(tt.domain, got) {
			t.Errorf("HandshakeName(%q) = %q (matched by it: %v); want %q", tt.domain, got, certs.Matches(tt.domain, got), tt.want)
		}
	}
}
