package rotation_test

import (
	"context"
	"sync"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

func TestRotateConcurrentHalvesUploadOnce(t *testing.T) {
	w := newWorld(t)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
	w.putPair("www", issue(t, "www.example.com"))
	var wg sync.WaitGroup
	results := make([]rotation.Result, 4)
	errs := make([]error, 4)
	for i, key := range []string{"certs/www/fullchain.pem", "certs/www/privkey.pem", "certs/www/fullchain.pem", "certs/www/privkey.pem"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Key: key})
		}()
	}
	wg.Wait()
	rotated := 0
	for i, res := range results {
		if errs[i] != nil {
			t.Fatalf("rotation %d: %v", i, errs[i])
		}
		if res.Status == rotation.StatusRotated {
			rotated++
		}
	}
	if rotated != 1 || w.slb.Calls("UploadServerCertificate") != 1 {
		t.Errorf("rotated %d times, %d uploads; want 1 and 1", rotated, w.slb.Calls("UploadServerCertificate"))
	}
}

// racingSLB simulates another instance uploading the same pair at the same
// moment (with a lower id).
type racingSLB struct {
	*clbtest.SLB
	once sync.Once
}

func (r *racingSLB) UploadServerCertificate(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error) {
	r.once.Do(func() {
		c, _ := clbtest.CertificateFromPEM(region, name, certPEM)
		c.ID, c.Tags = "cert-0000", tags
		r.SLB.AddCertificate(c)
	})
	return r.SLB.UploadServerCertificate(ctx, region, name, certPEM, keyPEM, tags)
}

func TestRotateConvergesOnConcurrentUploadFromAnotherInstance(t *testing.T) {
	w := newWorld(t)
	w.r.SLB = &racingSLB{SLB: w.slb}
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
	p := issue(t, "www.example.com")
	w.putPair("www", p)
	res := w.rotate(t, "certs/www/fullchain.pem")
	if res.Status != rotation.StatusRotated || res.Regions[zjk].ServerCertificateID != "cert-0000" {
		t.Fatalf("status %s regions %+v", res.Status, res.Regions)
	}
	n := 0
	for _, c := range w.slb.Certificates(zjk) {
		if c.Fingerprint == p.FingerprintSHA1 {
			n++
		}
	}
	if n != 1 || w.slb.ListenerCertificate(zjk, "lb-1", 443) != "cert-0000" {
		t.Errorf("%d certificates with the fingerprint; listener on %s", n, w.slb.ListenerCertificate(zjk, "lb-1", 443))
	}
}
