package slb

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
)

func benchEnv(b *testing.B, opts Options) (*Server, *sdkslb.Client) {
	b.Helper()
	s, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(s)
	b.Cleanup(func() { hs.Close(); s.Close() })
	a := DefaultAccounts()[0]
	c, err := sdkslb.NewClientWithOptions(zjk, sdk.NewConfig(), credentials.NewStaticAKCredentialsProvider(a.AccessKeyID, a.AccessKeySecret))
	if err != nil {
		b.Fatal(err)
	}
	c.Domain = strings.TrimPrefix(hs.URL, "http://")
	return s, c
}

// BenchmarkDescribeListenersPage measures one SDK round trip listing a page
// of 100 HTTPS listeners out of a 1000-listener region.
func BenchmarkDescribeListenersPage(b *testing.B) {
	s, c := benchEnv(b, Options{NoFrontends: true})
	testKeys(b)
	p := issue(b, rsaKeyA, "bench.example.com")
	cert, err := s.SeedServerCertificate(zjk, "bench", p.cert, p.key, nil)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 500 {
		id, err := s.SeedLoadBalancer(zjk, fmt.Sprintf("b%d", i))
		if err != nil {
			b.Fatal(err)
		}
		for _, port := range []int{443, 8443} {
			if err := s.SeedHTTPSListener(zjk, id, port, cert, true); err != nil {
				b.Fatal(err)
			}
		}
	}
	r := sdkslb.CreateDescribeLoadBalancerListenersRequest()
	r.MaxResults, r.ListenerProtocol = itoa(100), "https"
	b.ResetTimer()
	for b.Loop() {
		resp, err := c.DescribeLoadBalancerListeners(r)
		if err != nil || len(resp.Listeners) != 100 {
			b.Fatalf("%v %d", err, len(resp.Listeners))
		}
	}
}

// BenchmarkHandshake measures one TLS handshake against a live frontend.
func BenchmarkHandshake(b *testing.B) {
	s, _ := benchEnv(b, Options{AddressBase: RandomAddressBase()})
	testKeys(b)
	p := issue(b, rsaKeyA, "hs.example.com")
	cert, err := s.SeedServerCertificate(zjk, "hs", p.cert, p.key, nil)
	if err != nil {
		b.Fatal(err)
	}
	id, err := s.SeedLoadBalancer(zjk, "hs")
	if err != nil {
		b.Fatal(err)
	}
	if err := s.SeedHTTPSListener(zjk, id, 443, cert, true); err != nil {
		b.Fatal(err)
	}
	addr := s.Dump().Regions[zjk].LoadBalancers[0].Address
	b.ResetTimer()
	for b.Loop() {
		if _, err := served(b, addr, 443, "hs.example.com"); err != nil {
			b.Fatal(err)
		}
	}
}
