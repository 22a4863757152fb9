package expiry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify/notifytest"
)

const bucket = "certs-bucket"

func days(n int) time.Time { return now.Add(time.Duration(n) * 24 * time.Hour) }

// minimalCalls is the fewest API requests an inventory can take for a
// region of nLB load balancers with nL HTTPS listeners each.
func minimalCalls(nLB, nL int) int {
	calls := 1                     // DescribeServerCertificates
	calls += max(1, (nLB+99)/100)  // DescribeLoadBalancers
	for g := 0; g < nLB; g += 10 { // DescribeLoadBalancerListeners
		inGroup := min(10, nLB-g) * nL
		calls += max(1, (inGroup+99)/100)
	}
	return calls + nLB*nL // DescribeDomainExtensions
}

func TestInventoryCallCount(t *testing.T) {
	tests := []struct{ regions, lbs, listeners int }{
		{3, 25, 2},
		{1, 0, 0},
		{2, 101, 1},
		{1, 10, 15}, // 150 listeners in one group: two cursor pages
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%dx%d", tt.regions, tt.lbs, tt.listeners), func(t *testing.T) {
			cloud := newCloud()
			var regions []string
			for i := 0; i < tt.regions; i++ {
				r := fmt.Sprintf("cn-region%d", i)
				regions = append(regions, r)
				cloud.addRegion(r, tt.lbs, tt.listeners, cert("cert-"+r, byte(i+1), days(100), "www.example.com"))
			}
			s := &Sweeper{Inventory: cloud.reader()}
			rep, err := s.Sweep(context.Background(), now, Request{Regions: regions})
			if err != nil {
				t.Fatal(err)
			}
			want := tt.regions * minimalCalls(tt.lbs, tt.listeners)
			if got := cloud.total(); got != want {
				t.Errorf("API requests = %d %v, want the minimum %d", got, cloud.CallCounts(), want)
			}
			if rep.Listeners != tt.regions*tt.lbs*tt.listeners || rep.Targets != rep.Listeners {
				t.Errorf("listeners %d targets %d, want %d", rep.Listeners, rep.Targets, tt.regions*tt.lbs*tt.listeners)
			}
			if got := rep.Calls["ListDomainExtensions"]; got != tt.regions*tt.lbs*tt.listeners {
				t.Errorf("report counts %d extension calls", got)
			}
			if len(rep.Errors) != 0 {
				t.Errorf("errors: %+v", rep.Errors)
			}
		})
	}
}

func TestSweepClassifiesAndReports(t *testing.T) {
	cloud := newCloud()
	r := cloud.addRegion("cn-zhangjiakou", 2, 1,
		cert("c-ok", 1, days(100), "ok.example.com"),
		cert("c-warn", 2, days(20), "warn.example.com"),
		cert("c-crit", 3, days(7), "crit.example.com"),
		cert("c-exp", 4, days(-1), "exp.example.com"),
		cert("c-unused", 5, days(-30), "old.example.com"),
	)
	lb0, lb1 := r.lbs[0].ID, r.lbs[1].ID
	r.setListenerCertificate(lb1, 443, "c-warn")
	r.addExtensions(lb0, 443,
		clb.DomainExtension{ID: "de-1", Domain: "crit.example.com", ServerCertificateID: "c-crit"},
		clb.DomainExtension{ID: "de-2", Domain: "*.exp.example.com", ServerCertificateID: "c-exp"},
		clb.DomainExtension{ID: "de-3", Domain: "ghost.example.com", ServerCertificateID: "c-missing"},
	)
	objs := newObjects()
	s := &Sweeper{Inventory: cloud.reader(), Objects: objs, Bucket: bucket}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-zhangjiakou"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Counts{OK: 1, Warn: 1, Critical: 1, Expired: 1}); rep.Counts != want {
		t.Errorf("counts = %+v, want %+v", rep.Counts, want)
	}
	var order []string
	for _, c := range rep.Certificates {
		order = append(order, fmt.Sprintf("%s:%s:%d", c.ID, c.Class, c.DaysLeft))
	}
	if got := strings.Join(order, " "); got != "c-exp:expired:-1 c-crit:critical:7 c-warn:warn:20 c-ok:ok:100" {
		t.Errorf("certificates = %s", got)
	}
	if rep.Certificates[0].Targets[0].Domain != "*.exp.example.com" {
		t.Errorf("expired certificate targets = %+v", rep.Certificates[0].Targets)
	}
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error, "c-missing") {
		t.Errorf("errors = %+v, want one naming the unknown certificate", rep.Errors)
	}
	if rep.ReportKey != "reports/2026-11-28.json" {
		t.Errorf("report key = %q", rep.ReportKey)
	}
	var stored Report
	raw, err := objs.Get(context.Background(), bucket, rep.ReportKey, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Counts != rep.Counts || len(stored.Certificates) != 4 || stored.Certificates[2].Targets[0].LoadBalancerID != lb1 {
		t.Errorf("stored report differs: %+v", stored.Counts)
	}
}

