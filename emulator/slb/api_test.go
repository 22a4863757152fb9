package slb

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
)

// TestEveryActionThroughSDK drives each action once with the real SDK and
// checks that the answers decode into the SDK's structs with the right data.
func TestEveryActionThroughSDK(t *testing.T) {
	e := newEnv(t, Options{NoFrontends: true, AddressBase: net.IPv4(127, 0, 0, 2)})
	c := e.client(zjk)
	testKeys(t)
	a := issue(t, rsaKeyA, "www.example.com", "example.com")
	b := issue(t, rsaKeyB, "*.example.org")

	// CreateLoadBalancer with ClientToken idempotency.
	cr := sdkslb.CreateCreateLoadBalancerRequest()
	cr.LoadBalancerName, cr.LoadBalancerSpec, cr.PayType = "SLB1", "slb.s1.small", "PayOnDemand"
	cr.MasterZoneId, cr.SlaveZoneId, cr.ClientToken = "cn-zhangjiakou-a", "cn-zhangjiakou-b", "tok-1"
	cr.Tag = &[]sdkslb.CreateLoadBalancerTag{{Key: "env", Value: "test"}}
	lbResp, err := c.CreateLoadBalancer(cr)
	must(t, err)
	lbID := lbResp.LoadBalancerId
	if !strings.HasPrefix(lbID, "lb-8vb") || lbResp.Address != "127.0.0.2" || lbResp.LoadBalancerName != "SLB1" {
		t.Fatalf("create: %+v", lbResp)
	}
	cr2 := sdkslb.CreateCreateLoadBalancerRequest()
	cr2.LoadBalancerName, cr2.LoadBalancerSpec, cr2.PayType = "SLB1", "slb.s1.small", "PayOnDemand"
	cr2.MasterZoneId, cr2.SlaveZoneId, cr2.ClientToken = "cn-zhangjiakou-a", "cn-zhangjiakou-b", "tok-1"
	cr2.Tag = &[]sdkslb.CreateLoadBalancerTag{{Key: "env", Value: "test"}}
	again, err := c.CreateLoadBalancer(cr2)
	must(t, err)
	if again.LoadBalancerId != lbID {
		t.Fatalf("same ClientToken gave %s, want %s", again.LoadBalancerId, lbID)
	}
	cr3 := sdkslb.CreateCreateLoadBalancerRequest()
	cr3.LoadBalancerName, cr3.ClientToken = "SLB2", "tok-1"
	_, err = c.CreateLoadBalancer(cr3)
	wantCode(t, err, "IdempotentParameterMismatch")

	// DescribeLoadBalancers with tag filter, and the attribute.
	dl := sdkslb.CreateDescribeLoadBalancersRequest()
	dl.Tag = &[]sdkslb.DescribeLoadBalancersTag{{Key: "env", Value: "test"}}
	lbs, err := c.DescribeLoadBalancers(dl)
	must(t, err)
	if lbs.TotalCount != 1 || lbs.LoadBalancers.LoadBalancer[0].LoadBalancerSpec != "slb.s1.small" ||
		lbs.LoadBalancers.LoadBalancer[0].Tags.Tag[0].TagValue != "test" || lbs.LoadBalancers.LoadBalancer[0].MasterZoneId != "cn-zhangjiakou-a" {
		t.Fatalf("describe lbs: %+v", lbs)
	}

	// Backends: add, update weight, set, health.
	ab := sdkslb.CreateAddBackendServersRequest()
	ab.LoadBalancerId = lbID
	ab.BackendServers = `[{"ServerId":"i-8vb0local01","Weight":"100"},{"ServerId":"i-8vb0local02","Weight":50,"Type":"ecs"}]`
	abr, err := c.AddBackendServers(ab)
	must(t, err)
	if len(abr.BackendServers.BackendServer) != 2 || abr.BackendServers.BackendServer[1].Weight != "50" {
		t.Fatalf("add backends: %+v", abr)
	}
	ab.BackendServers = `[{"ServerId":"i-8vb0local02","Weight":"80"}]`
	_, err = c.AddBackendServers(ab)
	must(t, err)
	sb := sdkslb.CreateSetBackendServersRequest()
	sb.LoadBalancerId, sb.BackendServers = lbID, `[{"ServerId":"i-8vb0local01","Weight":"30"}]`
	_, err = c.SetBackendServers(sb)
	must(t, err)
	da := sdkslb.CreateDescribeLoadBalancerAttributeRequest()
	da.LoadBalancerId = lbID
	attr, err := c.DescribeLoadBalancerAttribute(da)
	must(t, err)
	ws := map[string]int{}
	for _, bs := range attr.BackendServers.BackendServer {
		ws[bs.ServerId] = bs.Weight
	}
	if ws["i-8vb0local01"] != 30 || ws["i-8vb0local02"] != 80 || attr.Address != "127.0.0.2" || attr.LoadBalancerStatus != "active" {
		t.Fatalf("attribute: weights %v, %+v", ws, attr)
	}

	// Certificates.
	up := sdkslb.CreateUploadServerCertificateRequest()
	up.ServerCertificate, up.PrivateKey, up.ServerCertificateName = a.cert, a.key, "www-20260101-aabbccdd"
	up.Tag = &[]sdkslb.UploadServerCertificateTag{{Key: "managed-by", Value: "slb-cert-rotator"}}
	upA, err := c.UploadServerCertificate(up)
	must(t, err)
	if upA.Fingerprint != Fingerprint(a.der) || upA.CommonName != "www.example.com" ||
		strings.Join(upA.SubjectAlternativeNames.SubjectAlternativeName, ",") != "www.example.com,example.com" ||
		upA.ExpireTime != "2031-05-18T06:34:24Z" || upA.ExpireTimeStamp != time.Date(2031, 5, 18, 6, 34, 24, 0, time.UTC).UnixMilli() || upA.RegionId != zjk {
		t.Fatalf("upload: %+v", upA)
	}
	up2 := sdkslb.CreateUploadServerCertificateRequest()
	up2.ServerCertificate, up2.PrivateKey, up2.ServerCertificateName = b.cert, b.key, "org"
	upB, err := c.UploadServerCertificate(up2)
	must(t, err)
	sn := sdkslb.CreateSetServerCertificateNameRequest()
	sn.ServerCertificateId, sn.ServerCertificateName = upB.ServerCertificateId, "org-renamed"
	_, err = c.SetServerCertificateName(sn)
	must(t, err)
	ds := sdkslb.CreateDescribeServerCertificatesRequest()
	ds.ServerCertificateId = upB.ServerCertificateId
	certs, err := c.DescribeServerCertificates(ds)
	must(t, err)
	if got := certs.ServerCertificates.ServerCertificate; len(got) != 1 || got[0].ServerCertificateName != "org-renamed" || got[0].CommonName != "*.example.org" {
		t.Fatalf("describe certs: %+v", got)
	}
	all, err := c.DescribeServerCertificates(sdkslb.CreateDescribeServerCertificatesRequest())
	must(t, err)
	if got := all.ServerCertificates.ServerCertificate; len(got) != 2 || got[0].Tags.Tag[0].TagKey != "managed-by" || got[0].EncryptionKeyLength != 2048 {
		t.Fatalf("describe all certs: %+v", got)
	}

	// HTTPS listener lifecycle.
	cl := sdkslb.CreateCreateLoadBalancerHTTPSListenerRequest()
	cl.LoadBalancerId, cl.ListenerPort, cl.BackendServerPort = lbID, itoa(443), itoa(80)
	cl.Bandwidth, cl.HealthCheck, cl.StickySession, cl.ServerCertificateId = itoa(-1), "on", "off", upA.ServerCertificateId
	_, err = c.CreateLoadBalancerHTTPSListener(cl)
	must(t, err)
	dh := sdkslb.CreateDescribeLoadBalancerHTTPSListenerAttributeRequest()
	dh.LoadBalancerId, dh.ListenerPort = lbID, itoa(443)
	h, err := c.DescribeLoadBalancerHTTPSListenerAttribute(dh)
	must(t, err)
	if h.Status != "stopped" || h.ServerCertificateId != upA.ServerCertificateId || h.Bandwidth != -1 || h.BackendServerPort != 80 || h.ListenerPort != 443 {
		t.Fatalf("new listener: %+v", h)
	}
	st := sdkslb.CreateStartLoadBalancerListenerRequest()
	st.LoadBalancerId, st.ListenerPort = lbID, itoa(443)
	_, err = c.StartLoadBalancerListener(st)
	must(t, err)
	sl := sdkslb.CreateSetLoadBalancerHTTPSListenerAttributeRequest()
	sl.LoadBalancerId, sl.ListenerPort, sl.ServerCertificateId = lbID, itoa(443), upB.ServerCertificateId
	_, err = c.SetLoadBalancerHTTPSListenerAttribute(sl)
	must(t, err)

	// Domain extensions.
	cd := sdkslb.CreateCreateDomainExtensionRequest()
	cd.LoadBalancerId, cd.ListenerPort, cd.Domain, cd.ServerCertificateId = lbID, itoa(443), "www.example.com", upA.ServerCertificateId
	de, err := c.CreateDomainExtension(cd)
	must(t, err)
	if !strings.HasPrefix(de.DomainExtensionId, "de-") || de.ListenerPort != 443 {
		t.Fatalf("create extension: %+v", de)
	}
	sd := sdkslb.CreateSetDomainExtensionAttributeRequest()
	sd.DomainExtensionId, sd.ServerCertificateId = de.DomainExtensionId, upB.ServerCertificateId
	_, err = c.SetDomainExtensionAttribute(sd)
	must(t, err)
	dd := sdkslb.CreateDescribeDomainExtensionsRequest()
	dd.LoadBalancerId, dd.ListenerPort = lbID, itoa(443)
	exts, err := c.DescribeDomainExtensions(dd)
	must(t, err)
	if got := exts.DomainExtensions.DomainExtension; len(got) != 1 || got[0].ServerCertificateId != upB.ServerCertificateId || got[0].Domain != "www.example.com" {
		t.Fatalf("describe extensions: %+v", got)
	}
	dda := sdkslb.CreateDescribeDomainExtensionAttributeRequest()
	dda.DomainExtensionId = de.DomainExtensionId
	dea, err := c.DescribeDomainExtensionAttribute(dda)
	must(t, err)
	if dea.LoadBalancerId != lbID || dea.ListenerPort != 443 {
		t.Fatalf("extension attribute: %+v", dea)
	}
	h, err = c.DescribeLoadBalancerHTTPSListenerAttribute(dh)
	must(t, err)
	if h.Status != "running" || h.ServerCertificateId != upB.ServerCertificateId || len(h.DomainExtensions.DomainExtension) != 1 {
		t.Fatalf("listener after changes: %+v", h)
	}

	// DescribeLoadBalancerListeners (bare arrays).
	dls := sdkslb.CreateDescribeLoadBalancerListenersRequest()
	dls.LoadBalancerId = &[]string{lbID}
	dls.ListenerProtocol = "https"
	ls, err := c.DescribeLoadBalancerListeners(dls)
	must(t, err)
	if len(ls.Listeners) != 1 || ls.Listeners[0].HTTPSListenerConfig.ServerCertificateId != upB.ServerCertificateId ||
		ls.Listeners[0].Status != "running" || ls.NextToken != "" || ls.TotalCount != 1 ||
		ls.Listeners[0].HTTPSListenerConfig.ServerCertificates[0].Fingerprint != Fingerprint(b.der) {
		t.Fatalf("listeners: %+v", ls)
	}

	// Health.
	hs := sdkslb.CreateDescribeHealthStatusRequest()
	hs.LoadBalancerId = lbID
	health, err := c.DescribeHealthStatus(hs)
	must(t, err)
	if got := health.BackendServers.BackendServer; len(got) != 2 || got[0].ServerHealthStatus != "normal" || got[0].ListenerPort != 443 {
		t.Fatalf("health: %+v", got)
	}

	// Tags on certificates and instances.
	tr := sdkslb.CreateTagResourcesRequest()
	tr.ResourceType, tr.ResourceId = "certificate", &[]string{upB.ServerCertificateId}
	tr.Tag = &[]sdkslb.TagResourcesTag{{Key: "team", Value: "ops"}}
	_, err = c.TagResources(tr)
	must(t, err)
	lt := sdkslb.CreateListTagResourcesRequest()
	lt.ResourceType, lt.ResourceId = "certificate", &[]string{upB.ServerCertificateId}
	tags, err := c.ListTagResources(lt)
	must(t, err)
	if got := tags.TagResources.TagResource; len(got) != 1 || got[0].TagKey != "team" || got[0].ResourceId != upB.ServerCertificateId {
		t.Fatalf("tags: %+v", got)
	}
	ut := sdkslb.CreateUntagResourcesRequest()
	ut.ResourceType, ut.ResourceId, ut.TagKey = "certificate", &[]string{upB.ServerCertificateId}, &[]string{"team"}
	_, err = c.UntagResources(ut)
	must(t, err)
	tags, err = c.ListTagResources(lt)
	must(t, err)
	if len(tags.TagResources.TagResource) != 0 {
		t.Fatalf("tags after untag: %+v", tags)
	}

	// Tear down in the order the service demands.
	xd := sdkslb.CreateDeleteDomainExtensionRequest()
	xd.DomainExtensionId = de.DomainExtensionId
	_, err = c.DeleteDomainExtension(xd)
	must(t, err)
	sp := sdkslb.CreateStopLoadBalancerListenerRequest()
	sp.LoadBalancerId, sp.ListenerPort = lbID, itoa(443)
	_, err = c.StopLoadBalancerListener(sp)
	must(t, err)
	h, err = c.DescribeLoadBalancerHTTPSListenerAttribute(dh)
	must(t, err)
	if h.Status != "stopped" {
		t.Fatalf("after stop: %s", h.Status)
	}
	dlis := sdkslb.CreateDeleteLoadBalancerListenerRequest()
	dlis.LoadBalancerId, dlis.ListenerPort = lbID, itoa(443)
	_, err = c.DeleteLoadBalancerListener(dlis)
	must(t, err)
	rb := sdkslb.CreateRemoveBackendServersRequest()
	rb.LoadBalancerId, rb.BackendServers = lbID, `["i-8vb0local01"]`
	rbr, err := c.RemoveBackendServers(rb)
	must(t, err)
	if len(rbr.BackendServers.BackendServer) != 1 || rbr.BackendServers.BackendServer[0].ServerId != "i-8vb0local02" {
		t.Fatalf("remove backends: %+v", rbr)
	}
	for _, id := range []string{upA.ServerCertificateId, upB.ServerCertificateId} {
		dc := sdkslb.CreateDeleteServerCertificateRequest()
		dc.ServerCertificateId = id
		_, err = c.DeleteServerCertificate(dc)
		must(t, err)
	}
	dlb := sdkslb.CreateDeleteLoadBalancerRequest()
	dlb.LoadBalancerId = lbID
	_, err = c.DeleteLoadBalancer(dlb)
	must(t, err)
	if d := e.s.Dump(); len(d.Regions) != 0 {
		t.Fatalf("state not empty after teardown: %+v", d)
	}

	// The request log covers every action and never holds the key.
	seen := map[string]bool{}
	for _, r := range e.s.Requests() {
		seen[r.Action] = true
	}
	for _, act := range Actions() {
		if !seen[act] && act != "SetLoadBalancerName" {
			t.Errorf("action %s not exercised", act)
		}
	}
	raw, _ := json.Marshal(e.s.Requests())
	if strings.Contains(string(raw), "PRIVATE KEY") || strings.Contains(string(raw), DefaultAccounts()[0].AccessKeySecret) {
		t.Fatal("request log leaks key material")
	}
}

