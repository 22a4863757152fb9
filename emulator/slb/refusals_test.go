package slb

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
)

func TestRefusals(t *testing.T) {
	e := newEnv(t, Options{NoFrontends: true})
	testKeys(t)
	a := issue(t, rsaKeyA, "a.example.com")
	b := issue(t, rsaKeyB, "b.example.com")
	ec := issue(t, ecKey, "ec.example.com")
	c := e.client(zjk)
	hz := e.client("cn-hangzhou")

	lbID, err := e.s.SeedLoadBalancer(zjk, "lb")
	must(t, err)
	certA, err := e.s.SeedServerCertificate(zjk, "a", a.cert, a.key, nil)
	must(t, err)
	must(t, e.s.SeedHTTPSListener(zjk, lbID, 443, certA, false))
	hzCert, err := e.s.SeedServerCertificate("cn-hangzhou", "hz", b.cert, b.key, nil)
	must(t, err)
	hzLB, err := e.s.SeedLoadBalancer("cn-hangzhou", "hz")
	must(t, err)

	legacyEncrypted := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"
	pkcs8Encrypted := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
	upload := func(cert, key string) func() error {
		return func() error {
			r := sdkslb.CreateUploadServerCertificateRequest()
			r.ServerCertificate, r.PrivateKey, r.ServerCertificateName = cert, key, "x"
			_, err := c.UploadServerCertificate(r)
			return err
		}
	}
	listener := func(port int, cert string) func() error {
		return func() error {
			r := sdkslb.CreateCreateLoadBalancerHTTPSListenerRequest()
			r.LoadBalancerId, r.ListenerPort, r.BackendServerPort = lbID, itoa(port), itoa(80)
			r.Bandwidth, r.ServerCertificateId = itoa(-1), cert
			_, err := c.CreateLoadBalancerHTTPSListener(r)
			return err
		}
	}
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"pkcs8 rsa key", upload(a.cert, pkcs8(t, rsaKeyA)), "InvalidParameter"},
		{"ec certificate and key", upload(ec.cert, ec.key), "InvalidParameter"},
		{"ec key pkcs8", upload(ec.cert, pkcs8(t, ecKey)), "InvalidParameter"},
		{"encrypted legacy key", upload(a.cert, legacyEncrypted), "PrivateKeyEncryption"},
		{"encrypted pkcs8 key", upload(a.cert, pkcs8Encrypted), "PrivateKeyEncryption"},
		{"key of another certificate", upload(a.cert, b.key), "CertificateNotMatchPrivateKey"},
		{"garbage certificate", upload("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", a.key), "InvalidParameter"},
		{"empty key", upload(a.cert, ""), "InvalidParameter"},
		{"certificate of another region", listener(8443, hzCert), "ServerCertificateId.NotFound"},
		{"unknown certificate", listener(8443, "123_nope"), "ServerCertificateId.NotFound"},
		{"port in use", listener(443, certA), "ListenerAlreadyExists"},
		{"bad port", listener(70000, certA), "InvalidParameter"},
		{"set listener cert from another region", func() error {
			r := sdkslb.CreateSetLoadBalancerHTTPSListenerAttributeRequest()
			r.LoadBalancerId, r.ListenerPort, r.ServerCertificateId = lbID, itoa(443), hzCert
			_, err := c.SetLoadBalancerHTTPSListenerAttribute(r)
			return err
		}, "ServerCertificateId.NotFound"},
		{"unknown listener", func() error {
			r := sdkslb.CreateSetLoadBalancerHTTPSListenerAttributeRequest()
			r.LoadBalancerId, r.ListenerPort, r.ServerCertificateId = lbID, itoa(444), certA
			_, err := c.SetLoadBalancerHTTPSListenerAttribute(r)
			if err != nil && !strings.Contains(err.Error(), "The specified resource does not exist") {
				return fmt.Errorf("message lacks the documented text: %w", err)
			}
			return err
		}, "ListenerNotFound"},
		{"unknown load balancer", func() error {
			r := sdkslb.CreateDescribeLoadBalancerAttributeRequest()
			r.LoadBalancerId = "lb-nope"
			_, err := c.DescribeLoadBalancerAttribute(r)
			return err
		}, "InvalidLoadBalancerId.NotFound"},
		{"load balancer of another region", func() error {
			r := sdkslb.CreateDescribeLoadBalancerAttributeRequest()
			r.LoadBalancerId = hzLB
			_, err := c.DescribeLoadBalancerAttribute(r)
			return err
		}, "InvalidLoadBalancerId.NotFound"},
		{"unknown ecs instance", func() error {
			r := sdkslb.CreateAddBackendServersRequest()
			r.LoadBalancerId, r.BackendServers = lbID, `[{"ServerId":"i-unknown","Weight":"100"}]`
			_, err := c.AddBackendServers(r)
			return err
		}, "InvalidServerId.NotFound"},
		{"ecs instance of another region", func() error {
			r := sdkslb.CreateAddBackendServersRequest()
			r.LoadBalancerId, r.BackendServers = hzLB, `[{"ServerId":"i-8vb0local01"}]`
			_, err := hz.AddBackendServers(r)
			return err
		}, "InvalidServerId.NotFound"},
		{"malformed backends", func() error {
			r := sdkslb.CreateAddBackendServersRequest()
			r.LoadBalancerId, r.BackendServers = lbID, `{not json`
			_, err := c.AddBackendServers(r)
			return err
		}, "BackendServersMalformed"},
		{"referenced certificate", func() error {
			r := sdkslb.CreateDeleteServerCertificateRequest()
			r.ServerCertificateId = certA
			_, err := c.DeleteServerCertificate(r)
			return err
		}, "CertificateAndPrivateKeyIsRefered"},
		{"delete unknown certificate", func() error {
			r := sdkslb.CreateDeleteServerCertificateRequest()
			r.ServerCertificateId = "123_nope"
			_, err := c.DeleteServerCertificate(r)
			return err
		}, "ServerCertificateId.NotFound"},
		{"unknown domain extension", func() error {
			r := sdkslb.CreateSetDomainExtensionAttributeRequest()
			r.DomainExtensionId, r.ServerCertificateId = "de-nope", certA
			_, err := c.SetDomainExtensionAttribute(r)
			return err
		}, "InvalidParameter.DomainExtensionId"},
		{"bad domain", func() error {
			r := sdkslb.CreateCreateDomainExtensionRequest()
			r.LoadBalancerId, r.ListenerPort, r.Domain, r.ServerCertificateId = lbID, itoa(443), "not a domain", certA
			_, err := c.CreateDomainExtension(r)
			return err
		}, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.do(), tc.want) })
	}

	t.Run("new listener is stopped", func(t *testing.T) {
		l := e.s.Dump().Regions[zjk].LoadBalancers[0].Listeners[0]
		if l.Status != "stopped" {
			t.Fatalf("status %s", l.Status)
		}
	})
	t.Run("three domain extensions per listener", func(t *testing.T) {
		for i := 1; i <= 4; i++ {
			r := sdkslb.CreateCreateDomainExtensionRequest()
			r.LoadBalancerId, r.ListenerPort, r.ServerCertificateId = lbID, itoa(443), certA
			r.Domain = fmt.Sprintf("d%d.example.com", i)
			_, err := c.CreateDomainExtension(r)
			if i <= 3 {
				must(t, err)
			} else {
				wantCode(t, err, "DomainExtension.QuotaExceeded")
			}
		}
		r := sdkslb.CreateCreateDomainExtensionRequest()
		r.LoadBalancerId, r.ListenerPort, r.ServerCertificateId, r.Domain = lbID, itoa(443), certA, "d1.example.com"
		_, err := c.CreateDomainExtension(r)
		if got := code(err); got != "DomainAlreadyExists" && got != "DomainExtension.QuotaExceeded" {
			t.Fatalf("duplicate domain: %q", got)
		}
	})
	t.Run("certificate referenced by a domain extension", func(t *testing.T) {
		certB, err := e.s.SeedServerCertificate(zjk, "b", b.cert, b.key, nil)
		must(t, err)
		exts := e.s.Dump().Regions[zjk].LoadBalancers[0].Listeners[0].DomainExtensions
		r := sdkslb.CreateSetDomainExtensionAttributeRequest()
		r.DomainExtensionId, r.ServerCertificateId = exts[0].ID, certB
		_, err = c.SetDomainExtensionAttribute(r)
		must(t, err)
		d := sdkslb.CreateDeleteServerCertificateRequest()
		d.ServerCertificateId = certB
		_, err = c.DeleteServerCertificate(d)
		wantCode(t, err, "CertificateAndPrivateKeyIsRefered")
	})
	t.Run("100 certificates per region", func(t *testing.T) {
		n := len(e.s.Dump().Regions[zjk].Certificates)
		for i := n; i < MaxCertificatesPerRegion; i++ {
			_, err := e.s.SeedServerCertificate(zjk, fmt.Sprintf("c%d", i), a.cert, a.key, nil)
			must(t, err)
		}
		wantCode(t, upload(a.cert, a.key)(), "OverQuota")
		// Another region still has room.
		r := sdkslb.CreateUploadServerCertificateRequest()
		r.ServerCertificate, r.PrivateKey = a.cert, a.key
		_, err := hz.UploadServerCertificate(r)
		must(t, err)
	})
	t.Run("key sizes", func(t *testing.T) {
		blk, _ := pem.Decode([]byte(a.key))
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		must(t, err)
		if _, aerr := parseUpload(a.cert, a.key); aerr != nil || k.N.BitLen() != 2048 {
			t.Fatalf("2048-bit key refused: %v", aerr)
		}
	})
}
