package expiry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify/notifytest"
)

// lbFleet is one CLB, ALB and NLB setup in cn-hangzhou (CAS cn-hangzhou):
// CLB serves clbOK; the ALB listener on 443 serves albWarn by default and
// albExp and albOK as additional certificates, its QUIC-like second
// listener on 8443 albOK by default, as does its QUIC listener; the NLB listener serves nlbCrit by
// default and albOK as an additional certificate (one CAS certificate on
// both products).
type lbFleet struct {
	clb                         *fakeCloud
	alb, nlb                    *fakeLB
	cas                         *fakeCAS
	albWarn, albExp, albOK      string
	nlbCrit                     string
	albListener, albListener2   string
	albQUIC                     string
	nlbListener                 string
	albAddress, nlbAddress      string
	albWarnFP, albOKFP, nlbCrFP string
}

func newLBFleet() *lbFleet {
	const region = "cn-hangzhou"
	f := &lbFleet{clb: newCloud(), alb: newFakeLB(clb.ProductALB), nlb: newFakeLB(clb.ProductNLB), cas: newFakeCAS()}
	f.clb.addRegion(region, 1, 1, cert("clb-ok", 1, days(100), "www.example.com"))
	f.albWarn = f.cas.add(region, 11, 11, days(20), "shop.example.com")
	f.albExp = f.cas.add(region, 12, 12, days(-2), "old.example.com")
	f.albOK = f.cas.add(region, 13, 13, days(200), "api.example.com", "*.api.example.com")
	f.nlbCrit = f.cas.add(region, 14, 14, days(3), "mq.example.com")
	f.cas.add(region, 15, 15, days(1), "unused.example.com") // served nowhere: not in the report
	ids := f.alb.addInstance(region, "alb-1", []int{443, 8443, quicPort}, [][]string{{f.albWarn, f.albExp, f.albOK}, {f.albOK}, {f.albOK}})
	f.albListener, f.albListener2, f.albQUIC = ids[0], ids[1], ids[2]
	f.nlbListener = f.nlb.addInstance(region, "nlb-1", []int{443}, [][]string{{f.nlbCrit, f.albOK}})[0]
	f.albAddress = "alb-1." + region + ".alb.example.net"
	f.nlbAddress = "nlb-1." + region + ".nlb.example.net"
	f.albWarnFP, f.albOKFP, f.nlbCrFP = fp(11), fp(13), fp(14)
	return f
}

func (f *lbFleet) sweeper() *Sweeper {
	return &Sweeper{Inventory: f.clb.reader(), ALB: lbPort(clb.ProductALB, f.alb, f.cas), NLB: lbPort(clb.ProductNLB, f.nlb, f.cas), CAS: f.cas.store()}
}

// entry finds the report entry of a product's certificate.
func entry(rep Report, product, id string) (Certificate, bool) {
	for _, c := range rep.Certificates {
		if c.Product == product && c.ID == id {
			return c, true
		}
	}
	return Certificate{}, false
}

