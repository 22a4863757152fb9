package aliyun_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// The live tier (DESIGN §9): the adapters against a real Alibaba Cloud
// account. Skipped unless LIVE_ALIBABA_CLOUD=1, with credentials in
// ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET (/ _SECURITY_TOKEN).
//
//	LIVE_REGION=cn-zhangjiakou        region to read (default cn-zhangjiakou)
//	LIVE_ALIBABA_CLOUD_WRITE=1        also upload and delete a throwaway server certificate
//	LIVE_OSS_BUCKET=<bucket>          also put, read, list and delete live-test/<ts>.txt there
//
// Read-only by default; what it writes it deletes, and it never touches a
// listener.
func liveSetup(t *testing.T) (aliyun.Credentials, string) {
	t.Helper()
	if os.Getenv("LIVE_ALIBABA_CLOUD") != "1" {
		t.Skip("live test against a real Alibaba Cloud account: skipped (set LIVE_ALIBABA_CLOUD=1 and ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET to run it)")
	}
	creds, err := aliyun.CredentialsFromEnv(os.Getenv)
	if err != nil {
		t.Fatalf("LIVE_ALIBABA_CLOUD=1 but: %v", err)
	}
	region := os.Getenv("LIVE_REGION")
	if region == "" {
		region = "cn-zhangjiakou"
	}
	return creds, region
}

func TestLiveSLB(t *testing.T) {
	creds, region := liveSetup(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: os.Getenv("SLB_ENDPOINT")})

	certsBefore, err := s.ListServerCertificates(ctx, region)
	if err != nil {
		t.Fatalf("ListServerCertificates(%s): %v", region, err)
	}
	lbs, err := s.ListLoadBalancers(ctx, region)
	if err != nil {
		t.Fatalf("ListLoadBalancers(%s): %v", region, err)
	}
	ids := make([]string, 0, len(lbs))
	for _, lb := range lbs {
		ids = append(ids, lb.ID)
	}
	listeners, err := s.ListHTTPSListeners(ctx, region, ids)
	if err != nil {
		t.Fatalf("ListHTTPSListeners(%s, %d load balancers): %v", region, len(ids), err)
	}
	for _, l := range listeners {
		if l.Protocol != "" && l.Protocol != "https" {
			t.Errorf("ListHTTPSListeners returned a %s listener %s:%d", l.Protocol, l.LoadBalancerID, l.Port)
		}
	}
	t.Logf("%s: %d server certificates, %d load balancers, %d HTTPS listeners", region, len(certsBefore), len(lbs), len(listeners))

	if os.Getenv("LIVE_ALIBABA_CLOUD_WRITE") != "1" {
		t.Log("upload/delete round trip skipped (set LIVE_ALIBABA_CLOUD_WRITE=1)")
		return
	}
	now := time.Now()
	p := certstest.MustSelfSigned(certstest.Options{Domains: []string{"live-test.slb-cert-rotator.invalid"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(30 * 24 * time.Hour)})
	name := fmt.Sprintf("live-test-%d", now.Unix())
	up, err := s.UploadServerCertificate(ctx, region, name, string(p.CertPEM), string(p.KeyPEM), map[string]string{clb.OwnerTagKey: clb.OwnerTagValue})
	if err != nil {
		t.Fatalf("UploadServerCertificate: %v", err)
	}
	defer func() {
		if err := s.DeleteServerCertificate(context.Background(), region, up.ID); err != nil {
			t.Errorf("DeleteServerCertificate(%s): %v (delete %s by hand)", up.ID, err, name)
		}
	}()
	if !strings.EqualFold(up.Fingerprint, p.FingerprintSHA1) {
		t.Errorf("uploaded fingerprint %s, want %s", up.Fingerprint, p.FingerprintSHA1)
	}
	after, err := s.ListServerCertificates(ctx, region)
	if err != nil {
		t.Fatalf("ListServerCertificates after upload: %v", err)
	}
	found := false
	for _, c := range after {
		if c.ID == up.ID {
			found = true
			if !c.Ours() {
				t.Errorf("uploaded certificate %s does not carry the %s tag: %v", c.ID, clb.OwnerTagKey, c.Tags)
			}
		}
	}
	if !found {
		t.Errorf("uploaded certificate %s not listed", up.ID)
	}
}

func TestLiveOSS(t *testing.T) {
	creds, region := liveSetup(t)
	bucket := os.Getenv("LIVE_OSS_BUCKET")
	if bucket == "" {
		t.Skip("live OSS round trip skipped (set LIVE_OSS_BUCKET to a bucket the key may write to)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o, err := aliyun.NewOSS(creds, aliyun.OSSOptions{Endpoint: os.Getenv("OSS_ENDPOINT"), Region: region, V4: true})
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("live-test/%d.txt", time.Now().UnixNano())
	body := []byte("slb-cert-rotator live test\n")
	if err := o.Put(ctx, bucket, key, body, "text/plain"); err != nil {
		t.Fatalf("Put(%s): %v", key, err)
	}
	defer func() {
		if err := o.Delete(context.Background(), bucket, key); err != nil {
			t.Errorf("Delete(%s): %v", key, err)
		}
	}()
	got, err := o.Get(ctx, bucket, key, 1024)
	if err != nil || string(got) != string(body) {
		t.Fatalf("Get(%s) = %q, %v; want %q", key, got, err, body)
	}
	objs, err := o.List(ctx, bucket, "live-test/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	listed := false
	for _, obj := range objs {
		listed = listed || obj.Key == key
	}
	if !listed {
		t.Errorf("List(live-test/) does not show %s", key)
	}
}
