package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// certCmd writes a test pair for domain into dir (fullchain.pem, leaf then
// intermediate, and privkey.pem), issued by a throwaway CA and valid for
// days: something to drop into the local bucket.
func certCmd(domain, dir string, days int, stdout io.Writer) error {
	root, err := certstest.NewCAErr("localcloud test root")
	if err != nil {
		return err
	}
	inter, err := root.IntermediateErr("localcloud test intermediate")
	if err != nil {
		return err
	}
	now := time.Now()
	p, err := inter.IssueErr(certstest.Options{Domains: []string{domain}, NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 0, days), Chain: true})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "fullchain.pem"), p.CertPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "privkey.pem"), p.KeyPEM, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s: CN=%s notAfter=%s sha1=%s\n", filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem"),
		domain, p.Leaf.NotAfter.UTC().Format("2006-01-02"), p.FingerprintSHA1)
	return nil
}