func TestLBSweepClassifiesEveryProductInOneReport(t *testing.T) {
	f := newLBFleet()
	rec := &notifytest.Recorder{}
	objs := newObjects()
	s := f.sweeper()
	s.Objects, s.Bucket, s.Notifier = objs, bucket, rec
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %+v", rep.Errors)
	}
	tests := []struct {
		product, id, class string
		places             []string
	}{
		{clb.ProductCLB, "clb-ok", ClassOK, nil},
		{clb.ProductALB, f.albWarn, ClassWarn, []string{"alb cn-hangzhou/alb-1 listener " + f.albListener + ":443 (default)"}},
		{clb.ProductALB, f.albExp, ClassExpired, []string{"alb cn-hangzhou/alb-1 listener " + f.albListener + ":443 (additional)"}},
		{clb.ProductALB, f.albOK, ClassOK, []string{
			"alb cn-hangzhou/alb-1 listener " + f.albListener + ":443 (additional)",
			"alb cn-hangzhou/alb-1 listener " + f.albQUIC + ":4433 (default)",
			"alb cn-hangzhou/alb-1 listener " + f.albListener2 + ":8443 (default)"}},
		{clb.ProductNLB, f.nlbCrit, ClassCritical, []string{"nlb cn-hangzhou/nlb-1 listener " + f.nlbListener + ":443 (default)"}},
		{clb.ProductNLB, f.albOK, ClassOK, []string{"nlb cn-hangzhou/nlb-1 listener " + f.nlbListener + ":443 (additional)"}},
	}
	for _, tt := range tests {
		t.Run(tt.product+" "+tt.id, func(t *testing.T) {
			c, ok := entry(rep, tt.product, tt.id)
			if !ok {
				t.Fatalf("no entry in %+v", rep.Certificates)
			}
			if c.Class != tt.class {
				t.Errorf("class %s, want %s", c.Class, tt.class)
			}
			var places []string
			for _, p := range c.Listeners {
				places = append(places, p.String())
			}
			if fmt.Sprint(places) != fmt.Sprint(tt.places) {
				t.Errorf("places %q, want %q", places, tt.places)
			}
			if tt.product != clb.ProductCLB && (c.Region != "cn-hangzhou" || len(c.Targets) != 0 || len(c.Domains) == 0 || c.ExpireTime.IsZero()) {
				t.Errorf("entry %+v: want the CAS region, domains and expiry and no CLB targets", c)
			}
		})
	}
	if len(rep.Certificates) != len(tests) {
		t.Errorf("%d entries, want %d (the unused CAS certificate is not served)", len(rep.Certificates), len(tests))
	}
	if want := (Counts{OK: 3, Warn: 1, Critical: 1, Expired: 1}); rep.Counts != want {
		t.Errorf("counts %+v, want %+v", rep.Counts, want)
	}
	// CLB: 1 listener, 1 target; ALB: 3 listeners, 5 places; NLB: 1 listener, 2 places.
	if rep.Listeners != 5 || rep.Targets != 8 {
		t.Errorf("listeners %d targets %d, want 5 and 8", rep.Listeners, rep.Targets)
	}
	if rep.Certificates[0].ID != f.albExp || rep.Certificates[1].ID != f.nlbCrit {
		t.Errorf("not sorted soonest expiry first: %s, %s", rep.Certificates[0].ID, rep.Certificates[1].ID)
	}

	// One notification naming product, instance and listener of each
	// crossed threshold; the next sweep of the same day suppresses them.
	if rec.Len() != 1 {
		t.Fatalf("%d notifications, want 1", rec.Len())
	}
	msg := strings.Join(rec.Messages()[0].Lines, "\n")
	for _, want := range []string{
		"shop.example.com expires", "alb cn-hangzhou/alb-1 listener " + f.albListener + ":443 (default)",
		"old.example.com EXPIRED", "(additional)",
		"mq.example.com expires", "nlb cn-hangzhou/nlb-1 listener " + f.nlbListener + ":443 (default)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("notification lacks %q:\n%s", want, msg)
		}
	}
	if rep.Notification.Items != 3 || strings.Contains(msg, "api.example.com") {
		t.Errorf("notification items %d, want the 3 crossed thresholds only:\n%s", rep.Notification.Items, msg)
	}
	again, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Len() != 1 || again.Notification.Suppressed != 3 {
		t.Errorf("second sweep: %d notifications, %d suppressed; want the thresholds sent once", rec.Len(), again.Notification.Suppressed)
	}
	if b, ok := objs.objs[bucket+"/"+rep.ReportKey]; !ok || !strings.Contains(string(b), `"product": "nlb"`) || !strings.Contains(string(b), `"role": "additional"`) {
		t.Errorf("report %s not written with products and roles", rep.ReportKey)
	}
}

