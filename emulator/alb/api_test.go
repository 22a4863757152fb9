package alb

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	sdkalb "github.com/aliyun/alibaba-cloud-sdk-go/services/alb"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
)

func createLB(t *testing.T, c *sdkalb.Client, name, edition string) string {
	t.Helper()
	r := sdkalb.CreateCreateLoadBalancerRequest()
	r.LoadBalancerName, r.LoadBalancerEdition, r.AddressType, r.VpcId = name, edition, "Internet", "vpc-1"
	r.LoadBalancerBillingConfig.PayType = "PostPay"
	r.ZoneMappings = &[]sdkalb.CreateLoadBalancerZoneMappings{{ZoneId: "cn-hangzhou-h", VSwitchId: "vsw-1"}, {ZoneId: "cn-hangzhou-i", VSwitchId: "vsw-2"}}
	resp, err := c.CreateLoadBalancer(r)
	must(t, err)
	if !strings.HasPrefix(resp.LoadBalancerId, "alb-") || resp.RequestId == "" {
		t.Fatalf("create: %+v", resp)
	}
	return resp.LoadBalancerId
}

func listenerStatus(t *testing.T, c *sdkalb.Client, id string) *sdkalb.GetListenerAttributeResponse {
	t.Helper()
	r := sdkalb.CreateGetListenerAttributeRequest()
	r.ListenerId = id
	resp, err := c.GetListenerAttribute(r)
	must(t, err)
	return resp
}

func job(t *testing.T, c *sdkalb.Client, id string) sdkalb.Job {
	t.Helper()
	r := sdkalb.CreateListAsynJobsRequest()
	r.JobIds = &[]string{id}
	resp, err := c.ListAsynJobs(r)
	must(t, err)
	if len(resp.Jobs) != 1 || resp.Jobs[0].Id != id {
		t.Fatalf("ListAsynJobs(%s): %+v", id, resp.Jobs)
	}
	return resp.Jobs[0]
}

func updateDefault(c *sdkalb.Client, listenerID, certID string) (*sdkalb.UpdateListenerAttributeResponse, error) {
	r := sdkalb.CreateUpdateListenerAttributeRequest()
	r.ListenerId = listenerID
	r.Certificates = &[]sdkalb.UpdateListenerAttributeCertificates{{CertificateId: certID}}
	return c.UpdateListenerAttribute(r)
}

func associate(c *sdkalb.Client, listenerID string, certIDs ...string) (*sdkalb.AssociateAdditionalCertificatesWithListenerResponse, error) {
	r := sdkalb.CreateAssociateAdditionalCertificatesWithListenerRequest()
	r.ListenerId = listenerID
	var cs []sdkalb.AssociateAdditionalCertificatesWithListenerCertificates
	for _, id := range certIDs {
		cs = append(cs, sdkalb.AssociateAdditionalCertificatesWithListenerCertificates{CertificateId: id})
	}
	r.Certificates = &cs
	return c.AssociateAdditionalCertificatesWithListener(r)
}