func TestOneRegionFailingOthersContinue(t *testing.T) {
	cloud := newCloud()
	cloud.addRegion("cn-hangzhou", 3, 1, cert("c1", 1, days(10), "a.example.com"))
	cloud.addRegion("cn-shanghai", 3, 1, cert("c2", 2, days(90), "b.example.com"))
	cloud.fail = func(method, region, _ string) error {
		if region == "cn-shanghai" && method == "DescribeLoadBalancers" {
			return fmt.Errorf("Throttling after 5 attempts: %w", apierr.ErrTransient)
		}
		return nil
	}
	rec := &notifytest.Recorder{}
	s := &Sweeper{Inventory: cloud.reader(), Notifier: rec}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou", "cn-shanghai", "cn-nowhere"}})
	if err != nil {
		t.Fatalf("a partial failure failed the sweep: %v", err)
	}
	if len(rep.Certificates) != 1 || rep.Certificates[0].Region != "cn-hangzhou" {
		t.Errorf("certificates = %+v", rep.Certificates)
	}
	failed := map[string]Problem{}
	for _, p := range rep.Errors {
		failed[p.Region] = p
	}
	if p := failed["cn-shanghai"]; p.Stage != "loadbalancers" || !p.Transient {
		t.Errorf("cn-shanghai problem = %+v", p)
	}
	if p := failed["cn-nowhere"]; p.Stage == "" || p.Transient {
		t.Errorf("cn-nowhere problem = %+v, want a permanent failure", p)
	}
	if rec.Len() != 1 || !strings.Contains(strings.Join(rec.Messages()[0].Lines, "\n"), "FAILED expiry: list load balancers in cn-shanghai") {
		t.Errorf("notification = %+v", rec.Messages())
	}
}

func TestEveryRegionFailing(t *testing.T) {
	cloud := newCloud()
	cloud.addRegion("cn-hangzhou", 1, 1, cert("c1", 1, days(10), "a.example.com"))
	cloud.fail = func(method, region, _ string) error {
		return fmt.Errorf("ServiceUnavailable: %w", apierr.ErrTransient)
	}
	s := &Sweeper{Inventory: cloud.reader(), Objects: newObjects(), Bucket: bucket}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err = %v, want ErrTransient so that FC retries", err)
	}
	if rep.ReportKey == "" {
		t.Error("the failed sweep's report was not written")
	}

	cloud.fail = nil
	_, err = s.Sweep(context.Background(), now, Request{Regions: []string{"cn-nowhere"}})
	if err == nil || errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("unknown region only: err = %v, want a permanent error", err)
	}
}