func TestLBSweepCallCounts(t *testing.T) {
	tests := []struct {
		name                string
		regions             []string
		instances, ports    int
		casRegions          int
		wantALBListCalls    int // ListLoadBalancers per region + ListListeners per region with instances
		wantListenerCertCnt int
	}{
		{"one region", []string{"cn-hangzhou"}, 3, 2, 1, 2, 6},
		{"two China regions share one CAS listing", []string{"cn-hangzhou", "cn-beijing"}, 2, 1, 1, 4, 4},
		{"China and international", []string{"cn-hangzhou", "eu-central-1"}, 1, 1, 2, 4, 2},
		{"150 instances: two pages of instances and listeners", []string{"cn-hangzhou"}, 150, 1, 1, 4, 150},
		{"a region without instances", []string{"cn-hangzhou", "cn-shanghai"}, 0, 0, 0, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clbOnly, clbWith := newCloud(), newCloud()
			alb, nlb, cas := newFakeLB(clb.ProductALB), newFakeLB(clb.ProductNLB), newFakeCAS()
			for i, r := range tt.regions {
				for _, c := range []*fakeCloud{clbOnly, clbWith} {
					c.addRegion(r, 12, 1, cert("clb-"+r, byte(i+1), days(100), "www.example.com"))
				}
				if tt.instances == 0 {
					continue
				}
				id := cas.add(r, int64(100+i), byte(100+i), days(100), "api.example.com")
				for k := range tt.instances {
					ports, certs := make([]int, tt.ports), make([][]string, tt.ports)
					for p := range ports {
						ports[p], certs[p] = 443+p, []string{id}
					}
					alb.addInstance(r, fmt.Sprintf("alb-%d", k), ports, certs)
				}
			}
			base, err := (&Sweeper{Inventory: clbOnly.reader()}).Sweep(context.Background(), now, Request{Regions: tt.regions})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := (&Sweeper{Inventory: clbWith.reader(), ALB: lbPort(clb.ProductALB, alb, cas), NLB: lbPort(clb.ProductNLB, nlb, cas), CAS: cas.store()}).Sweep(context.Background(), now, Request{Regions: tt.regions})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Errors) != 0 {
				t.Fatalf("errors %+v", rep.Errors)
			}
			// CLB's calls are those of a CLB-only sweep.
			if fmt.Sprint(clbWith.CallCounts()) != fmt.Sprint(clbOnly.CallCounts()) {
				t.Errorf("CLB requests %v, want those of a CLB-only sweep %v", clbWith.CallCounts(), clbOnly.CallCounts())
			}
			for k, v := range base.Calls {
				if rep.Calls[k] != v {
					t.Errorf("reported %s calls %d, CLB-only %d", k, rep.Calls[k], v)
				}
			}
			albList := alb.requests["ListLoadBalancers"] + alb.requests["ListListeners"]
			if albList != tt.wantALBListCalls || alb.requests["ListListenerCertificates"] != tt.wantListenerCertCnt {
				t.Errorf("ALB requests %v, want %d listings and %d listener certificate reads", alb.requests, tt.wantALBListCalls, tt.wantListenerCertCnt)
			}
			// No NLB instance: one listing of instances per region, no
			// listing of listeners (there is no load balancer to list them of).
			if nlb.total() != len(tt.regions) || nlb.requests["ListLoadBalancers"] != len(tt.regions) {
				t.Errorf("NLB requests %v, want 1 listing of instances per region", nlb.requests)
			}
			if len(cas.requests) != tt.casRegions {
				t.Errorf("CAS listed %v, want each of %d CAS regions once", cas.requests, tt.casRegions)
			}
			for r, n := range cas.requests {
				if n != 1 {
					t.Errorf("CAS region %s listed %d times, want once", r, n)
				}
			}
			if rep.Calls["alb.ListListenerCertificates"] != tt.wantListenerCertCnt || rep.Calls["cas.ListCertificates"] != tt.casRegions ||
				rep.Calls["nlb.ListLoadBalancers"] != len(tt.regions) || rep.Calls["nlb.ListListeners"] != 0 {
				t.Errorf("report calls %v", rep.Calls)
			}
		})
	}
}

