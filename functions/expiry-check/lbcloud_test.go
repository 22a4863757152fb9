package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/localcloudtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
)

// TestLocalCloudSweepsALBAndNLB runs the sweep as the function wires it
// (app.Root.Sweeper: ALB_ENDPOINT, NLB_ENDPOINT, CAS_ENDPOINT and
// PROBE_RESOLVER from the configuration) against the local cloud with a
// seeded fleet of 2 ALB and 2 NLB instances. One ALB listener also serves
// an additional certificate 5 days from expiry; one NLB instance's DNS name
// is pointed at another instance behind the API's back (the emulator has
// no stale frontend for ALB/NLB: the name serving another load balancer's
// certificate is the drift), so its listener serves a certificate that is
// not the configured one. The report names both, with product, instance,
// listener and role, and the notification carries both.
func TestLocalCloudSweepsALBAndNLB(t *testing.T) {
	const region = "cn-zhangjiakou"
	lc, fleet := fleetCloud(t, region, 0, 2)
	cloud := lc.Cloud
	var alb1, alb2, nlb2 emulator.FleetMember
	for _, m := range fleet {
		switch m.Kind + m.Domain {
		case "alb" + "alb-1.fleet.example.com":
			alb1 = m
		case "alb" + "alb-2.fleet.example.com":
			alb2 = m
		case "nlb" + "nlb-2.fleet.example.com":
			nlb2 = m
		}
	}
	soon := certstest.SelfSigned(t, certstest.Options{Domains: []string{"soon.fleet.example.com"}, KeyType: certstest.ECDSA,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5*24*time.Hour + time.Hour)})
	soonID, err := cloud.CAS.Seed(region, "soon", string(soon.CertPEM), string(soon.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	if err := cloud.ALB.SeedAdditionalCertificates(region, alb1.ListenerID, soonID); err != nil {
		t.Fatal(err)
	}
	redirectName(t, cloud.DNS.Store(), nlb2.DNSName, alb2.DNSName)

	hook := &hookRecorder{}
	srv := httptest.NewServer(hook)
	t.Cleanup(srv.Close)
	bucket, _ := cloud.Bucket()
	sw := wiredSweeper(t, lc, config.Config{CertBucket: bucket, CertPrefix: "certs/", Regions: []string{region}, FunctionRegion: region,
		ProbeTimeout: 2 * time.Second, NotifyKind: "webhook", NotifyURL: srv.URL})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before := map[string]int{"alb": len(cloud.ALB.Requests()), "nlb": len(cloud.NLB.Requests()), "cas": len(cloud.CAS.Requests())}
	rep, err := sw.Sweep(ctx, time.Now(), expiry.Request{Regions: []string{region}, Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}

	// 2 ALB listeners (default and shop SNI each, plus soon on alb-1) and
	// 2 NLB listeners: 4 listeners, 7 places, 7 distinct certificates.
	if rep.Listeners != 4 || rep.Targets != 7 || len(rep.Certificates) != 7 {
		t.Errorf("listeners %d targets %d certificates %d, want 4, 7, 7", rep.Listeners, rep.Targets, len(rep.Certificates))
	}
	first := rep.Certificates[0]
	if first.Product != "alb" || first.ID != soonID || first.Class != expiry.ClassCritical || first.DaysLeft != 5 ||
		len(first.Listeners) != 1 || first.Listeners[0].ListenerID != alb1.ListenerID || first.Listeners[0].LoadBalancerID != alb1.ID ||
		first.Listeners[0].Role != expiry.RoleAdditional || first.Listeners[0].ListenerPort != 443 {
		t.Errorf("first entry = %+v, want the ALB additional certificate 5 days from expiry", first)
	}
	if want := (expiry.Counts{OK: 6, Critical: 1}); rep.Counts != want {
		t.Errorf("counts %+v, want %+v", rep.Counts, want)
	}
	fps := map[string]string{}
	for _, c := range cloud.CAS.Dump() {
		fps[c.Identifier] = c.Fingerprint
	}
	if want := (expiry.ProbeCounts{Probed: 7, Matched: 6, Drift: 1}); rep.Probes != want {
		t.Errorf("probes %+v, want %+v (unreachable %+v)", rep.Probes, want, rep.Unreachable)
	}
	if len(rep.Drift) != 1 {
		t.Fatalf("drift = %+v, want the NLB listener", rep.Drift)
	}
	d := rep.Drift[0]
	if d.Product != "nlb" || d.Listener == nil || d.Listener.ListenerID != nlb2.ListenerID || d.Listener.Role != expiry.RoleDefault ||
		d.Address != nlb2.DNSName || !sameFP(d.Expected, fps[nlb2.CertID]) || !sameFP(d.Served, fps[alb2.CertID]) {
		t.Errorf("drift = %+v (listener %+v), want %s serving %s's certificate", d, d.Listener, nlb2.ListenerID, alb2.ID)
	}

	msgs := hook.bodies()
	if len(msgs) != 1 || !strings.Contains(msgs[0], "soon.fleet.example.com") || !strings.Contains(msgs[0], alb1.ListenerID) ||
		!strings.Contains(msgs[0], "DRIFT nlb") || !strings.Contains(msgs[0], nlb2.ListenerID) {
		t.Errorf("notifications = %q, want one naming the expiring certificate and the drift", msgs)
	}
	b, err := sw.Objects.Get(ctx, bucket, rep.ReportKey, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var stored expiry.Report
	if err := json.Unmarshal(b, &stored); err != nil || len(stored.Drift) != 1 || stored.Certificates[0].ID != soonID {
		t.Errorf("stored report %s: %v", rep.ReportKey, err)
	}
	// The requests on the wire: per product one listing of instances, one
	// of listeners and one certificate read per listener; one CAS listing.
	got := map[string]int{}
	for product, recs := range map[string][]rpc.Record{"alb": cloud.ALB.Requests(), "nlb": cloud.NLB.Requests(), "cas": cloud.CAS.Requests()} {
		for _, r := range recs[before[product]:] {
			got[product+"."+r.Action]++
		}
	}
	want := map[string]int{"alb.ListLoadBalancers": 1, "alb.ListListeners": 1, "alb.ListListenerCertificates": 2,
		"nlb.ListLoadBalancers": 1, "nlb.ListListeners": 1, "nlb.ListListenerCertificates": 2, "cas.ListUserCertificateOrder": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	if rep.Calls["cas.ListCertificates"] != 1 || rep.Calls["alb.ListListenerCertificates"] != 2 || rep.Calls["nlb.ListListenerCertificates"] != 2 {
		t.Errorf("calls %v", rep.Calls)
	}
	t.Logf("calls %v", rep.Calls)
}

// redirectName points name's A record at target's address.
func redirectName(t *testing.T, st *dns.Store, name, target string) {
	t.Helper()
	to := st.Lookup(name, dns.TypeA)
	from := st.Lookup(target, dns.TypeA)
	if len(to) != 1 || len(from) != 1 {
		t.Fatalf("A records of %s %v and %s %v", name, to, target, from)
	}
	r := to[0]
	r.Value = from[0].Value
	if !st.Update(r) {
		t.Fatalf("update %+v refused", r)
	}
}

func sameFP(a, b string) bool {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, ":", "")) }
	return a != "" && norm(a) == norm(b)
}

// hookRecorder is a webhook endpoint that keeps the bodies it receives.
type hookRecorder struct {
	mu  sync.Mutex
	got []string
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.got = append(h.got, string(b))
	h.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (h *hookRecorder) bodies() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got...)
}

// fleetCloud starts the local cloud with its bucket and SLB in region and
// seeds n ALB and n NLB instances whose jobs take configuring; its own ALB,
// NLB and CAS adapters poll jobs every 10 ms.
func fleetCloud(t *testing.T, region string, configuring time.Duration, n int) (*localcloudtest.Env, []emulator.FleetMember) {
	t.Helper()
	lc := localcloudtest.Start(t, localcloudtest.Options{PollInterval: 10 * time.Millisecond,
		Cloud: emulator.Options{Regions: []string{region}, BucketRegion: region, LBConfiguring: configuring}})
	fleet, err := lc.Cloud.SeedLBFleet(region, n)
	if err != nil {
		t.Fatal(err)
	}
	return lc, fleet
}

// wiredSweeper is the sweep as the function wires it (app.Root.Sweeper)
// with cfg pointed at lc's cloud and its access key in the environment.
func wiredSweeper(t *testing.T, lc *localcloudtest.Env, cfg config.Config) *expiry.Sweeper {
	t.Helper()
	sw, err := app.New(lc.Configure(cfg), lc.Getenv).Sweeper(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sw
}