func TestSetLoadBalancerName(t *testing.T) {
	e := newEnv(t, Options{NoFrontends: true})
	id, err := e.s.SeedLoadBalancer(zjk, "old")
	must(t, err)
	r := sdkslb.CreateSetLoadBalancerNameRequest()
	r.LoadBalancerId, r.LoadBalancerName = id, "new-name"
	_, err = e.client(zjk).SetLoadBalancerName(r)
	must(t, err)
	if got := e.s.Dump().Regions[zjk].LoadBalancers[0].Name; got != "new-name" {
		t.Fatalf("name %q", got)
	}
}

func TestDefaultAddressPoolIsShared(t *testing.T) {
	e1 := newEnv(t, Options{NoFrontends: true})
	e2 := newEnv(t, Options{NoFrontends: true})
	id1, err := e1.s.SeedLoadBalancer(zjk, "one")
	must(t, err)
	id2, err := e2.s.SeedLoadBalancer(zjk, "two")
	must(t, err)
	a1 := e1.s.Dump().Regions[zjk].LoadBalancers[0].Address
	a2 := e2.s.Dump().Regions[zjk].LoadBalancers[0].Address
	if a1 == a2 || !strings.HasPrefix(a1, "127.") || !strings.HasPrefix(a2, "127.") || id1 == "" || id2 == "" {
		t.Fatalf("addresses %s and %s", a1, a2)
	}
	if _, err := New(Options{AddressBase: net.IPv4(10, 0, 0, 1)}); err == nil {
		t.Fatal("non-loopback address base accepted")
	}
}
