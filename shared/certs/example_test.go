package certs_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

func ExampleParse() {
	now := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	ca := certstest.NewCA(nil, "Example CA").Intermediate(nil, "Example Intermediate")
	pair := ca.MustIssue(certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now, NotAfter: now.AddDate(0, 0, 90), Chain: true, PKCS8: true})

	b, err := certs.Parse(now, certs.Options{MinValidDays: 7},
		certs.File{Name: "certs/www/privkey.pem", Data: pair.KeyPEM},
		certs.File{Name: "certs/www/fullchain.pem", Data: pair.CertPEM})
	if errors.Is(err, certs.ErrKeyMismatch) {
		fmt.Println("waiting for the other half")
		return
	}
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	fmt.Println(b.Domains, len(b.Intermediates), b.KeyConverted, b.Key)
	fmt.Println(certs.CertificateName("www", b.NotAfter, "68:08:1a:f8:2c:97:69:a3:a1:e6:16:41:4b:ca:4f:5d:ee:a5:ef:0d"))
	// Output:
	// [www.example.com] 1 true [REDACTED]
	// www-20300830-68081af8
}

func ExampleCovers() {
	fmt.Println(certs.Covers([]string{"*.example.com"}, []string{"www.example.com", "api.example.com"}))
	fmt.Println(certs.Covers([]string{"*.example.com"}, []string{"example.com"}))
	// Output:
	// true
	// false
}
