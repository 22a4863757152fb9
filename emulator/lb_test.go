package emulator

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	sdk "github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	sdkalb "github.com/aliyun/alibaba-cloud-sdk-go/services/alb"
	sdkcas "github.com/aliyun/alibaba-cloud-sdk-go/services/cas"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert/lbcerttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// TestLBFleetThroughDNSAndSDK: a seeded ALB and NLB fleet resolves through
// the cloud's DNS to live TLS frontends; CAS refuses to delete a certificate
// the fleet uses; a job failure set through /local/faults ends the next
// ALB job Failed; state and request log show the new services.
func TestLBFleetThroughDNSAndSDK(t *testing.T) {
	c, err := Start(Options{LBFleet: 1, LBConfiguring: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fleet := c.State()
	if len(fleet.ALB.LoadBalancers) != 1 || len(fleet.NLB.LoadBalancers) != 1 || len(fleet.CAS) != 3 || len(fleet.DNS) != 2 {
		t.Fatalf("seeded state: alb %d nlb %d cas %d dns %d", len(fleet.ALB.LoadBalancers), len(fleet.NLB.LoadBalancers), len(fleet.CAS), len(fleet.DNS))
	}
	albLB := fleet.ALB.LoadBalancers[0]
	env := c.functionEnv()
	for _, k := range []string{"ALB_ENDPOINT", "NLB_ENDPOINT", "CAS_ENDPOINT", "PROBE_RESOLVER"} {
		if env[k] == "" {
			t.Fatalf("function environment lacks %s", k)
		}
	}

	// DNS: the instance name resolves to its loopback address.
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, c.DNSAddr())
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := r.LookupHost(ctx, albLB.DNSName)
	if err != nil || len(addrs) != 1 || addrs[0] != albLB.Address {
		t.Fatalf("resolve %s: %v %v, want %s", albLB.DNSName, addrs, err, albLB.Address)
	}
	shop := casCert(t, fleet.CAS, "fleet-alb-1-shop")
	if got := lbcerttest.Served(t, net.JoinHostPort(addrs[0], "443"), "shop-1.fleet.example.com"); !strings.EqualFold(got, shop.Fingerprint) {
		t.Fatalf("served %s, want the shop certificate %s", got, shop.Fingerprint)
	}
	// The product's probe, pointed at the cloud's DNS (PROBE_RESOLVER), reaches
	// the NLB by its DNS name.
	nlbLB, nlbCert := fleet.NLB.LoadBalancers[0], casCert(t, fleet.CAS, "fleet-nlb-1")
	pr := tlsprobe.Prober{Resolver: env["PROBE_RESOLVER"]}.Probe(ctx, nlbLB.DNSName, 443, "nlb-1.fleet.example.com", 3*time.Second)
	if !pr.Reachable || !strings.EqualFold(strings.ReplaceAll(pr.FingerprintSHA1, ":", ""), nlbCert.Fingerprint) {
		t.Fatalf("probe of %s through the cloud's DNS: %+v", nlbLB.DNSName, pr)
	}

	// CAS: a certificate in use by the fleet cannot be deleted.
	ak, sk := c.Credentials()
	cc, err := sdkcas.NewClientWithOptions("cn-zhangjiakou", sdk.NewConfig(), credentials.NewStaticAKCredentialsProvider(ak, sk))
	lbcerttest.Must(t, err)
	cc.Domain = strings.TrimPrefix(c.CASEndpoint(), "http://")
	del := sdkcas.CreateDeleteUserCertificateRequest()
	del.CertId = requests.NewInteger64(shop.ID)
	_, err = cc.DeleteUserCertificate(del)
	lbcerttest.WantCode(t, err, cas.CodeInUse)

	// A job failure through the control API.
	resp, err := http.Post(c.FCEndpoint()+"/local/faults", "application/json",
		bytes.NewReader([]byte(`{"action":"UpdateListenerAttribute","jobFailNext":1}`)))
	lbcerttest.Must(t, err)
	resp.Body.Close()
	ac, err := sdkalb.NewClientWithOptions("cn-zhangjiakou", sdk.NewConfig(), credentials.NewStaticAKCredentialsProvider(ak, sk))
	lbcerttest.Must(t, err)
	ac.Domain = strings.TrimPrefix(c.ALBEndpoint(), "http://")
	up := sdkalb.CreateUpdateListenerAttributeRequest()
	up.ListenerId = albLB.Listeners[0].ID
	up.Certificates = &[]sdkalb.UpdateListenerAttributeCertificates{{CertificateId: casCert(t, fleet.CAS, "fleet-nlb-1").Identifier}}
	job, err := ac.UpdateListenerAttribute(up)
	lbcerttest.Must(t, err)
	status := waitJob(t, ac, job.JobId)
	if status != lbcert.JobFailed || c.State().JobFailures["UpdateListenerAttribute"] != 1 {
		t.Fatalf("job %s, failures %v", status, c.State().JobFailures)
	}

	var log RequestLog
	getJSON(t, c.FCEndpoint()+"/local/requests", &log)
	if len(log.ALB) == 0 || log.ALB[0].Action != "UpdateListenerAttribute" || len(log.CAS) != 1 || log.CAS[0].Code != cas.CodeInUse {
		t.Fatalf("request log alb %+v cas %+v", log.ALB, log.CAS)
	}
}

func casCert(t *testing.T, certs []cas.Certificate, name string) cas.Certificate {
	t.Helper()
	for _, c := range certs {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no CAS certificate %q", name)
	return cas.Certificate{}
}

// waitJob polls ListAsynJobs until the job is no longer Processing.
func waitJob(t *testing.T, c *sdkalb.Client, id string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := sdkalb.CreateListAsynJobsRequest()
		r.JobIds = &[]string{id}
		resp, err := c.ListAsynJobs(r)
		lbcerttest.Must(t, err)
		if len(resp.Jobs) == 1 && resp.Jobs[0].Status != lbcert.JobProcessing {
			return resp.Jobs[0].Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still processing: %+v", id, resp.Jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
