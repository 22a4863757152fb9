package nlb

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	sdknlb "github.com/aliyun/alibaba-cloud-sdk-go/services/nlb"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert/lbcerttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

const zjk = "cn-zhangjiakou"

var (
	wantCode = lbcerttest.WantCode
	must     = lbcerttest.Must
	served   = lbcerttest.Served
)

type env struct {
	cas   *cas.Server
	nlb   *Server
	clock *lbcerttest.Clock
	jobs  *faults.JobFaults
	inj   *faults.Injector
	dns   *dns.Store
	c     *sdknlb.Client

	mu     sync.Mutex
	bodies map[string]string // action -> last form body sent
}

func newEnv(t *testing.T, frontends bool) *env {
	t.Helper()
	clk := lbcerttest.NewClock()
	cs, err := cas.New(cas.Options{Now: clk.Now})
	must(t, err)
	pool, err := loopback.NewPool(loopback.RandomBase())
	must(t, err)
	e := &env{cas: cs, clock: clk, jobs: faults.NewJobFaults(1), inj: faults.New(3), dns: dns.NewStore()}
	e.nlb, err = New(Options{CAS: cs, Now: clk.Now, Addresses: pool, NoFrontends: !frontends, JobFaults: e.jobs, Faults: e.inj,
		DNS: e.dns, ConfiguringDuration: 3 * time.Second})
	must(t, err)
	e.bodies = map[string]string{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.bodies[r.URL.Query().Get("Action")] = string(b)
		e.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		e.nlb.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		must(t, e.nlb.Close())
	})
	a := rpc.DefaultAccounts()[0]
	e.c, err = sdknlb.NewClientWithOptions(zjk, sdk.NewConfig(), credentials.NewStaticAKCredentialsProvider(a.AccessKeyID, a.AccessKeySecret))
	must(t, err)
	e.c.Domain = strings.TrimPrefix(hs.URL, "http://")
	return e
}

func (e *env) status(t *testing.T, id string) *sdknlb.GetListenerAttributeResponse {
	t.Helper()
	r := sdknlb.CreateGetListenerAttributeRequest()
	r.ListenerId = id
	resp, err := e.c.GetListenerAttribute(r)
	must(t, err)
	return resp
}

func (e *env) job(t *testing.T, id string) string {
	t.Helper()
	r := sdknlb.CreateGetJobStatusRequest()
	r.JobId = id
	resp, err := e.c.GetJobStatus(r)
	must(t, err)
	return resp.Status
}

func (e *env) setDefault(listenerID, certID string) (*sdknlb.UpdateListenerAttributeResponse, error) {
	r := sdknlb.CreateUpdateListenerAttributeRequest()
	r.ListenerId, r.CertificateIds = listenerID, &[]string{certID}
	return e.c.UpdateListenerAttribute(r)
}

