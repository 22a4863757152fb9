package expiry_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// localSLB starts the SLB emulator on loopback and returns it with an
// adapter that talks to it (fast retries for the tests).
func localSLB(t *testing.T, opts slb.Options) (*slb.Server, *aliyun.SLB) {
	t.Helper()
	if opts.Instances == nil {
		opts.Instances = []slb.ECSInstance{}
	}
	srv, err := slb.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Close()
	})
	acct := slb.DefaultAccounts()[0]
	adapter := aliyun.NewSLB(aliyun.Credentials{AccessKeyID: acct.AccessKeyID, AccessKeySecret: acct.AccessKeySecret},
		aliyun.SLBOptions{Endpoint: hs.URL, Retry: aliyun.RetryPolicy{MaxAttempts: 8, BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, Seed: 7}})
	return srv, adapter
}

func pair(t *testing.T, notAfter time.Time, domains ...string) certstest.Pair {
	t.Helper()
	return certstest.SelfSigned(t, certstest.Options{Domains: domains, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// minimal is the fewest requests an inventory of a region with nLB load
// balancers of nL HTTPS listeners each can take.
func minimal(nLB, nL int) map[string]int {
	listenerCalls := 0
	for g := 0; g < nLB; g += 10 {
		listenerCalls += max(1, (min(10, nLB-g)*nL+99)/100)
	}
	return map[string]int{
		"DescribeServerCertificates":    1,
		"DescribeLoadBalancers":         max(1, (nLB+99)/100),
		"DescribeLoadBalancerListeners": listenerCalls,
		"DescribeDomainExtensions":      nLB * nL,
	}
}

func TestLocalCloudInventoryCallCount(t *testing.T) {
	regions := []string{"cn-hangzhou", "cn-shanghai", "cn-beijing"}
	const nLB, nL = 25, 2
	srv, adapter := localSLB(t, slb.Options{Regions: regions, NoFrontends: true})
	p := pair(t, time.Now().Add(60*24*time.Hour), "www.example.com")
	for _, r := range regions {
		certID, err := srv.SeedServerCertificate(r, "www", string(p.CertPEM), string(p.KeyPEM), nil)
		must(t, err)
		for i := 0; i < nLB; i++ {
			lb, err := srv.SeedLoadBalancer(r, fmt.Sprintf("lb-%d", i))
			must(t, err)
			for l := 0; l < nL; l++ {
				must(t, srv.SeedHTTPSListener(r, lb, 443+l, certID, true))
			}
		}
	}
	s := &expiry.Sweeper{Inventory: inventory.CLB{API: adapter}}
	before := len(srv.Requests())
	rep, err := s.Sweep(context.Background(), time.Now(), expiry.Request{Regions: regions})
	must(t, err)

	got := map[string]int{}
	for _, rec := range srv.Requests()[before:] {
		got[rec.Action]++
	}
	want := map[string]int{}
	total := 0
	for k, v := range minimal(nLB, nL) {
		want[k] = v * len(regions)
		total += v * len(regions)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests by action = %v, want the minimum %v", got, want)
	}
	if total != 165 {
		t.Errorf("minimum computed as %d, want 3×(1+1+3+50) = 165", total)
	}
	if rep.Listeners != 150 || rep.Counts.Warn != 0 || rep.Counts.OK != 3 || len(rep.Certificates) != 3 || len(rep.Certificates[0].Targets) != 50 {
		t.Errorf("report: listeners %d counts %+v certificates %d", rep.Listeners, rep.Counts, len(rep.Certificates))
	}
}

func TestLocalCloudDriftThrottlingAndFailingRegion(t *testing.T) {
	inj := faults.New(42)
	srv, adapter := localSLB(t, slb.Options{Regions: []string{"cn-hangzhou", "cn-shanghai"}, Faults: inj})
	ctx := context.Background()
	now := time.Now()
	soon := pair(t, now.Add(10*24*time.Hour), "www.example.com")
	api := pair(t, now.Add(200*24*time.Hour), "api.example.com")
	next := pair(t, now.Add(90*24*time.Hour), "www.example.com")

	const region = "cn-hangzhou"
	soonID, err := srv.SeedServerCertificate(region, "www-soon", string(soon.CertPEM), string(soon.KeyPEM), nil)
	must(t, err)
	apiID, err := srv.SeedServerCertificate(region, "api", string(api.CertPEM), string(api.KeyPEM), nil)
	must(t, err)
	nextID, err := srv.SeedServerCertificate(region, "www-next", string(next.CertPEM), string(next.KeyPEM), nil)
	must(t, err)
	lb0, err := srv.SeedLoadBalancer(region, "web-0")
	must(t, err)
	lb1, err := srv.SeedLoadBalancer(region, "web-1")
	must(t, err)
	must(t, srv.SeedHTTPSListener(region, lb0, 443, soonID, true))
	_, err = srv.SeedDomainExtension(region, lb0, 443, "api.example.com", apiID)
	must(t, err)
	must(t, srv.SeedHTTPSListener(region, lb1, 443, soonID, true))
	must(t, srv.SeedHTTPSListener(region, lb1, 8443, soonID, false)) // stopped: not probed

	// lb1:443 keeps serving the old certificate while the API switches.
	srv.SetStaleFrontend(lb1, 443, true)
	must(t, adapter.SetListenerCertificate(ctx, region, lb1, 443, nextID))

	// Throttling mid-sweep: a third of the per-listener calls are refused.
	inj.Set(faults.Rule{Action: "DescribeDomainExtensions", ThrottleRate: 0.34})

	s := &expiry.Sweeper{Inventory: inventory.CLB{API: adapter}, Prober: app.TLSProber(""), ProbeTimeout: 2 * time.Second}
	rep, err := s.Sweep(ctx, now, expiry.Request{Regions: []string{"cn-hangzhou", "cn-shanghai", "cn-nowhere"}, Probe: true})
	must(t, err)

	if len(rep.Errors) == 0 {
		t.Fatal("the unknown region was not reported")
	}
	for _, p := range rep.Errors {
		if p.Region != "cn-nowhere" || p.Transient {
			t.Fatalf("errors = %+v, want only the unknown region's permanent failure", rep.Errors)
		}
	}
	if rep.Listeners != 3 || rep.Targets != 4 {
		t.Errorf("listeners %d targets %d, want 3 and 4", rep.Listeners, rep.Targets)
	}
	if want := (expiry.Counts{OK: 2, Warn: 1}); rep.Counts != want {
		t.Errorf("counts = %+v, want %+v", rep.Counts, want)
	}
	if want := (expiry.ProbeCounts{Probed: 3, Matched: 2, Drift: 1, Skipped: 1}); rep.Probes != want {
		t.Errorf("probes = %+v, want %+v (unreachable %+v)", rep.Probes, want, rep.Unreachable)
	}
	if len(rep.Drift) != 1 || rep.Drift[0].Target.LoadBalancerID != lb1 || rep.Drift[0].Target.ListenerPort != 443 ||
		rep.Drift[0].Served != soon.FingerprintSHA1 || rep.Drift[0].Expected != next.FingerprintSHA1 {
		t.Errorf("drift = %+v", rep.Drift)
	}
	if st := inj.Stats()["DescribeDomainExtensions"]; st.Throttled == 0 {
		t.Errorf("no throttling happened (%+v): the test proves nothing", st)
	}
	for _, c := range rep.Certificates {
		if c.ID == soonID && (c.Class != expiry.ClassWarn || c.DaysLeft != 9 || !strings.Contains(fmt.Sprint(c.Targets), lb0)) {
			t.Errorf("expiring certificate = %+v", c)
		}
	}
}
