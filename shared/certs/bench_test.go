package certs_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// BenchmarkParse measures Parse on a leaf + two intermediates + root
// bundle given in reverse order with the key last (the most work Parse
// does for a valid input).
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "good", "reversed-chain-with-root.pem"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := certs.Parse(now, certs.Options{}, certs.File{Name: "bundle.pem", Data: data}); err != nil {
			b.Fatal(err)
		}
	}
}
