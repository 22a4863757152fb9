package slb

import (
	"crypto/tls"
	"fmt"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
)

func TestLiveFrontends(t *testing.T) {
	e := newEnv(t, Options{AddressBase: RandomAddressBase()})
	testKeys(t)
	c := e.client(zjk)
	upload := func(p pair, name string) string {
		r := sdkslb.CreateUploadServerCertificateRequest()
		r.ServerCertificate, r.PrivateKey, r.ServerCertificateName = p.cert, p.key, name
		resp, err := c.UploadServerCertificate(r)
		must(t, err)
		return resp.ServerCertificateId
	}
	pa, pb := issue(t, rsaKeyA, "default-a.example.net"), issue(t, rsaKeyB, "default-b.example.net")
	pc, pd := issue(t, rsaKeyA, "www.example.com"), issue(t, rsaKeyB, "*.example.org")
	certA, certB, certC, certD := upload(pa, "a"), upload(pb, "b"), upload(pc, "c"), upload(pd, "d")
	fpA, fpB, fpC, fpD := Fingerprint(pa.der), Fingerprint(pb.der), Fingerprint(pc.der), Fingerprint(pd.der)

	cr := sdkslb.CreateCreateLoadBalancerRequest()
	cr.LoadBalancerName = "live"
	lb, err := c.CreateLoadBalancer(cr)
	must(t, err)
	addr := lb.Address
	ab := sdkslb.CreateAddBackendServersRequest()
	ab.LoadBalancerId, ab.BackendServers = lb.LoadBalancerId, `[{"ServerId":"i-8vb0local01","Weight":"100"}]`
	_, err = c.AddBackendServers(ab)
	must(t, err)
	cl := sdkslb.CreateCreateLoadBalancerHTTPSListenerRequest()
	cl.LoadBalancerId, cl.ListenerPort, cl.BackendServerPort, cl.ServerCertificateId = lb.LoadBalancerId, itoa(443), itoa(80), certA
	_, err = c.CreateLoadBalancerHTTPSListener(cl)
	must(t, err)

	expect := func(t *testing.T, sni, want string) {
		t.Helper()
		got, err := served(t, addr, 443, sni)
		if err != nil {
			t.Fatalf("handshake (SNI %q): %v", sni, err)
		}
		if got != want {
			t.Fatalf("SNI %q served %s, want %s", sni, got, want)
		}
	}
	expectClosed := func(t *testing.T) {
		t.Helper()
		if _, err := served(t, addr, 443, ""); err == nil {
			t.Fatal("frontend still answers")
		}
	}
	listenerCall := func(fn func(id string, port int) error) { must(t, fn(lb.LoadBalancerId, 443)) }
	start := func(id string, port int) error {
		r := sdkslb.CreateStartLoadBalancerListenerRequest()
		r.LoadBalancerId, r.ListenerPort = id, itoa(port)
		_, err := c.StartLoadBalancerListener(r)
		return err
	}
	stop := func(id string, port int) error {
		r := sdkslb.CreateStopLoadBalancerListenerRequest()
		r.LoadBalancerId, r.ListenerPort = id, itoa(port)
		_, err := c.StopLoadBalancerListener(r)
		return err
	}
	setCert := func(cert string) {
		r := sdkslb.CreateSetLoadBalancerHTTPSListenerAttributeRequest()
		r.LoadBalancerId, r.ListenerPort, r.ServerCertificateId = lb.LoadBalancerId, itoa(443), cert
		_, err := c.SetLoadBalancerHTTPSListenerAttribute(r)
		must(t, err)
	}

	t.Run("stopped listener does not listen", expectClosed)
	listenerCall(start)
	t.Run("serves the default certificate", func(t *testing.T) { expect(t, "", fpA) })
	t.Run("forwards to the backend stand-in", func(t *testing.T) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + net.JoinHostPort(addr, "443") + "/hello")
		must(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "backend i-8vb0local01\n" {
			t.Fatalf("status %d body %q", resp.StatusCode, body)
		}
	})
	t.Run("switch with SetLoadBalancerHTTPSListenerAttribute", func(t *testing.T) {
		setCert(certB)
		expect(t, "", fpB)
	})
	t.Run("SNI by domain extension", func(t *testing.T) {
		ids := map[string]string{}
		for domain, cert := range map[string]string{"www.example.com": certC, "*.example.org": certD} {
			r := sdkslb.CreateCreateDomainExtensionRequest()
			r.LoadBalancerId, r.ListenerPort, r.Domain, r.ServerCertificateId = lb.LoadBalancerId, itoa(443), domain, cert
			resp, err := c.CreateDomainExtension(r)
			must(t, err)
			ids[domain] = resp.DomainExtensionId
		}
		expect(t, "www.example.com", fpC)
		expect(t, "WWW.Example.Com", fpC)
		expect(t, "api.example.org", fpD)
		expect(t, "a.b.example.org", fpB) // a wildcard covers one label only
		expect(t, "other.example.net", fpB)
		r := sdkslb.CreateSetDomainExtensionAttributeRequest()
		r.DomainExtensionId, r.ServerCertificateId = ids["www.example.com"], certD
		_, err := c.SetDomainExtensionAttribute(r)
		must(t, err)
		expect(t, "www.example.com", fpD)
	})
	t.Run("stale frontend keeps the old certificate", func(t *testing.T) {
		e.s.SetStaleFrontend(lb.LoadBalancerId, 443, true)
		setCert(certA)
		expect(t, "", fpB)
		expect(t, "www.example.com", fpD)
		if l := e.s.Dump().Regions[zjk].LoadBalancers[0].Listeners[0]; !l.Stale || l.ServerCertificateID != certA {
			t.Fatalf("dump: %+v", l)
		}
		e.s.SetStaleFrontend(lb.LoadBalancerId, 443, false)
		expect(t, "", fpA)
	})
	t.Run("stop closes the socket, start reopens", func(t *testing.T) {
		listenerCall(stop)
		expectClosed(t)
		listenerCall(start)
		expect(t, "", fpA)
	})
	t.Run("delete closes the socket", func(t *testing.T) {
		r := sdkslb.CreateDeleteLoadBalancerListenerRequest()
		r.LoadBalancerId, r.ListenerPort = lb.LoadBalancerId, itoa(443)
		_, err := c.DeleteLoadBalancerListener(r)
		must(t, err)
		expectClosed(t)
		if len(e.s.FrontendAddrs()) != 0 {
			t.Fatalf("frontends left: %v", e.s.FrontendAddrs())
		}
	})
	t.Run("close stops everything", func(t *testing.T) {
		id, err := e.s.SeedLoadBalancer(zjk, "seeded")
		must(t, err)
		must(t, e.s.SeedHTTPSListener(zjk, id, 8443, certA, true))
		var seededAddr string
		for _, x := range e.s.Dump().Regions[zjk].LoadBalancers {
			if x.ID == id {
				seededAddr = x.Address
			}
		}
		if _, err := served(t, seededAddr, 8443, ""); err != nil {
			t.Fatalf("seeded listener not serving: %v", err)
		}
		backend, err := e.s.BackendAddr("i-8vb0local01")
		must(t, err)
		must(t, e.s.Close())
		if _, err := served(t, seededAddr, 8443, ""); err == nil {
			t.Fatal("frontend alive after Close")
		}
		if conn, err := net.DialTimeout("tcp", backend, time.Second); err == nil {
			conn.Close()
			t.Fatal("backend stand-in alive after Close")
		}
	})
}

