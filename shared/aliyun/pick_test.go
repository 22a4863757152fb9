package aliyun

import (
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// TestPickUploaded: the certificate an upload made is found by fingerprint
// whatever the case or separators the listing uses, the one with the
// upload's name first; an empty fingerprint matches nothing.
func TestPickUploaded(t *testing.T) {
	const colon = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01"
	const bare = "ABCDEF0123456789ABCDEF0123456789ABCDEF01"
	list := []clb.ServerCertificate{
		{ID: "sc-other", Name: "other", Fingerprint: "11:22"},
		{ID: "sc-dup", Name: "www-dup", Fingerprint: bare},
		{ID: "sc-www", Name: "www", Fingerprint: bare},
		{ID: "sc-blank", Name: "blank", Fingerprint: ""},
	}
	tests := []struct {
		name, want, fp string
		ok             bool
	}{
		{"www", "sc-www", colon, true},    // the listing shows bare upper case, the upload colons
		{"absent", "sc-dup", colon, true}, // no name match: the first with the fingerprint
		{"www", "sc-www", "AB-CD-EF-01-23-45-67-89-AB-CD-EF-01-23-45-67-89-AB-CD-EF-01", true},
		{"blank", "", "", false}, // an empty fingerprint is no match
		{"www", "", "ff:ff", false},
	}
	for _, tt := range tests {
		got, ok := pickUploaded(list, tt.name, tt.fp)
		if ok != tt.ok || got.ID != tt.want {
			t.Errorf("pickUploaded(%q, %q) = %s %v; want %s %v", tt.name, tt.fp, got.ID, ok, tt.want, tt.ok)
		}
	}
}
