package aliyun

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	slbemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

func rsaPair(t *testing.T, serial int64, names ...string) (string, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// TestAgainstLocalSLB drives the adapter (and the real SDK under it) through
// a provisioning and rotation lifecycle on the local cloud's SLB.
func TestAgainstLocalSLB(t *testing.T) {
	emu, err := slbemu.New(slbemu.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(func() { srv.Close(); _ = emu.Close() })
	var sts slbemu.Account
	for _, a := range slbemu.DefaultAccounts() {
		if a.SecurityToken != "" {
			sts = a
		}
	}
	s := NewSLB(Credentials{AccessKeyID: sts.AccessKeyID, AccessKeySecret: sts.AccessKeySecret, SecurityToken: sts.SecurityToken},
		SLBOptions{Endpoint: srv.URL, Retry: fastRetry, Timeout: 5 * time.Second})
	ctx := context.Background()
	const region = "cn-zhangjiakou"

	spec := clb.LoadBalancerSpec{Name: "web", AddressType: "internet", Spec: "slb.s1.small", PayType: "PayOnDemand", Tags: map[string]string{"app": "web"}}
	lb, err := s.CreateLoadBalancer(ctx, region, spec, "token-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.CreateLoadBalancer(ctx, region, spec, "token-1")
	if err != nil || again.ID != lb.ID {
		t.Fatalf("same client token: %+v, %v; want %s", again, err, lb.ID)
	}
	lbs, err := s.ListLoadBalancers(ctx, region)
	if err != nil || len(lbs) != 1 || lbs[0].ID != lb.ID || lbs[0].Tags["app"] != "web" {
		t.Fatalf("ListLoadBalancers = %+v, %v", lbs, err)
	}

	inst := slbemu.DefaultInstances[0].ID
	if err := s.AddBackendServers(ctx, region, lb.ID, []clb.Backend{{ServerID: inst, Weight: 100}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddBackendServers(ctx, region, lb.ID, []clb.Backend{{ServerID: inst, Weight: 50}}); err != nil {
		t.Fatal(err)
	}
	desc, backends, err := s.DescribeLoadBalancer(ctx, region, lb.ID)
	if err != nil || len(backends) != 1 || backends[0].Weight != 50 || desc.Address == "" {
		t.Fatalf("DescribeLoadBalancer = %+v %+v, %v", desc, backends, err)
	}

	certA, keyA := rsaPair(t, 1, "a.example.com")
	certB, keyB := rsaPair(t, 2, "a.example.com", "b.example.com")
	owner := map[string]string{clb.OwnerTagKey: clb.OwnerTagValue}
	ca, err := s.UploadServerCertificate(ctx, region, "site-a", certA, keyA, owner)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Fingerprint != LeafFingerprint(certA) {
		t.Errorf("fingerprint %q, want %q", ca.Fingerprint, LeafFingerprint(certA))
	}
	cb, err := s.UploadServerCertificate(ctx, region, "site-b", certB, keyB, owner)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := s.ListServerCertificates(ctx, region)
	if err != nil || len(certs) != 2 || !certs[0].Ours() || certs[0].ExpireTime.IsZero() {
		t.Fatalf("ListServerCertificates = %+v, %v", certs, err)
	}

	if err := s.CreateHTTPSListener(ctx, region, clb.Listener{LoadBalancerID: lb.ID, Port: 443, BackendPort: 80, ServerCertificateID: ca.ID, HealthCheck: "on"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateHTTPSListener(ctx, region, clb.Listener{LoadBalancerID: lb.ID, Port: 443, BackendPort: 80, ServerCertificateID: ca.ID}); !errors.Is(err, apierr.ErrConflict) {
		t.Errorf("second listener on 443: %v, want ErrConflict", err)
	}
	if err := s.StartListener(ctx, region, lb.ID, 443); err != nil {
		t.Fatal(err)
	}
	ls, err := s.ListHTTPSListeners(ctx, region, []string{lb.ID})
	if err != nil || len(ls) != 1 || ls[0].ServerCertificateID != ca.ID {
		t.Fatalf("ListHTTPSListeners = %+v, %v", ls, err)
	}

	if err := s.SetListenerCertificate(ctx, region, lb.ID, 443, cb.ID); err != nil {
		t.Fatal(err)
	}
	extID, err := s.CreateDomainExtension(ctx, region, lb.ID, 443, "b.example.com", cb.ID)
	if err != nil || extID == "" {
		t.Fatalf("CreateDomainExtension = %q, %v", extID, err)
	}
	if err := s.SetDomainExtensionCertificate(ctx, region, extID, ca.ID); err != nil {
		t.Fatal(err)
	}
	l, exts, err := s.DescribeHTTPSListener(ctx, region, lb.ID, 443)
	if err != nil || l.ServerCertificateID != cb.ID || len(exts) != 1 || exts[0].ServerCertificateID != ca.ID {
		t.Fatalf("DescribeHTTPSListener = %+v %+v, %v", l, exts, err)
	}

	// the local cloud serves the listener: the probe sees the new default
	// certificate, and the extension's for its SNI name.
	deadline := time.Now().Add(3 * time.Second)
	var def, sni tlsprobe.Result
	for time.Now().Before(deadline) {
		def = tlsprobe.Probe(ctx, desc.Address, 443, "a.example.com", time.Second)
		sni = tlsprobe.Probe(ctx, desc.Address, 443, "b.example.com", time.Second)
		if def.FingerprintSHA1 == cb.Fingerprint && sni.FingerprintSHA1 == ca.Fingerprint {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if def.FingerprintSHA1 != cb.Fingerprint || sni.FingerprintSHA1 != ca.Fingerprint {
		t.Errorf("served default %q (err %q) / SNI %q; want %q / %q", def.FingerprintSHA1, def.Err, sni.FingerprintSHA1, cb.Fingerprint, ca.Fingerprint)
	}

	if err := s.DeleteServerCertificate(ctx, region, ca.ID); !errors.Is(err, apierr.ErrConflict) {
		t.Errorf("deleting a referenced certificate: %v, want ErrConflict", err)
	}
	if err := s.DeleteDomainExtension(ctx, region, extID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteServerCertificate(ctx, region, ca.ID); err != nil {
		t.Errorf("delete unreferenced: %v", err)
	}
	if err := s.DeleteServerCertificate(ctx, region, ca.ID); err != nil {
		t.Errorf("delete twice: %v", err)
	}
	if err := s.RemoveBackendServers(ctx, region, lb.ID, []string{inst}); err != nil {
		t.Fatal(err)
	}
	if err := s.StopListener(ctx, region, lb.ID, 443); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteListener(ctx, region, lb.ID, 443); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.DescribeHTTPSListener(ctx, region, lb.ID, 443); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("deleted listener: %v, want ErrNotFound", err)
	}
	if err := s.DeleteLoadBalancer(ctx, region, lb.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLoadBalancer(ctx, region, lb.ID); err != nil {
		t.Errorf("delete twice: %v", err)
	}
	if _, _, err := s.DescribeLoadBalancer(ctx, region, lb.ID); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("deleted load balancer: %v, want ErrNotFound", err)
	}
}