// TestEveryActionThroughSDK drives each NLB action with the real SDK (its
// write parameters travel in the form body).
func TestEveryActionThroughSDK(t *testing.T) {
	e := newEnv(t, true)
	certA, fpA := lbcerttest.Cert(t, e.cas, zjk, "a", "tls.example.com")
	certB, fpB := lbcerttest.Cert(t, e.cas, zjk, "b", "tls.example.com")
	certC, fpC := lbcerttest.Cert(t, e.cas, zjk, "c", "other.example.net")

	cr := sdknlb.CreateCreateLoadBalancerRequest()
	cr.LoadBalancerName, cr.LoadBalancerType, cr.AddressType, cr.VpcId = "tcp", "Network", "Internet", "vpc-1"
	cr.ZoneMappings = &[]sdknlb.CreateLoadBalancerZoneMappings{{ZoneId: zjk + "-a", VSwitchId: "vsw-a"}, {ZoneId: zjk + "-b", VSwitchId: "vsw-b"}}
	lb, err := e.c.CreateLoadBalancer(cr)
	must(t, err)
	if !strings.HasPrefix(lb.LoadbalancerId, "nlb-") || lb.JobId == "" || !lb.Success {
		t.Fatalf("create: %+v", lb)
	}
	ll := sdknlb.CreateListLoadBalancersRequest()
	lbs, err := e.c.ListLoadBalancers(ll)
	must(t, err)
	host := lb.LoadbalancerId + "." + zjk + ".nlb.aliyuncsslb.com"
	if lbs.TotalCount != 1 || lbs.LoadBalancers[0].DNSName != host || lbs.LoadBalancers[0].LoadBalancerType != "Network" {
		t.Fatalf("ListLoadBalancers: %+v", lbs)
	}
	recs := e.dns.Lookup(host, dns.TypeA)
	if len(recs) != 1 {
		t.Fatalf("DNS %s: %+v", host, recs)
	}
	addr := recs[0].Value + ":443"

	cl := sdknlb.CreateCreateListenerRequest()
	cl.LoadBalancerId, cl.ListenerProtocol, cl.ListenerPort = lb.LoadbalancerId, "TCPSSL", requests.NewInteger(443)
	cl.CertificateIds, cl.ServerGroupId = &[]string{certA}, "sgp-1"
	created, err := e.c.CreateListener(cl)
	must(t, err)
	lsn := created.ListenerId
	if !strings.HasSuffix(lsn, "@443") || e.status(t, lsn).ListenerStatus != lbcert.Configuring {
		t.Fatalf("new listener %s: %+v", lsn, e.status(t, lsn))
	}
	_, err = e.setDefault(lsn, certB)
	wantCode(t, err, lbcert.CodeListenerBusy)
	e.mu.Lock()
	body := e.bodies["UpdateListenerAttribute"]
	e.mu.Unlock()
	if !strings.Contains(body, "CertificateIds.1=") || !strings.Contains(body, "ListenerId=") {
		t.Fatalf("the SDK did not send NLB's write parameters in the body: %q", body)
	}
	e.clock.Advance(3 * time.Second)
	if got := e.job(t, created.JobId); got != lbcert.JobSucceeded {
		t.Fatalf("create job %s", got)
	}
	if served(t, addr, "tls.example.com") != fpA {
		t.Fatal("TCPSSL listener does not serve its certificate")
	}

	up, err := e.setDefault(lsn, certB)
	must(t, err)
	e.clock.Advance(2 * time.Second)
	if served(t, addr, "tls.example.com") != fpA || e.job(t, up.JobId) != lbcert.JobProcessing {
		t.Fatal("the new certificate served before the job completed")
	}
	e.clock.Advance(time.Second)
	if served(t, addr, "tls.example.com") != fpB {
		t.Fatal("the new certificate is not served after the job")
	}
	if got := e.status(t, lsn); got.ListenerStatus != lbcert.Running || len(got.CertificateIds) != 1 || got.CertificateIds[0] != certB {
		t.Fatalf("after update: %+v", got)
	}

	as := sdknlb.CreateAssociateAdditionalCertificatesWithListenerRequest()
	as.ListenerId, as.AdditionalCertificateIds = lsn, &[]string{certC}
	_, err = e.c.AssociateAdditionalCertificatesWithListener(as)
	must(t, err)
	e.clock.Advance(3 * time.Second)
	if served(t, addr, "other.example.net") != fpC || served(t, addr, "tls.example.com") != fpB {
		t.Fatal("SNI selection")
	}

	lc := sdknlb.CreateListListenerCertificatesRequest()
	lc.ListenerId, lc.MaxResults = lsn, requests.NewInteger(1)
	p1, err := e.c.ListListenerCertificates(lc)
	must(t, err)
	lc.NextToken = p1.NextToken
	p2, err := e.c.ListListenerCertificates(lc)
	must(t, err)
	if p1.TotalCount != 2 || !p1.Certificates[0].IsDefault || p1.CertificateIds[0] != certB || p2.NextToken != "" ||
		p2.Certificates[0].CertificateId != certC || p2.Certificates[0].Status != lbcert.Associated {
		t.Fatalf("pages %+v / %+v", p1, p2)
	}

	// A job that ends Failed: the association is rolled back.
	e.jobs.Set(faults.JobRule{Action: "DisassociateAdditionalCertificatesWithListener", Next: 1})
	ds := sdknlb.CreateDisassociateAdditionalCertificatesWithListenerRequest()
	ds.ListenerId, ds.AdditionalCertificateIds = lsn, &[]string{certC}
	failed, err := e.c.DisassociateAdditionalCertificatesWithListener(ds)
	must(t, err)
	e.clock.Advance(3 * time.Second)
	if got := e.job(t, failed.JobId); got != lbcert.JobFailed || served(t, addr, "other.example.net") != fpC {
		t.Fatalf("failed disassociation: job %s", got)
	}
	_, err = e.c.DisassociateAdditionalCertificatesWithListener(ds)
	must(t, err)
	e.clock.Advance(3 * time.Second)
	if served(t, addr, "other.example.net") != fpB {
		t.Fatal("a disassociated certificate is still served")
	}

	li := sdknlb.CreateListListenersRequest()
	li.ListenerProtocol = "TCPSSL"
	ls, err := e.c.ListListeners(li)
	must(t, err)
	if ls.TotalCount != 1 || ls.Listeners[0].ListenerId != lsn || ls.Listeners[0].CertificateIds[0] != certB {
		t.Fatalf("ListListeners: %+v", ls)
	}
}