func TestNoFrontendsNeverListens(t *testing.T) {
	e := newEnv(t, Options{NoFrontends: true, AddressBase: RandomAddressBase()})
	testKeys(t)
	p := issue(t, rsaKeyA, "nf.example.com")
	cert, err := e.s.SeedServerCertificate(zjk, "nf", p.cert, p.key, nil)
	must(t, err)
	id, err := e.s.SeedLoadBalancer(zjk, "nf")
	must(t, err)
	must(t, e.s.SeedHTTPSListener(zjk, id, 443, cert, true))
	lb := e.s.Dump().Regions[zjk].LoadBalancers[0]
	if lb.Listeners[0].Status != "running" {
		t.Fatalf("status %s", lb.Listeners[0].Status)
	}
	if _, err := served(t, lb.Address, 443, ""); err == nil {
		t.Fatal("NoFrontends listener answered")
	}
}

func TestStartFailsWhenPortTaken(t *testing.T) {
	base := RandomAddressBase()
	e := newEnv(t, Options{AddressBase: base})
	testKeys(t)
	p := issue(t, rsaKeyA, "busy.example.com")
	cert, err := e.s.SeedServerCertificate(zjk, "busy", p.cert, p.key, nil)
	must(t, err)
	id, err := e.s.SeedLoadBalancer(zjk, "busy")
	must(t, err)
	ln, err := net.Listen("tcp", net.JoinHostPort(base.String(), "443"))
	must(t, err)
	defer ln.Close()
	must(t, e.s.SeedHTTPSListener(zjk, id, 443, cert, false))
	r := sdkslb.CreateStartLoadBalancerListenerRequest()
	r.LoadBalancerId, r.ListenerPort = id, itoa(443)
	_, err = e.client(zjk).StartLoadBalancerListener(r)
	wantCode(t, err, "InternalError")
	if st := e.s.Dump().Regions[zjk].LoadBalancers[0].Listeners[0].Status; st != "stopped" {
		t.Fatalf("status after failed start: %s", st)
	}
}