func TestLBSweepFailingProductOrRegionContinues(t *testing.T) {
	throttled := fmt.Errorf("Throttling.User: %w", apierr.ErrTransient)
	denied := fmt.Errorf("Forbidden.RAM: %w", apierr.ErrInvalid)
	tests := []struct {
		name     string
		setup    func(f *lbFleet)
		problem  Problem // Stage, Product, Region, Transient compared
		absent   []string
		present  []string
		errorful bool
	}{
		{
			name:    "ALB instances refused",
			setup:   func(f *lbFleet) { f.alb.fail = failOn("ListLoadBalancers", "", denied) },
			problem: Problem{Stage: "loadbalancers", Product: clb.ProductALB, Region: "cn-hangzhou"},
			absent:  []string{"alb"},
			present: []string{"clb", "nlb"},
		},
		{
			name:    "NLB listeners throttled",
			setup:   func(f *lbFleet) { f.nlb.fail = failOn("ListListeners", "", throttled) },
			problem: Problem{Stage: "listeners", Product: clb.ProductNLB, Region: "cn-hangzhou", Transient: true},
			absent:  []string{"nlb"},
			present: []string{"clb", "alb"},
		},
		{
			name: "one ALB listener's certificates",
			setup: func(f *lbFleet) {
				f.alb.fail = failOn("ListListenerCertificates", f.albListener2, throttled)
			},
			problem: Problem{Stage: "listeners", Product: clb.ProductALB, Region: "cn-hangzhou", Transient: true},
			present: []string{"clb", "alb", "nlb"},
		},
		{
			name:    "CAS listing",
			setup:   func(f *lbFleet) { f.cas.fail = func(string) error { return throttled } },
			problem: Problem{Stage: "certificates", Product: "cas", Region: "cn-hangzhou", Transient: true},
			absent:  []string{"alb", "nlb"},
			present: []string{"clb"},
		},
		{
			name:    "every CLB region fails, ALB and NLB still reported",
			setup:   func(f *lbFleet) { f.clb.fail = func(m, _, _ string) error { return denied } },
			problem: Problem{Stage: "certificates", Region: "cn-hangzhou"},
			absent:  []string{"clb"},
			present: []string{"alb", "nlb"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLBFleet()
			tt.setup(f)
			rep, err := f.sweeper().Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
			if err != nil {
				t.Fatalf("sweep failed as a whole: %v", err)
			}
			found := false
			for _, p := range rep.Errors {
				if p.Stage == tt.problem.Stage && p.Product == tt.problem.Product && p.Region == tt.problem.Region && p.Transient == tt.problem.Transient {
					found = true
				}
				if strings.Contains(p.Error, "does not hold") {
					t.Errorf("a failed listing reported as unknown certificates: %+v", p)
				}
			}
			if !found {
				t.Errorf("errors %+v, want one like %+v", rep.Errors, tt.problem)
			}
			products := map[string]bool{}
			for _, c := range rep.Certificates {
				products[c.Product] = true
			}
			for _, p := range tt.absent {
				if products[p] {
					t.Errorf("%s certificates reported although its inventory failed", p)
				}
			}
			for _, p := range tt.present {
				if !products[p] {
					t.Errorf("%s certificates missing: one failure stopped the others (%+v)", p, rep.Errors)
				}
			}
		})
	}
}

func TestLBSweepEveryProductFailing(t *testing.T) {
	f := newLBFleet()
	throttled := fmt.Errorf("Throttling: %w", apierr.ErrTransient)
	f.clb.fail = func(string, string, string) error { return throttled }
	f.alb.fail = failOn("ListListeners", "", throttled)
	f.nlb.fail = failOn("ListLoadBalancers", "", throttled)
	_, err := f.sweeper().Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err = %v, want every region failed, transient", err)
	}
}

func TestLBSweepUnknownCertificateReported(t *testing.T) {
	f := newLBFleet()
	f.alb.addInstance("cn-hangzhou", "alb-2", []int{443}, [][]string{{"999-cn-hangzhou"}})
	rep, err := f.sweeper().Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Product != clb.ProductALB || !strings.Contains(rep.Errors[0].Error, "999-cn-hangzhou") {
		t.Errorf("errors %+v, want the unknown certificate named once", rep.Errors)
	}
}

func TestLBSweepWithoutCAS(t *testing.T) {
	f := newLBFleet()
	s := f.sweeper()
	s.CAS = nil
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Product != "cas" || f.alb.total() != 0 || len(rep.Certificates) != 1 {
		t.Errorf("errors %+v, %d ALB calls, %d entries: want the missing CAS reported and only CLB swept", rep.Errors, f.alb.total(), len(rep.Certificates))
	}
}