// TestRefusals: bare CertId, quota of 25, a listener without certificates.
func TestRefusals(t *testing.T) {
	e := newEnv(t, false)
	def, _ := lbcerttest.Cert(t, e.cas, zjk, "def", "a.example.com")
	lbID, err := e.nlb.SeedLoadBalancer(zjk, "q")
	must(t, err)
	lsn, err := e.nlb.SeedListener(zjk, lbID, 443, "TCPSSL", def)
	must(t, err)
	tcp, err := e.nlb.SeedListener(zjk, lbID, 80, "TCP", "")
	must(t, err)
	bare, _, _ := strings.Cut(def, "-")
	_, err = e.setDefault(lsn, bare)
	wantCode(t, err, lbcert.CodeCertBareID)
	_, err = e.setDefault(tcp, def)
	wantCode(t, err, "InvalidParameter")

	var ids []string
	for i := range DefaultQuota + 1 {
		id, _ := lbcerttest.Cert(t, e.cas, zjk, "x"+strings.Repeat("y", i), "x.example.com")
		ids = append(ids, id)
	}
	for i := 0; i+15 <= DefaultQuota; i += 15 {
		must(t, e.nlb.SeedAdditionalCertificates(zjk, lsn, ids[i:i+15]...))
	}
	must(t, e.nlb.SeedAdditionalCertificates(zjk, lsn, ids[15:DefaultQuota]...))
	as := sdknlb.CreateAssociateAdditionalCertificatesWithListenerRequest()
	as.ListenerId, as.AdditionalCertificateIds = lsn, &[]string{ids[DefaultQuota]}
	_, err = e.c.AssociateAdditionalCertificatesWithListener(as)
	wantCode(t, err, lbcert.CodeQuota)
}

// TestFaults: a throttled call changes nothing; a write whose answer is
// lost after it applied leaves the listener Configuring under a new job.
func TestFaults(t *testing.T) {
	e := newEnv(t, false)
	a, _ := lbcerttest.Cert(t, e.cas, zjk, "a", "a.example.com")
	b, _ := lbcerttest.Cert(t, e.cas, zjk, "b", "a.example.com")
	lbID, err := e.nlb.SeedLoadBalancer(zjk, "f")
	must(t, err)
	lsn, err := e.nlb.SeedListener(zjk, lbID, 443, "TCPSSL", a)
	must(t, err)

	e.inj.Set(faults.Rule{Action: "UpdateListenerAttribute", ThrottleRate: 1})
	_, err = e.setDefault(lsn, b)
	wantCode(t, err, "Throttling")
	if e.status(t, lsn).ListenerStatus != lbcert.Running {
		t.Fatal("a throttled write started a job")
	}

	e.inj.Set(faults.Rule{Action: "UpdateListenerAttribute", LostRate: 1})
	e.c.SetReadTimeout(300 * time.Millisecond)
	if _, err := e.setDefault(lsn, b); err == nil {
		t.Fatal("the write answered although its answer was to be lost")
	}
	st := e.nlb.Dump().LoadBalancers[0].Listeners[0]
	if st.Status != lbcert.Configuring || st.PendingDefault != b || e.inj.Stats()["UpdateListenerAttribute"].Lost != 1 {
		t.Fatalf("after a lost answer: %+v", st)
	}
}
