package clbtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

const region = "cn-zhangjiakou"

// build creates a load balancer with one started HTTPS listener on 443
// and one domain extension, and returns the fake and the ids.
func build(t *testing.T) (s *SLB, lbID, certID, extID string) {
	t.Helper()
	ctx := context.Background()
	p := certstest.SelfSigned(t, certstest.Options{Domains: []string{"www.example.com"}})
	s = &SLB{}
	lb, err := s.CreateLoadBalancer(ctx, region, clb.LoadBalancerSpec{Name: "web"}, "token-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.UploadServerCertificate(ctx, region, "www", string(p.CertPEM), string(p.KeyPEM), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateHTTPSListener(ctx, region, clb.Listener{LoadBalancerID: lb.ID, Port: 443, BackendPort: 80, ServerCertificateID: c.ID}); err != nil {
		t.Fatal(err)
	}
	if err := s.StartListener(ctx, region, lb.ID, 443); err != nil {
		t.Fatal(err)
	}
	ext, err := s.CreateDomainExtension(ctx, region, lb.ID, 443, "api.example.com", c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s, lb.ID, c.ID, ext
}

func TestProvisioningLifecycle(t *testing.T) {
	ctx := context.Background()
	s, lbID, certID, extID := build(t)
	want := []string{"CreateLoadBalancer", "UploadServerCertificate", "CreateLoadBalancerHTTPSListener", "StartLoadBalancerListener", "CreateDomainExtension"}
	if got := s.Writes(); !reflect.DeepEqual(got, want) {
		t.Errorf("writes = %v, want %v", got, want)
	}
	s.StartPolls = 2
	if err := s.StartListener(ctx, region, lbID, 443); err != nil {
		t.Fatal(err)
	}
	for i, status := range []string{"starting", "running", "running"} {
		if l, _, err := s.DescribeHTTPSListener(ctx, region, lbID, 443); err != nil || l.Status != status {
			t.Errorf("describe %d: status %q, %v; want %q", i+1, l.Status, err, status)
		}
	}
	if err := s.DeleteServerCertificate(ctx, region, certID); !errors.Is(err, apierr.ErrConflict) {
		t.Errorf("delete a certificate in use: %v, want ErrConflict", err)
	}
	if fp, listening := s.Serving(s.LoadBalancers(region)[0].Address, 443, "api.example.com"); !listening || fp == "" {
		t.Errorf("serving = %q, %v", fp, listening)
	}
	if err := s.DeleteLoadBalancer(ctx, region, lbID); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Listener(lbID, 443); ok || s.ExtensionCertificate(extID) != "" {
		t.Error("listener or extension survived its load balancer")
	}
	if err := s.DeleteServerCertificate(ctx, region, certID); err != nil {
		t.Errorf("delete a certificate no longer used: %v", err)
	}
	// The token answers the deleted instance, as the service does.
	again, err := s.CreateLoadBalancer(ctx, region, clb.LoadBalancerSpec{Name: "web"}, "token-1")
	if err != nil || again.ID != lbID || len(s.LoadBalancers(region)) != 0 {
		t.Errorf("reused token = %+v, %v; instances %d", again, err, len(s.LoadBalancers(region)))
	}
}

func TestFaultHooks(t *testing.T) {
	ctx := context.Background()
	s, lbID, _, _ := build(t)
	s.ResetCalls()
	boom := fmt.Errorf("fake: 503: %w", apierr.ErrTransient)
	s.FailOn("AddBackendServers", boom)
	if err := s.AddBackendServers(ctx, region, lbID, []clb.Backend{{ServerID: "i-1", Weight: 100}}); !errors.Is(err, apierr.ErrTransient) {
		t.Errorf("failed add = %v", err)
	}
	if len(s.Backends(lbID)) != 0 {
		t.Errorf("a failed write took effect: %v", s.Backends(lbID))
	}
	s.FailOn("AddBackendServers", nil)
	s.Fail = func(action string) error {
		if action == "DescribeLoadBalancers" {
			return boom
		}
		return nil
	}
	if _, err := s.ListLoadBalancers(ctx, region); !errors.Is(err, boom) {
		t.Errorf("list = %v", err)
	}
	for _, w := range []int{100, 30} {
		if err := s.AddBackendServers(ctx, region, lbID, []clb.Backend{{ServerID: "i-1", Weight: w}}); err != nil {
			t.Fatal(err)
		}
	}
	if bs := s.Backends(lbID); len(bs) != 1 || bs[0].Weight != 30 {
		t.Errorf("backends = %+v, want i-1 reweighted to 30", bs)
	}
	want := map[string]int{"AddBackendServers": 3, "DescribeLoadBalancers": 1}
	if got := s.CallCounts(); !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if got := s.Writes(); !reflect.DeepEqual(got, []string{"AddBackendServers", "AddBackendServers", "AddBackendServers"}) {
		t.Errorf("writes = %v", got)
	}
}

// TestExtensionIndexFollowsWrites: the listings read domain extensions
// through the index by listener, so every write that adds or removes one
// (CreateDomainExtension, DeleteDomainExtension, DeleteListener,
// DeleteLoadBalancer) must keep it true, including the positions of the
// extensions stored after a removed one.
func TestExtensionIndexFollowsWrites(t *testing.T) {
	ctx := context.Background()
	s, lbID, certID, first := build(t)
	list := func(lb string, port int) []string {
		t.Helper()
		exts, err := s.ListDomainExtensions(ctx, region, lb, port)
		if err != nil {
			t.Fatal(err)
		}
		_, described, err := s.DescribeHTTPSListener(ctx, region, lb, port)
		if err != nil && !errors.Is(err, apierr.ErrNotFound) {
			t.Fatal(err)
		}
		if err == nil && !reflect.DeepEqual(described, exts) {
			t.Errorf("%s:%d: described %+v, listed %+v", lb, port, described, exts)
		}
		var ids []string
		for _, e := range exts {
			ids = append(ids, e.ID+"="+e.Domain)
		}
		return ids
	}
	mustDo := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mustDo(s.CreateHTTPSListener(ctx, region, clb.Listener{LoadBalancerID: lbID, Port: 8443, BackendPort: 80, ServerCertificateID: certID}))
	second, err := s.CreateDomainExtension(ctx, region, lbID, 8443, "b.example.com", certID)
	mustDo(err)
	third, err := s.CreateDomainExtension(ctx, region, lbID, 443, "c.example.com", certID)
	mustDo(err)
	if got, want := list(lbID, 443), []string{first + "=api.example.com", third + "=c.example.com"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("443 after creates = %v, want %v", got, want)
	}
	if got, want := list(lbID, 8443), []string{second + "=b.example.com"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("8443 after creates = %v, want %v", got, want)
	}

	// Removing the first extension shifts the others.
	mustDo(s.DeleteDomainExtension(ctx, region, first))
	if got, want := list(lbID, 443), []string{third + "=c.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("443 after deleting %s = %v, want %v", first, got, want)
	}
	if got, want := list(lbID, 8443), []string{second + "=b.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("8443 after deleting %s = %v, want %v", first, got, want)
	}
	if err := s.DeleteDomainExtension(ctx, region, first); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("deleting %s again: %v, want ErrNotFound", first, err)
	}

	// A listener takes its extensions along; a load balancer all of its own.
	other, err := s.CreateLoadBalancer(ctx, region, clb.LoadBalancerSpec{Name: "other"}, "token-2")
	mustDo(err)
	mustDo(s.CreateHTTPSListener(ctx, region, clb.Listener{LoadBalancerID: other.ID, Port: 443, BackendPort: 80, ServerCertificateID: certID}))
	kept, err := s.CreateDomainExtension(ctx, region, other.ID, 443, "d.example.com", certID)
	mustDo(err)
	mustDo(s.DeleteListener(ctx, region, lbID, 8443))
	if got := list(lbID, 8443); len(got) != 0 {
		t.Errorf("8443 after deleting its listener = %v, want none", got)
	}
	mustDo(s.DeleteLoadBalancer(ctx, region, lbID))
	if got := list(lbID, 443); len(got) != 0 {
		t.Errorf("443 after deleting its load balancer = %v, want none", got)
	}
	if got, want := list(other.ID, 443), []string{kept + "=d.example.com"}; !reflect.DeepEqual(got, want) {
		t.Errorf("the other load balancer = %v, want %v", got, want)
	}
	if got := s.ExtensionCertificate(third); got != "" {
		t.Errorf("extension %s outlived its load balancer (certificate %q)", third, got)
	}
}