func TestThrottlingMidSweep(t *testing.T) {
	cloud := newCloud()
	r := cloud.addRegion("cn-hangzhou", 25, 2, cert("c1", 1, days(60), "a.example.com"))
	throttled := r.lbs[7].ID + ":444"
	group := r.lbs[20].ID // third group of 10
	cloud.fail = func(method, _, detail string) error {
		switch {
		case method == "DescribeDomainExtensions" && detail == throttled:
			return fmt.Errorf("Throttling.User after retries: %w", apierr.ErrTransient)
		case method == "DescribeLoadBalancerListeners" && strings.Contains(detail, group):
			return fmt.Errorf("Throttling after retries: %w", apierr.ErrTransient)
		}
		return nil
	}
	s := &Sweeper{Inventory: cloud.reader(), Concurrency: 3}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatal(err)
	}
	// 20 load balancers' listeners were listed (the third group failed);
	// the throttled listener still counts with its default certificate.
	if rep.Listeners != 40 || rep.Targets != 40 {
		t.Errorf("listeners %d targets %d, want 40 and 40", rep.Listeners, rep.Targets)
	}
	stages := map[string]int{}
	for _, p := range rep.Errors {
		stages[p.Stage]++
		if !p.Transient {
			t.Errorf("throttling reported as permanent: %+v", p)
		}
	}
	if stages["extensions"] != 1 || stages["listeners"] != 1 || len(rep.Errors) != 2 {
		t.Errorf("errors = %+v", rep.Errors)
	}
}

func TestAutoRotation(t *testing.T) {
	cloud := newCloud()
	cloud.addRegion("cn-hangzhou", 1, 1, cert("c-www", 1, days(5), "www.example.com", "example.com"))
	cloud.addRegion("cn-beijing", 1, 1, cert("c-www-bj", 1, days(5), "www.example.com", "example.com"))
	cloud.addRegion("cn-shanghai", 1, 1, cert("c-api", 2, days(3), "api.example.org"))
	cloud.addRegion("cn-shenzhen", 1, 1, cert("c-fine", 3, days(200), "fine.example.com"))
	pairs := staticPairs{
		{Name: "www-old", Domains: []string{"www.example.com", "example.com"}, NotAfter: days(4), Fingerprint: fp(9)},
		{Name: "www-partial", Domains: []string{"www.example.com"}, NotAfter: days(300), Fingerprint: fp(10)},
		{Name: "www-wild", Domains: []string{"*.example.com", "example.com"}, NotAfter: days(90), Fingerprint: fp(11)},
		{Name: "www", Domains: []string{"example.com", "www.example.com"}, NotAfter: days(89), Fingerprint: fp(12)},
		{Name: "same", Domains: []string{"api.example.org"}, NotAfter: days(90), Fingerprint: strings.ToUpper(fp(2))},
		{Name: "fine", Domains: []string{"fine.example.com"}, NotAfter: days(400), Fingerprint: fp(13)},
	}
	rot := &fakeRotator{}
	rec := &notifytest.Recorder{}
	s := &Sweeper{Inventory: cloud.reader(), Pairs: pairs, Rotator: rot, Notifier: rec}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou", "cn-beijing", "cn-shanghai", "cn-shenzhen"}, AutoRotate: true})
	if err != nil {
		t.Fatal(err)
	}
	// www-wild covers, expires latest, once for both regions; fine is not
	// near expiry but the bucket holds a later pair for it: the sweep
	// converges on the bucket whatever the class (latest expiry first).
	if strings.Join(rot.names, ",") != "fine,www-wild" {
		t.Fatalf("rotated %v, want exactly [fine www-wild]", rot.names)
	}
	if len(rep.Actions) != 2 || rep.Actions[1].Pair != "www-wild" || rep.Actions[1].Status != "rotated" ||
		strings.Join(rep.Actions[1].Replaces, ",") != "cn-beijing/c-www-bj,cn-hangzhou/c-www" ||
		rep.Actions[0].Pair != "fine" || strings.Join(rep.Actions[0].Replaces, ",") != "cn-shenzhen/c-fine" {
		t.Errorf("actions = %+v", rep.Actions)
	}
	lines := strings.Join(rec.Messages()[0].Lines, "\n")
	if !strings.Contains(lines, "rotated pair www-wild") || !strings.Contains(lines, "replacement pair www-wild") {
		t.Errorf("notification lines:\n%s", lines)
	}

	// A failing rotation is reported and does not fail the sweep.
	rot2 := &fakeRotator{err: fmt.Errorf("rotation: upload: %w", apierr.ErrQuota)}
	s.Rotator = rot2
	rep, err = s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}, AutoRotate: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Actions) != 1 || rep.Actions[0].Status != "failed" || len(rep.Errors) != 1 || rep.Errors[0].Stage != "rotation" || rep.Errors[0].Transient {
		t.Errorf("actions %+v errors %+v", rep.Actions, rep.Errors)
	}

	// Without a bucket: said so, nothing rotated.
	s.Pairs, s.Rotator = nil, nil
	rep, _ = s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}, AutoRotate: true})
	if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error, "CERT_BUCKET") {
		t.Errorf("errors = %+v", rep.Errors)
	}
}