// TestEveryActionThroughSDK drives each ALB action with the real SDK: the
// asynchronous writes, the Configuring refusal, a failed job, paging, and
// handshakes that change only when a job completes.
func TestEveryActionThroughSDK(t *testing.T) {
	e := newEnv(t, true)
	c := e.client(hz)
	certA, fpA := e.cert("a", "www.example.com")
	certB, fpB := e.cert("b", "www.example.com")
	certC, fpC := e.cert("c", "shop.example.org", "*.shop.example.org")

	lbID := createLB(t, c, "web", "Standard")
	ll := sdkalb.CreateListLoadBalancersRequest()
	ll.LoadBalancerIds = &[]string{lbID}
	lbs, err := c.ListLoadBalancers(ll)
	must(t, err)
	if lbs.TotalCount != 1 || lbs.LoadBalancers[0].LoadBalancerEdition != "Standard" ||
		lbs.LoadBalancers[0].DNSName != lbID+".cn-hangzhou.alb.aliyuncs.com" || lbs.LoadBalancers[0].LoadBalancerStatus != "Active" {
		t.Fatalf("ListLoadBalancers: %+v", lbs)
	}

	cl := sdkalb.CreateCreateListenerRequest()
	cl.LoadBalancerId, cl.ListenerProtocol, cl.ListenerPort = lbID, "HTTPS", requests.NewInteger(443)
	cl.Certificates = &[]sdkalb.CreateListenerCertificates{{CertificateId: certA}}
	created, err := c.CreateListener(cl)
	must(t, err)
	lsn := created.ListenerId
	if got := listenerStatus(t, c, lsn); got.ListenerStatus != lbcert.Configuring || got.ListenerPort != 443 || len(got.Certificates) != 1 || got.Certificates[0].CertificateId != certA {
		t.Fatalf("new listener: %+v", got)
	}
	_, err = updateDefault(c, lsn, certB)
	wantCode(t, err, lbcert.CodeListenerBusy)
	e.clock.Advance(5 * time.Second)
	if j := job(t, c, created.JobId); j.Status != lbcert.JobSucceeded || j.ApiName != "CreateListener" || j.ResourceId != lsn {
		t.Fatalf("create job: %+v", j)
	}
	addr := e.alb.Dump().LoadBalancers[0].Address + ":443"
	if got := served(t, addr, "www.example.com"); got != fpA {
		t.Fatalf("served %s, want A %s", got, fpA)
	}

	// Default certificate: the handshake changes only when the job is done.
	up, err := updateDefault(c, lsn, certB)
	must(t, err)
	if got := listenerStatus(t, c, lsn).ListenerStatus; got != lbcert.Configuring {
		t.Fatalf("status after update %s", got)
	}
	e.clock.Advance(4 * time.Second)
	if got := served(t, addr, "www.example.com"); got != fpA {
		t.Fatal("the new default certificate served before its job completed")
	}
	if j := job(t, c, up.JobId); j.Status != lbcert.JobProcessing {
		t.Fatalf("job before due: %+v", j)
	}
	e.clock.Advance(time.Second)
	if got := served(t, addr, "www.example.com"); got != fpB {
		t.Fatalf("served %s after the job, want B %s", got, fpB)
	}
	if got := listenerStatus(t, c, lsn); got.ListenerStatus != lbcert.Running || got.Certificates[0].CertificateId != certB {
		t.Fatalf("after update: %+v", got)
	}

	// Additional certificate by SNI: Associating, then Associated.
	as, err := associate(c, lsn, certC)
	must(t, err)
	lc := sdkalb.CreateListListenerCertificatesRequest()
	lc.ListenerId = lsn
	certs, err := c.ListListenerCertificates(lc)
	must(t, err)
	if certs.TotalCount != 2 || !certs.Certificates[0].IsDefault || certs.Certificates[1].CertificateId != certC || certs.Certificates[1].Status != lbcert.Associating {
		t.Fatalf("while associating: %+v", certs.Certificates)
	}
	if got := served(t, addr, "a.shop.example.org"); got != fpB {
		t.Fatal("an Associating certificate was served")
	}
	e.clock.Advance(5 * time.Second)
	if got := served(t, addr, "a.shop.example.org"); got != fpC {
		t.Fatalf("SNI a.shop.example.org served %s, want C", got)
	}
	if got := served(t, addr, "www.example.com"); got != fpB {
		t.Fatalf("SNI www.example.com served %s, want the default B", got)
	}
	if j := job(t, c, as.JobId); j.Status != lbcert.JobSucceeded {
		t.Fatalf("associate job: %+v", j)
	}

	// Paging with NextToken.
	lc.MaxResults = requests.NewInteger(1)
	p1, err := c.ListListenerCertificates(lc)
	must(t, err)
	lc.NextToken = p1.NextToken
	p2, err := c.ListListenerCertificates(lc)
	must(t, err)
	if p1.NextToken == "" || len(p1.Certificates) != 1 || len(p2.Certificates) != 1 || p2.NextToken != "" ||
		p2.Certificates[0].CertificateId != certC || p2.Certificates[0].Status != lbcert.Associated {
		t.Fatalf("pages: %+v / %+v", p1, p2)
	}
	lc.NextToken = "bogus"
	_, err = c.ListListenerCertificates(lc)
	wantCode(t, err, "InvalidParameter.NextToken")

	// A job that ends Failed leaves the default as it was.
	e.jobs.Set(faults.JobRule{Action: "UpdateListenerAttribute", Next: 1})
	failed, err := updateDefault(c, lsn, certA)
	must(t, err)
	e.clock.Advance(5 * time.Second)
	if j := job(t, c, failed.JobId); j.Status != lbcert.JobFailed || j.ErrorCode == "" {
		t.Fatalf("failed job: %+v", j)
	}
	if got := served(t, addr, "www.example.com"); got != fpB {
		t.Fatal("a failed job changed the served certificate")
	}
	if got := listenerStatus(t, c, lsn); got.ListenerStatus != lbcert.Running || got.Certificates[0].CertificateId != certB {
		t.Fatalf("after failed job: %+v", got)
	}

	// Dissociate: still served while Dissociating.
	ds := sdkalb.CreateDissociateAdditionalCertificatesFromListenerRequest()
	ds.ListenerId = lsn
	ds.Certificates = &[]sdkalb.DissociateAdditionalCertificatesFromListenerCertificates{{CertificateId: certC}}
	_, err = c.DissociateAdditionalCertificatesFromListener(ds)
	must(t, err)
	if got := served(t, addr, "a.shop.example.org"); got != fpC {
		t.Fatal("a Dissociating certificate stopped serving before its job completed")
	}
	e.clock.Advance(5 * time.Second)
	if got := served(t, addr, "a.shop.example.org"); got != fpB {
		t.Fatal("a dissociated certificate is still served")
	}
	_, err = c.DissociateAdditionalCertificatesFromListener(ds)
	wantCode(t, err, lbcert.CodeNotAssociated)

	// ListListeners.
	li := sdkalb.CreateListListenersRequest()
	li.LoadBalancerIds = &[]string{lbID}
	ls, err := c.ListListeners(li)
	must(t, err)
	if ls.TotalCount != 1 || ls.Listeners[0].ListenerId != lsn || ls.Listeners[0].ListenerProtocol != "HTTPS" || ls.Listeners[0].ListenerStatus != lbcert.Running {
		t.Fatalf("ListListeners: %+v", ls)
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatal(err)
	}
}