func TestLBProbeDrift(t *testing.T) {
	tests := []struct {
		name       string
		served     func(f *lbFleet) map[string]string
		wantCounts ProbeCounts
		wantDrift  []string // "<product> <listener> <sni>"
	}{
		{
			name: "everything served as configured",
			served: func(f *lbFleet) map[string]string {
				return map[string]string{
					f.albAddress + ":443/":                f.albWarnFP,
					f.albAddress + ":443/old.example.com": fp(12),
					f.albAddress + ":443/api.example.com": f.albOKFP,
					f.albAddress + ":8443/":               f.albOKFP,
					f.nlbAddress + ":443/":                f.nlbCrFP,
					f.nlbAddress + ":443/api.example.com": f.albOKFP,
					"127.0.1.1:443/":                      fp(1), // the CLB
				}
			},
			wantCounts: ProbeCounts{Probed: 7, Matched: 7, Skipped: 1}, // QUIC: not over TCP
		},
		{
			name: "the NLB default and an ALB additional certificate drift",
			served: func(f *lbFleet) map[string]string {
				return map[string]string{
					f.albAddress + ":443/":                f.albWarnFP,
					f.albAddress + ":443/old.example.com": fp(12),
					f.albAddress + ":443/api.example.com": f.albWarnFP, // SNI not bound: the default answers
					f.albAddress + ":8443/":               f.albOKFP,
					f.nlbAddress + ":443/":                fp(99), // another certificate behind the API's back
					f.nlbAddress + ":443/api.example.com": f.albOKFP,
					"127.0.1.1:443/":                      fp(1),
				}
			},
			wantCounts: ProbeCounts{Probed: 7, Matched: 5, Drift: 2, Skipped: 1},
			wantDrift:  []string{"alb lsn-alb-1-443 api.example.com", "nlb lsn-nlb-1-443 "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newLBFleet()
			prober := &mapProber{served: tt.served(f)}
			s := f.sweeper()
			s.Prober = prober
			rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}, Probe: true})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Probes != tt.wantCounts {
				t.Errorf("probes %+v, want %+v (dials %v, unreachable %+v)", rep.Probes, tt.wantCounts, prober.dials, rep.Unreachable)
			}
			var drift []string
			for _, d := range rep.Drift {
				if d.Listener == nil {
					t.Fatalf("drift %+v does not name its listener", d)
				}
				drift = append(drift, d.Product+" "+d.Listener.ListenerID+" "+d.ServerName)
				if d.Expected == d.Served || d.Served == "" {
					t.Errorf("drift %+v", d)
				}
			}
			if fmt.Sprint(drift) != fmt.Sprint(tt.wantDrift) {
				t.Errorf("drift %q, want %q", drift, tt.wantDrift)
			}
		})
	}
}

// failOn fails method (for listener, or any when "") with err.
func failOn(method, listener string, err error) func(string, string, string) error {
	return func(m, _, l string) error {
		if m == method && (listener == "" || l == listener) {
			return err
		}
		return nil
	}
}

// TestLBSweepWithOneSlot: a listener read resolves its certificates in the
// CAS listing while it holds a slot of the sweep's bound; the listing has a
// bound of its own, so a sweep with Concurrency 1 still completes (sharing
// the one slot, the listing would wait for the read that waits for it).
func TestLBSweepWithOneSlot(t *testing.T) {
	f := newLBFleet()
	s := f.sweeper()
	s.Concurrency = 1
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, err := s.Sweep(ctx, now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 || len(rep.Certificates) != 6 || rep.Calls["cas.ListCertificates"] != 1 {
		t.Errorf("errors %+v, %d entries, calls %v: want the whole fleet, CAS listed once", rep.Errors, len(rep.Certificates), rep.Calls)
	}
}

// TestLBSweepReaderWithoutHoldings: an ALB inventory that cannot tell what
// each listener holds (a plain inventory.Reader) is reported, not swept as
// if it served nothing; NLB and CLB go on.
func TestLBSweepReaderWithoutHoldings(t *testing.T) {
	f := newLBFleet()
	s := f.sweeper()
	s.ALB = f.clb.reader()
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Product != clb.ProductALB || !strings.Contains(rep.Errors[0].Error, "ListenerReader") {
		t.Errorf("errors %+v, want the ALB inventory named", rep.Errors)
	}
	if _, ok := entry(rep, clb.ProductNLB, f.nlbCrit); !ok {
		t.Errorf("NLB not swept: %+v", rep.Certificates)
	}
}