func TestProbeDriftAndUnreachable(t *testing.T) {
	cloud := newCloud()
	r := cloud.addRegion("cn-hangzhou", 3, 1, cert("c1", 1, days(100), "www.example.com"), cert("c2", 2, days(100), "*.api.example.com"))
	a0, a1, a2 := r.lbs[0].Address, r.lbs[1].Address, r.lbs[2].Address
	r.addExtensions(r.lbs[0].ID, 443, clb.DomainExtension{ID: "de-1", Domain: "*.api.example.com", ServerCertificateID: "c2"})
	r.addListener(clb.Listener{LoadBalancerID: r.lbs[2].ID, Port: 8443, Protocol: "https", Status: "stopped", ServerCertificateID: "c1"})
	prober := &mapProber{served: map[string]string{
		a0 + ":443/":                    strings.ToUpper(strings.ReplaceAll(fp(1), ":", "")), // same, other format
		a0 + ":443/www.api.example.com": fp(7),                                               // drift on the SNI extension
		a1 + ":443/":                    fp(1),
		// a2 unreachable
	}}
	rec := &notifytest.Recorder{}
	s := &Sweeper{Inventory: cloud.reader(), Prober: prober, Notifier: rec}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}, Probe: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := (ProbeCounts{Probed: 4, Matched: 2, Drift: 1, Unreachable: 1, Skipped: 1}); rep.Probes != want {
		t.Errorf("probes = %+v, want %+v (dials %v)", rep.Probes, want, prober.dials)
	}
	if len(rep.Drift) != 1 || rep.Drift[0].Target.Domain != "*.api.example.com" || rep.Drift[0].ServerName != "www.api.example.com" || rep.Drift[0].Served != fp(7) {
		t.Errorf("drift = %+v", rep.Drift)
	}
	if len(rep.Unreachable) != 1 || rep.Unreachable[0].Address != a2 {
		t.Errorf("unreachable = %+v", rep.Unreachable)
	}
	if rec.Len() != 1 || rec.Messages()[0].Severity != "critical" || !strings.Contains(rec.Messages()[0].Lines[0], "DRIFT cn-hangzhou/"+r.lbs[0].ID+":443 (SNI *.api.example.com)") {
		t.Errorf("notification = %+v", rec.Messages())
	}
}

