package aliyun

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// TestListingsPage: every listing follows NextToken with small pages.
func TestListingsPage(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			opts := lbTestOptions
			opts.PageSize = 2
			a := p.api(c, opts)
			ctx := context.Background()
			def := c.casCert(t, "def", certstest.ECDSA, "a.example.com")
			var lid string
			for range 5 {
				_, lid = p.seedListener(t, c, def)
			}
			var extra []string
			for i := range 4 {
				extra = append(extra, c.casCert(t, fmt.Sprintf("sni%d", i), certstest.ECDSA, fmt.Sprintf("s%d.example.com", i)))
			}
			if err := p.seedSNI(c, lbRegion, lid, extra...); err != nil {
				t.Fatal(err)
			}
			lbs, err := a.ListLoadBalancers(ctx, lbRegion)
			if err != nil || len(lbs) != 5 {
				t.Errorf("ListLoadBalancers: %d, %v; want 5", len(lbs), err)
			}
			ls, err := a.ListListeners(ctx, lbRegion)
			if err != nil || len(ls) != 5 {
				t.Errorf("ListListeners: %d, %v; want 5", len(ls), err)
			}
			certs, err := a.ListListenerCertificates(ctx, lbRegion, lid)
			if err != nil || len(certs) != 5 {
				t.Errorf("ListListenerCertificates: %+v, %v; want 5", certs, err)
			}
			recs := p.requests(c)
			for action, want := range map[string]int{"ListLoadBalancers": 3, "ListListeners": 3, "ListListenerCertificates": 3} {
				if n := count(recs, action, "-"); n != want {
					t.Errorf("%s called %d times for pages of 2, want %d", action, n, want)
				}
			}
		})
	}
}

// TestListingOnlyCertificateListeners: ALB lists HTTPS and QUIC, NLB
// TCPSSL; plain HTTP, TCP and UDP listeners carry no certificate.
func TestListingOnlyCertificateListeners(t *testing.T) {
	c := newLBCloud(t, lbCloudOptions{})
	ctx := context.Background()
	def := c.casCert(t, "def", certstest.ECDSA, "a.example.com")
	albLB, _ := c.alb.SeedLoadBalancer(lbRegion, "a", "")
	for port, proto := range map[int]string{80: "HTTP", 443: "HTTPS", 444: "QUIC"} {
		cert := def
		if proto == "HTTP" {
			cert = ""
		}
		if _, err := c.alb.SeedListener(lbRegion, albLB, port, proto, cert); err != nil {
			t.Fatal(err)
		}
	}
	nlbLB, _ := c.nlb.SeedLoadBalancer(lbRegion, "n")
	for port, proto := range map[int]string{80: "TCP", 443: "TCPSSL", 53: "UDP"} {
		cert := def
		if proto != "TCPSSL" {
			cert = ""
		}
		if _, err := c.nlb.SeedListener(lbRegion, nlbLB, port, proto, cert); err != nil {
			t.Fatal(err)
		}
	}
	for name, a := range map[string]listenerAPI{"alb": c.newALB(lbTestOptions), "nlb": c.newNLB(lbTestOptions)} {
		ls, err := a.ListListeners(ctx, lbRegion)
		var protos []string
		for _, l := range ls {
			protos = append(protos, l.Protocol)
		}
		slices.Sort(protos)
		want := map[string]string{"alb": "[HTTPS QUIC]", "nlb": "[TCPSSL]"}[name]
		if err != nil || fmt.Sprint(protos) != want {
			t.Errorf("%s ListListeners protocols = %v, %v; want %s", name, protos, err, want)
		}
	}
}

// TestThrottlingRetried: throttled listings and writes are retried until
// they pass.
func TestThrottlingRetried(t *testing.T) {
	for _, p := range products {
		t.Run(p.name, func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{})
			a := p.api(c, lbTestOptions)
			ctx := context.Background()
			_, lid := p.seedListener(t, c, c.casCert(t, "old", certstest.ECDSA, "a.example.com"))
			nw := c.casCert(t, "new", certstest.ECDSA, "a.example.com")
			c.inj.Set(faults.Rule{ThrottleRate: 0.5})
			for range 5 {
				if _, err := a.ListListeners(ctx, lbRegion); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.SetDefaultCertificate(ctx, lbRegion, lid, nw); err != nil {
				t.Fatal(err)
			}
			throttled := countCode(p.requests(c), "Throttling")
			if throttled == 0 {
				t.Fatal("nothing was throttled: the test proves nothing")
			}
			c.inj.Clear()
			if l, err := a.GetListener(ctx, lbRegion, lid); err != nil || l.DefaultCertificate != nw {
				t.Errorf("after %d throttled calls: %+v, %v", throttled, l, err)
			}
		})
	}
}

// TestEndpointOverrideAndOfficialHosts: "{region}" in an override, the
// official hosts otherwise.
func TestEndpointOverrideAndOfficialHosts(t *testing.T) {
	a := NewALB(stsCreds(), RPCOptions{})
	n := NewNLB(stsCreds(), RPCOptions{})
	cs := NewCAS(stsCreds(), RPCOptions{})
	for got, want := range map[string]string{
		a.api.official("cn-zhangjiakou"):     "alb.cn-zhangjiakou.aliyuncs.com",
		n.api.official("ap-southeast-1"):     "nlb.ap-southeast-1.aliyuncs.com",
		cs.api.official(CASChinaRegion):      "cas.aliyuncs.com",
		cs.api.official(CASIntlRegion):       "cas.ap-southeast-1.aliyuncs.com",
		CASRegion("cn-zhangjiakou"):          "cn-hangzhou",
		CASRegion("ap-northeast-1"):          "ap-southeast-1",
		CASRegion("eu-central-1"):            "ap-southeast-1",
		CASIdentity(24664588, "cn-hangzhou"): "24664588-cn-hangzhou",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	bad := NewALB(stsCreds(), RPCOptions{Endpoint: "ftp://x"})
	if _, err := bad.ListLoadBalancers(context.Background(), lbRegion); !errors.Is(err, apierr.ErrInvalid) {
		t.Errorf("unusable endpoint: %v, want ErrInvalid", err)
	}
}

// TestClassifyLoadBalancerAndCASCodes: the ALB, NLB and CAS refusals the
// use cases decide on answer the right apierr kind.
func TestClassifyLoadBalancerAndCASCodes(t *testing.T) {
	for _, tc := range []struct {
		code   string
		status int
		want   error
	}{
		{"QuotaExceeded.LoadBalancerCertificatesNum", 400, apierr.ErrQuota},
		{"ResourceNotFound.Certificate", 400, apierr.ErrNotFound},
		{"ResourceNotFound.listener", 404, apierr.ErrNotFound},
		{"CertificateNotFound", 400, apierr.ErrNotFound},
		{"ResourceAlreadyAssociated.Certificate", 400, apierr.ErrConflict},
		{"ResourceAlreadyExist.Listener", 400, apierr.ErrConflict},
		{"Conflict.Port", 400, apierr.ErrConflict},
		{"CertificateInUse", 400, apierr.ErrConflict},
		{"NameRepeat", 400, apierr.ErrConflict},
		{"ResourceNotAssociated.Certificate", 400, apierr.ErrInvalid},
		{"InvalidParameter", 400, apierr.ErrInvalid},
		{"Throttling.User", 400, apierr.ErrTransient},
		{"ServiceUnavailable", 503, apierr.ErrTransient},
	} {
		if got := classify(tc.code, "", tc.status); got != tc.want {
			t.Errorf("%s (%d): %v, want %v", tc.code, tc.status, got, tc.want)
		}
	}
}
