package rotation

import "testing"

func TestSameFingerprint(t *testing.T) {
	const fp = "68:08:1a:bc:de:f0:12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc"
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{fp, fp, true},
		{"68:08:1A:BC:DE:F0:12:34:56:78:9A:BC:DE:F0:12:34:56:78:9A:BC", fp, true},
		{"68081abcdef0123456789abcdef0123456789abc", fp, true},
		{"", "", false},
		{"", fp, false},
		{fp, "69:08:1a:bc:de:f0:12:34:56:78:9a:bc:de:f0:12:34:56:78:9a:bc", false},
	} {
		if got := sameFingerprint(c.a, c.b); got != c.want {
			t.Errorf("sameFingerprint(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