func TestNotificationDeduplicatedAcrossRuns(t *testing.T) {
	cloud := newCloud()
	cloud.addRegion("cn-hangzhou", 2, 1, cert("c1", 1, days(29), "www.example.com"))
	cloud.addRegion("cn-beijing", 1, 1, cert("c1-bj", 1, days(29), "www.example.com"), cert("c9", 9, days(300), "x.example.com"))
	objs := newObjects()
	rec := &notifytest.Recorder{}
	s := &Sweeper{Inventory: cloud.reader(), Objects: objs, Bucket: bucket, Notifier: rec}
	req := Request{Regions: []string{"cn-hangzhou", "cn-beijing"}}
	sweep := func(at time.Time) Report {
		t.Helper()
		rep, err := s.Sweep(context.Background(), at, req)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	rep := sweep(now)
	if rec.Len() != 1 || len(rec.Messages()[0].Lines) != 1 || !strings.Contains(rec.Messages()[0].Lines[0], "cn-beijing, cn-hangzhou") && !strings.Contains(rec.Messages()[0].Lines[0], "cn-hangzhou, cn-beijing") {
		t.Fatalf("first run: %+v (one line for the certificate in both regions)", rec.Messages())
	}
	if rec.Messages()[0].Severity != "warning" || !rep.Notification.Sent {
		t.Errorf("first run: severity %s, notification %+v", rec.Messages()[0].Severity, rep.Notification)
	}

	rep = sweep(now.Add(time.Hour))
	if rec.Len() != 1 || rep.Notification.Suppressed != 1 || rep.Notification.Sent {
		t.Fatalf("second run notified again: %d messages, %+v", rec.Len(), rep.Notification)
	}

	// The next day still inside the 30-day level: quiet. 16 days later
	// (13 left) the 14-day threshold is crossed: one more.
	sweep(now.Add(24 * time.Hour))
	sweep(now.Add(16 * 24 * time.Hour))
	if rec.Len() != 2 || !strings.Contains(rec.Messages()[1].Lines[0], "13 days left") {
		t.Fatalf("threshold 14: %d messages %+v", rec.Len(), rec.Messages())
	}

	// A failed notification is not remembered: the next run sends it.
	rec.FailWith(errors.New("notify webhook: HTTP 502"))
	rep = sweep(now.Add(23 * 24 * time.Hour)) // 6 days left: level 7
	if rep.Notification.Sent || rep.Notification.Error == "" {
		t.Errorf("failed notification = %+v", rep.Notification)
	}
	rec.FailWith(nil)
	sweep(now.Add(23*24*time.Hour + time.Hour))
	if rec.Len() != 3 || rec.Messages()[2].Severity != "critical" {
		t.Fatalf("retry after failure: %d messages", rec.Len())
	}

	// Expiry is a threshold of its own: notified once.
	sweep(now.Add(30 * 24 * time.Hour))
	sweep(now.Add(31 * 24 * time.Hour))
	if rec.Len() != 4 || !strings.Contains(rec.Messages()[3].Lines[0], "EXPIRED") {
		t.Fatalf("expiry: %d messages %+v", rec.Len(), rec.Messages())
	}
}

func TestReportWriteFailure(t *testing.T) {
	cloud := newCloud()
	cloud.addRegion("cn-hangzhou", 1, 1, cert("c1", 1, days(100), "www.example.com"))
	objs := newObjects()
	objs.failPut = fmt.Errorf("oss: put: %w", apierr.ErrAccessDenied)
	s := &Sweeper{Inventory: cloud.reader(), Objects: objs, Bucket: bucket}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if err == nil || !errors.Is(err, apierr.ErrAccessDenied) {
		t.Fatalf("err = %v, want the write failure", err)
	}
	if rep.ReportKey != "" || len(rep.Certificates) != 1 {
		t.Errorf("report = %+v", rep)
	}
}

func TestSweepRejectsInvalidRequest(t *testing.T) {
	s := &Sweeper{Inventory: newCloud().reader()}
	_, err := s.Sweep(context.Background(), now, Request{WarnDays: []int{0}, Regions: []string{"cn-hangzhou"}})
	if !errors.Is(err, apierr.ErrInvalid) || !strings.Contains(err.Error(), "warnDays[0]") {
		t.Errorf("err = %v", err)
	}
}

func TestDeadlineCutsTheInventoryShortWithOneProblem(t *testing.T) {
	cloud := newCloud()
	cloud.addRegion("cn-hangzhou", 50, 4, cert("c1", 1, days(10), "a.example.com"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	cloud.fail = func(method, _, _ string) error {
		if method == "DescribeDomainExtensions" {
			calls++ // Concurrency 1: calls are serial
			if calls == 20 {
				cancel()
			}
		}
		return nil
	}
	objs := newObjects()
	s := &Sweeper{Inventory: cloud.reader(), Objects: objs, Bucket: bucket, Concurrency: 1}
	rep, err := s.Sweep(ctx, now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatalf("a cut-short sweep still reports: %v", err)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Stage != "inventory" || !strings.Contains(rep.Errors[0].Error, "cut short (20 of 200 listeners") {
		t.Errorf("errors = %+v", rep.Errors)
	}
	if rep.Targets != 20 || rep.ReportKey == "" {
		t.Errorf("targets %d, report %q", rep.Targets, rep.ReportKey)
	}
}

func TestNotificationFailureLeaksNoToken(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer hook.Close()
	n, err := notify.New(notify.KindDingTalk, hook.URL+"/robot/send?access_token=TOKEN-SHOULD-NOT-LEAK", "SEC-SHOULD-NOT-LEAK", hook.Client(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cloud := newCloud()
	cloud.addRegion("cn-hangzhou", 1, 1, cert("c1", 1, days(3), "www.example.com"))
	objs := newObjects()
	s := &Sweeper{Inventory: cloud.reader(), Objects: objs, Bucket: bucket, Notifier: n}
	rep, err := s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if err != nil {
		t.Fatalf("a failing notification failed the sweep: %v", err)
	}
	if rep.Notification.Sent || !strings.Contains(rep.Notification.Error, "HTTP 502") {
		t.Errorf("notification = %+v", rep.Notification)
	}
	raw, _ := json.Marshal(rep)
	stored, _ := objs.Get(context.Background(), bucket, rep.ReportKey, 1<<20)
	for _, b := range [][]byte{raw, stored} {
		if strings.Contains(string(b), "SHOULD-NOT-LEAK") {
			t.Errorf("report leaks the webhook token or secret: %s", b)
		}
	}

	// A Nop notifier (no NOTIFY_URL) does not claim to have sent anything.
	s.Notifier = notify.Nop{}
	rep, _ = s.Sweep(context.Background(), now, Request{Regions: []string{"cn-hangzhou"}})
	if rep.Notification.Sent {
		t.Errorf("Nop reported as sent: %+v", rep.Notification)
	}
}

func TestReportKeyUsesTheCallersDay(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	s := &Sweeper{}
	tests := []struct {
		now  time.Time
		want string
	}{
		// 03:00 in Shanghai is 19:00 UTC on the previous day.
		{time.Date(2026, 11, 29, 3, 0, 0, 0, shanghai), "reports/2026-11-29.json"},
		{time.Date(2026, 11, 28, 19, 0, 0, 0, time.UTC), "reports/2026-11-28.json"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "reports/2026-12-31.json"},
	}
	for _, tc := range tests {
		if got := s.ReportKey(tc.now, ""); got != tc.want {
			t.Errorf("ReportKey(%s) = %q, want %q", tc.now, got, tc.want)
		}
	}
}

// TestFannedOutGroupsKeepTheirOwnFiles: one timer trigger per group of
// regions; each group's report and notification memory have their own keys.
func TestFannedOutGroupsKeepTheirOwnFiles(t *testing.T) {
	now := time.Date(2026, 11, 28, 3, 0, 0, 0, time.UTC)
	s := &Sweeper{}
	if got, want := s.ReportKey(now, "eu"), "reports/2026-11-28-eu.json"; got != want {
		t.Errorf("ReportKey(eu) = %q, want %q", got, want)
	}
	if got, want := s.StateKey("eu"), "reports/state-eu.json"; got != want {
		t.Errorf("StateKey(eu) = %q, want %q", got, want)
	}
	if got, want := s.StateKey(""), "reports/state.json"; got != want {
		t.Errorf("StateKey() = %q, want %q", got, want)
	}
	for _, bad := range []string{"EU", "eu/west", "-eu", strings.Repeat("a", 33), "../x"} {
		if _, err := Normalize(Request{Regions: []string{"cn-hangzhou"}, Group: bad}); !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "group") {
			t.Errorf("Normalize(group %q) = %v, want an invalid-request error naming group", bad, err)
		}
	}

	// Two groups sweep into one bucket: two reports, neither overwritten.
	objs := newObjects()
	for _, g := range []struct{ group, region string }{{"asia", "cn-hangzhou"}, {"eu", "eu-central-1"}} {
		inv := newCloud()
		inv.addRegion(g.region, 1, 1, cert("c-"+g.group, 1, days(100), g.group+".example.com"))
		sw := &Sweeper{Inventory: inv.reader(), Objects: objs, Bucket: bucket}
		rep, err := sw.Sweep(context.Background(), now, Request{Regions: []string{g.region}, Group: g.group})
		if err != nil {
			t.Fatal(err)
		}
		if want := "reports/2026-11-28-" + g.group + ".json"; rep.ReportKey != want || rep.Group != g.group {
			t.Errorf("group %s: report key %q group %q, want %q", g.group, rep.ReportKey, rep.Group, want)
		}
	}
	for _, key := range []string{"reports/2026-11-28-asia.json", "reports/2026-11-28-eu.json"} {
		if _, err := objs.Get(context.Background(), bucket, key, 1<<20); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
}