func TestDeleteLoadBalancerClosesFrontends(t *testing.T) {
	e := newEnv(t, Options{AddressBase: RandomAddressBase()})
	testKeys(t)
	p := issue(t, rsaKeyA, "del.example.com")
	cert, err := e.s.SeedServerCertificate(zjk, "del", p.cert, p.key, nil)
	must(t, err)
	id, err := e.s.SeedLoadBalancer(zjk, "del")
	must(t, err)
	must(t, e.s.SeedHTTPSListener(zjk, id, 443, cert, true))
	must(t, e.s.SeedHTTPSListener(zjk, id, 8443, cert, true))
	addr := e.s.Dump().Regions[zjk].LoadBalancers[0].Address
	for _, port := range []int{443, 8443} {
		if _, err := served(t, addr, port, ""); err != nil {
			t.Fatalf("port %d: %v", port, err)
		}
	}
	r := sdkslb.CreateDeleteLoadBalancerRequest()
	r.LoadBalancerId = id
	_, err = e.client(zjk).DeleteLoadBalancer(r)
	must(t, err)
	for _, port := range []int{443, 8443} {
		if _, err := served(t, addr, port, ""); err == nil {
			t.Fatalf("port %d still served after DeleteLoadBalancer", port)
		}
	}
	// The certificate is free again.
	d := sdkslb.CreateDeleteServerCertificateRequest()
	d.ServerCertificateId = cert
	_, err = e.client(zjk).DeleteServerCertificate(d)
	must(t, err)
}

// TestConcurrentUse drives the API from several goroutines (one SDK client
// each, as the SDK requires) while handshakes run, for the race detector.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, Options{AddressBase: RandomAddressBase()})
	testKeys(t)
	pa, pb := issue(t, rsaKeyA, "race.example.com"), issue(t, rsaKeyB, "race.example.com")
	certA, err := e.s.SeedServerCertificate(zjk, "a", pa.cert, pa.key, nil)
	must(t, err)
	certB, err := e.s.SeedServerCertificate(zjk, "b", pb.cert, pb.key, nil)
	must(t, err)
	id, err := e.s.SeedLoadBalancer(zjk, "race")
	must(t, err)
	must(t, e.s.SeedHTTPSListener(zjk, id, 443, certA, true))
	addr := e.s.Dump().Regions[zjk].LoadBalancers[0].Address
	fps := map[string]bool{Fingerprint(pa.der): true, Fingerprint(pb.der): true}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.client(zjk)
			for i := range 10 {
				r := sdkslb.CreateSetLoadBalancerHTTPSListenerAttributeRequest()
				r.LoadBalancerId, r.ListenerPort = id, itoa(443)
				r.ServerCertificateId = []string{certA, certB}[(g+i)%2]
				if _, err := c.SetLoadBalancerHTTPSListenerAttribute(r); err != nil {
					errs <- err
				}
				if _, err := c.DescribeLoadBalancerListeners(sdkslb.CreateDescribeLoadBalancerListenersRequest()); err != nil {
					errs <- err
				}
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				fp, err := served(t, addr, 443, "race.example.com")
				if err != nil {
					errs <- err
				} else if !fps[fp] {
					errs <- fmt.Errorf("unknown certificate served: %s", fp)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestAddressClaimSkipsAddressesOfOtherProcesses(t *testing.T) {
	base := RandomAddressBase()
	// Pretend another process owns the base address.
	other, err := net.Listen("tcp", net.JoinHostPort(base.String(), loopback.ClaimPort))
	if err != nil {
		t.Skipf("cannot bind the claim port here (needs root): %v", err)
	}
	defer other.Close()
	e := newEnv(t, Options{AddressBase: base})
	_, err = e.s.SeedLoadBalancer(zjk, "claimed")
	must(t, err)
	got := e.s.Dump().Regions[zjk].LoadBalancers[0].Address
	if got == base.String() {
		t.Fatalf("got the claimed address %s", got)
	}
	// Our own claim is released by Close.
	must(t, e.s.Close())
	ln, err := net.Listen("tcp", net.JoinHostPort(got, loopback.ClaimPort))
	if err != nil {
		t.Fatalf("claim on %s not released: %v", got, err)
	}
	ln.Close()
}