// TestCertificateReferences: ids are <CertId>-<casRegion>; a bare CertId,
// an unknown one and a duplicate association are refused.
func TestCertificateReferences(t *testing.T) {
	e := newEnv(t, false)
	c := e.client("cn-zhangjiakou")
	certA, _ := e.cert("a", "www.example.com")
	lbID, err := e.alb.SeedLoadBalancer("cn-zhangjiakou", "zjk", "Basic")
	must(t, err)
	lsn, err := e.alb.SeedListener("cn-zhangjiakou", lbID, 443, "HTTPS", certA)
	must(t, err)
	if !strings.HasSuffix(certA, "-cn-hangzhou") {
		t.Fatalf("identity %s does not name the CAS region", certA)
	}
	bare := strings.TrimSuffix(certA, "-cn-hangzhou")
	_, err = updateDefault(c, lsn, bare)
	wantCode(t, err, lbcert.CodeCertBareID)
	_, err = updateDefault(c, lsn, bare+"-cn-zhangjiakou")
	wantCode(t, err, lbcert.CodeCertNotFound)
	_, err = associate(c, lsn, certA)
	wantCode(t, err, lbcert.CodeAlreadyAssoc)
	r := sdkalb.CreateGetListenerAttributeRequest()
	r.ListenerId = "lsn-nope"
	_, err = c.GetListenerAttribute(r)
	wantCode(t, err, "ResourceNotFound.Listener")
}

// TestQuotaByEdition: a Basic instance takes 10 additional certificates, a
// Standard one 25, across all its listeners.
func TestQuotaByEdition(t *testing.T) {
	for _, tc := range []struct {
		edition string
		quota   int
	}{{"Basic", 10}, {"Standard", 25}} {
		t.Run(tc.edition, func(t *testing.T) {
			e := newEnv(t, false)
			c := e.client(hz)
			def, _ := e.cert("default", "www.example.com")
			lbID, err := e.alb.SeedLoadBalancer(hz, "q", tc.edition)
			must(t, err)
			l1, err := e.alb.SeedListener(hz, lbID, 443, "HTTPS", def)
			must(t, err)
			l2, err := e.alb.SeedListener(hz, lbID, 8443, "HTTPS", def)
			must(t, err)
			var ids []string
			for i := range tc.quota + 1 {
				id, _ := e.cert("extra-"+string(rune('a'+i%26))+string(rune('a'+i/26)), "x.example.com")
				ids = append(ids, id)
			}
			half := tc.quota / 2
			must(t, e.alb.SeedAdditionalCertificates(hz, l1, ids[:half]...))
			must(t, e.alb.SeedAdditionalCertificates(hz, l2, ids[half:tc.quota-1]...))
			_, err = associate(c, l2, ids[tc.quota-1:]...)
			wantCode(t, err, lbcert.CodeQuota)
			_, err = associate(c, l2, ids[tc.quota-1])
			must(t, err)
		})
	}
}
