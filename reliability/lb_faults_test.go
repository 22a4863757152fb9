package reliability

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/alb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/nlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// lbConfiguring is how long an ALB or NLB write keeps its listener
// Configuring in the seeded LB runs: short, so that the rotation's writes
// (default, additional, the next attempt's) collide with running jobs.
const lbConfiguring = 40 * time.Millisecond

// lbFleet is the CLB fleet of seedFleet plus, in suiteRegions[0], one ALB
// (default alb-1, additional shop-1, and the user's unrelated additional
// certificate for other.example.org) and one NLB (default nlb-1).
type lbFleet struct {
	*fleet
	members []emulator.FleetMember
	otherID string // the user's unrelated ALB additional certificate (CAS identity)
	otherFP string
	// neighbourID is another certificate of the user's that a concurrent
	// writer (neighbour) keeps associating and dissociating on the ALB
	// listener during the run: the rotation's writes collide with its jobs.
	neighbourID string
}

func (f *lbFleet) member(kind string) emulator.FleetMember {
	for _, m := range f.members {
		if m.Kind == kind {
			return m
		}
	}
	panic("reliability: no " + kind + " in the fleet")
}

// seedLBFleet seeds the CLB fleet, the ALB/NLB fleet and the user's
// certificate; the new pair (90 days) covers every target's name.
func seedLBFleet(t *testing.T, e *env) *lbFleet {
	t.Helper()
	f := &lbFleet{fleet: seedFleet(t, e)}
	region := suiteRegions[0]
	var err error
	f.members, err = e.Cloud.SeedLBFleet(region, 1)
	must(t, err)
	other := certstest.SelfSigned(t, certstest.Options{Domains: []string{"other.example.org"}, NotBefore: time.Now().Add(-time.Hour)})
	f.otherID, err = e.Cloud.CAS.Seed(region, "users-own", string(other.CertPEM), string(other.KeyPEM))
	must(t, err)
	f.otherFP = other.FingerprintSHA1
	must(t, e.Cloud.ALB.SeedAdditionalCertificates(region, f.member("alb").ListenerID, f.otherID))
	nb := certstest.SelfSigned(t, certstest.Options{Domains: []string{"neighbour.example.org"}, NotBefore: time.Now().Add(-time.Hour)})
	f.neighbourID, err = e.Cloud.CAS.Seed(region, "users-neighbour", string(nb.CertPEM), string(nb.KeyPEM))
	must(t, err)
	now := time.Now()
	f.newPair = certstest.SelfSigned(t, certstest.Options{
		Domains:   []string{"www.example.com", "api.example.com", "alb-1.fleet.example.com", "shop-1.fleet.example.com", "nlb-1.fleet.example.com"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)})
	e.seen.secrets(f.newPair.KeyPEM, other.KeyPEM, nb.KeyPEM)
	return f
}

// lbRotator is e.rotator with the three products wired as
// functions/rotate-on-upload wires them, and the prober resolving the
// ALB/NLB names through the cloud's DNS (PROBE_RESOLVER).
func (e *env) lbRotator() *rotation.Rotator {
	return e.WithProducts(e.rotator(e.SLB), clb.ProductCLB, clb.ProductALB, clb.ProductNLB)
}

// TestReliabilitySeededLBFaults rotates one pair to a CLB fleet (three
// targets, two regions), an ALB listener (default, an SNI target, and the
// user's unrelated SNI certificate) and an NLB listener, retried like FC
// until it succeeds, under per-seed faults on every call (ALB, NLB, CAS,
// SLB, OSS): 30 % throttling, 10 % 5xx, 10 % of the writes applied with the
// answer lost, 20 % of the ALB/NLB jobs ending Failed, and a short
// Configuring time so that writes collide. Invariants after the run and
// after the next run: see checkLB and checkInvariants.
func TestReliabilitySeededLBFaults(t *testing.T) {
	// Short form: two seeds (5000 and 5002: 5001 alone takes ~40 s); long:
	// 60 (5000-5059).
	seeds := []int64{5000, 5002}
	if long() {
		seeds = nil
		for i := range 60 {
			seeds = append(seeds, int64(5000+i))
		}
	}
	n := len(seeds)
	var totalAttempts, injected, jobsFailed, collisions, lostLB atomic.Int64
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			out, st := lbFaultRun(t, seed)
			totalAttempts.Add(int64(out.attempts))
			jobsFailed.Add(int64(st.failedJobs))
			collisions.Add(int64(st.collisions))
			lostLB.Add(int64(st.lost))
			for _, st := range out.faults {
				injected.Add(int64(st.Throttled + st.Errors + st.Timeouts + st.Resets + st.Lost))
			}
		})
	}
	t.Cleanup(func() {
		t.Logf("%d seeded LB runs: %d invocations in all, %d faults injected, %d ALB/NLB/CAS writes applied with the answer lost, %d jobs failed, %d writes refused on a Configuring listener",
			n, totalAttempts.Load(), injected.Load(), lostLB.Load(), jobsFailed.Load(), collisions.Load())
		if !t.Failed() && (lostLB.Load() == 0 || jobsFailed.Load() == 0) {
			t.Errorf("the runs drew no lost ALB/NLB/CAS answer (%d) or no failed job (%d): the faults were not exercised", lostLB.Load(), jobsFailed.Load())
		}
	})
}

// setLBFaults installs the seed's faults: on every call (SLB, OSS, ALB,
// NLB, CAS) 30 % throttling, 10 % 5xx and 10 % of the writes applied with
// the answer lost; on the ALB, NLB and CAS writes a lost-answer rate of 20,
// 35 or 50 % (by seed: a lost ALB/NLB answer leaves a job running, and the
// adapter's retry collides with the Configuring listener); ALB and NLB jobs
// ending Failed at 15, 30 or 45 % (by seed).
func setLBFaults(c *emulator.Cloud, seed int64) {
	base := faults.Rule{ThrottleRate: 0.30, ServerErrorRate: 0.10, LostRate: 0.10}
	c.Faults.Set(base)
	lostRate := []float64{0.20, 0.35, 0.50}[seed%3]
	for _, set := range [][]string{alb.Actions(), nlb.Actions(), cas.Actions()} {
		for _, a := range set {
			if alb.IsWrite(a) || nlb.IsWrite(a) || cas.IsWrite(a) {
				r := base
				r.Action, r.LostRate = a, lostRate
				c.Faults.Set(r)
			}
		}
	}
	c.JobFaults.Set(faults.JobRule{FailRate: []float64{0.15, 0.30, 0.45}[(seed/3)%3]})
}

// neighbour starts the concurrent writer of f.neighbourID on the ALB
// listener (associate, dissociate, … as soon as the listener is idle, under the same faults,
// errors ignored); the returned func stops it and waits for it.
func neighbour(e *env, seed int64, f *lbFleet) (stop func()) {
	api := aliyun.NewALB(e.Creds, aliyun.RPCOptions{Endpoint: e.Cloud.ALBEndpoint(), Retry: fastRetry(seed + 7), Timeout: 400 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	region, listener := suiteRegions[0], f.member("alb").ListenerID
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil; i++ {
			if i%2 == 0 {
				_ = api.AssociateAdditionalCertificate(ctx, region, listener, f.neighbourID)
			} else {
				_ = api.DissociateAdditionalCertificate(ctx, region, listener, f.neighbourID)
			}
			select { // no pause after a success: the next write races the rotation's for the idle listener
			case <-ctx.Done():
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }
}

// namesCert reports whether a request names certificate id.
func namesCert(r rpc.Record, id string) bool {
	for _, v := range r.Params {
		if v == id {
			return true
		}
	}
	return false
}

// lbStats counts what the faults did to the ALB, NLB and CAS writes of a run.
type lbStats struct{ failedJobs, collisions, lost int }

func lbFaultRun(t *testing.T, seed int64) (runOutcome, lbStats) {
	e := startEnvWith(t, emulator.Options{Seed: seed, Regions: suiteRegions, Bucket: fmt.Sprintf("certs-lb-%d", seed), LBConfiguring: lbConfiguring}, &transcript{})
	f := seedLBFleet(t, e)
	lock := watchLock(e, "www")
	putPair(t, e, "www", f.newPair)
	setLBFaults(e.Cloud, seed)
	stopNeighbour := neighbour(e, seed, f)

	var out runOutcome
	done := false
	for attempt := 1; attempt <= maxAttempts && !done; attempt++ {
		out.attempts = attempt
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		res, err := e.lbRotator().RotateName(ctx, time.Now(), e.Bucket, "www")
		cancel()
		recordResult(e, res, err)
		if res.Status == rotation.StatusRejected {
			t.Fatalf("attempt %d: rejected under transient faults: %s (%v)", attempt, res.Reason, res.Errors)
		}
		done = err == nil && (res.Status == rotation.StatusRotated || res.Status == rotation.StatusUnchanged)
	}
	stopNeighbour()
	if !done {
		t.Fatalf("no successful invocation in %d attempts", maxAttempts)
	}
	out.faults = e.Cloud.Faults.Stats()
	st := lbStats{failedJobs: len(e.Cloud.JobFaults.Failed())}
	log := e.Cloud.RequestLog()
	for _, r := range append(append(append([]rpc.Record(nil), log.ALB...), log.NLB...), log.CAS...) {
		if strings.HasPrefix(r.Fault, "lost ") {
			st.lost++
		}
		if r.Code == lbcert.CodeListenerBusy && !namesCert(r, f.neighbourID) {
			st.collisions++
		}
	}
	e.Cloud.Faults.Clear()
	e.Cloud.JobFaults.Clear()
	checkInvariants(t, e, f.fleet, "after the run")
	checkLB(t, e, f, "after the run", false)

	before := e.Cloud.RequestLog()
	res, err := e.lbRotator().RotateName(context.Background(), time.Now(), e.Bucket, "www")
	recordResult(e, res, err)
	if err != nil || (res.Status != rotation.StatusUnchanged && res.Status != rotation.StatusRotated) {
		t.Fatalf("next run: status %s err %v reason %q", res.Status, err, res.Reason)
	}
	after := e.Cloud.RequestLog()
	for _, w := range writes(after.SLB[len(before.SLB):]) {
		if w == "UploadServerCertificate" || w == "SetListenerAttribute" || w == "SetHTTPSListenerAttribute" || w == "SetDomainExtensionAttribute" {
			t.Errorf("next run made a %s call: the state had converged already", w)
		}
	}
	for _, l := range []struct {
		recs    []rpc.Record
		isWrite func(string) bool
	}{
		{after.ALB[len(before.ALB):], alb.IsWrite}, {after.NLB[len(before.NLB):], nlb.IsWrite},
		{after.CAS[len(before.CAS):], func(a string) bool { return a == "UploadUserCertificate" }}, // deletes are cleanup
	} {
		for _, r := range l.recs {
			if r.Status == 200 && l.isWrite(r.Action) {
				t.Errorf("next run made a %s call: the state had converged already", r.Action)
			}
		}
	}
	checkInvariants(t, e, f.fleet, "after the next run")
	checkLB(t, e, f, "after the next run", true)
	checkNoOrphans(t, e, f.fleet)
	if lock.check(t, "seeded LB run") < 2 {
		t.Error("the lock was not taken by the run and the next run")
	}
	checkLockFree(t, e, "www")
	checkNoLeaks(t, e.seen, e.Creds.AccessKeySecret)
	return out, st
}

// lbSnapshot is what checkLB judges: the ALB and NLB state, CAS's
// certificates and the request logs, plus what the handshakes served.
type lbSnapshot struct {
	alb, nlb lbcert.State
	cas      []cas.Certificate
	log      emulator.RequestLog
	served   map[string]string // "<dns name> <sni>" -> leaf fingerprint
}

// lbWant is the expected end state.
type lbWant struct {
	newFP, otherID, otherFP string
	neighbourID             string // the user's, managed by another writer: may be there or not
	albListener, nlbListen  string
	probes                  []lbProbe
	orphans                 bool // check that nothing of ours is unreferenced
}

type lbProbe struct{ name, sni, fp string }

// checkLB takes a snapshot of the cloud (handshakes included) and reports
// every violation of lbViolations.
func checkLB(t *testing.T, e *env, f *lbFleet, when string, orphans bool) {
	t.Helper()
	alb, nlb := f.member("alb"), f.member("nlb")
	w := lbWant{newFP: f.newPair.FingerprintSHA1, otherID: f.otherID, otherFP: f.otherFP, neighbourID: f.neighbourID,
		albListener: alb.ListenerID, nlbListen: nlb.ListenerID, orphans: orphans,
		probes: []lbProbe{{alb.DNSName, "alb-1.fleet.example.com", f.newPair.FingerprintSHA1}, {alb.DNSName, "shop-1.fleet.example.com", f.newPair.FingerprintSHA1},
			{alb.DNSName, "other.example.org", f.otherFP}, {nlb.DNSName, "nlb-1.fleet.example.com", f.newPair.FingerprintSHA1}}}
	s := lbSnapshot{alb: e.Cloud.ALB.Dump(), nlb: e.Cloud.NLB.Dump(), cas: e.Cloud.CAS.Dump(), log: e.Cloud.RequestLog(), served: map[string]string{}}
	p := tlsprobe.Prober{Resolver: e.Cloud.DNSAddr()}
	for _, pr := range w.probes {
		var r tlsprobe.Result
		for try := 0; try < 20; try++ { // a frontend may take a moment to reload
			r = p.Probe(context.Background(), pr.name, 443, pr.sni, 2*time.Second)
			if r.Reachable && sameFP(r.FingerprintSHA1, pr.fp) {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		s.served[pr.name+" "+pr.sni] = r.FingerprintSHA1
	}
	for _, v := range lbViolations(s, w, time.Now()) {
		t.Errorf("%s: %s", when, v)
	}
}

func sameFP(a, b string) bool {
	n := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, ":", "")) }
	return a != "" && n(a) == n(b)
}

// lbViolations lists every broken invariant of s: a listener on a deleted
// or expired certificate; a target not on the new pair (API or handshake);
// the user's certificate gone, changed, dissociated or touched by a write;
// more than one CAS certificate per fingerprint, or more uploads applied
// than lost answers + 1; with w.orphans, a certificate of ours in CAS that
// no listener references.
func lbViolations(s lbSnapshot, w lbWant, now time.Time) []string {
	var out []string
	byID := map[string]cas.Certificate{}
	for _, c := range s.cas {
		byID[c.Identifier] = c
	}
	used := map[string]bool{}
	check := func(what, id, wantFP string) {
		used[id] = true
		c, ok := byID[id]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("%s points at deleted certificate %q", what, id))
		case !c.NotAfter.After(now):
			out = append(out, fmt.Sprintf("%s points at expired certificate %s (%s)", what, id, c.NotAfter))
		case wantFP != "" && !sameFP(c.Fingerprint, wantFP):
			out = append(out, fmt.Sprintf("%s serves %s (%s), want %s", what, id, c.Fingerprint, wantFP))
		}
	}
	otherAssociated := false
	for kind, st := range map[string]lbcert.State{"alb": s.alb, "nlb": s.nlb} {
		for _, lb := range st.LoadBalancers {
			for _, l := range lb.Listeners {
				target := l.ID == w.albListener || l.ID == w.nlbListen
				want := map[bool]string{true: w.newFP}[target]
				check(fmt.Sprintf("%s %s default", kind, l.ID), l.Default, want)
				for _, x := range l.Extra {
					if x.ID == w.otherID {
						otherAssociated = otherAssociated || (l.ID == w.albListener && x.Status == "Associated")
						check(fmt.Sprintf("%s %s additional (the user's)", kind, l.ID), x.ID, w.otherFP)
						continue
					}
					if x.ID == w.neighbourID {
						check(fmt.Sprintf("%s %s additional (the neighbour's)", kind, l.ID), x.ID, "")
						continue
					}
					check(fmt.Sprintf("%s %s additional", kind, l.ID), x.ID, want)
				}
			}
		}
	}
	if !otherAssociated {
		out = append(out, fmt.Sprintf("the user's certificate %s is no longer associated (Associated) with the ALB listener", w.otherID))
	}
	for _, r := range append(append([]rpc.Record(nil), s.log.ALB...), s.log.CAS...) {
		if strings.HasPrefix(r.Action, "Describe") || strings.HasPrefix(r.Action, "List") || strings.HasPrefix(r.Action, "Get") {
			continue
		}
		for k, v := range r.Params {
			if v == w.otherID || (k == "CertId" && v == strings.SplitN(w.otherID, "-", 2)[0]) {
				out = append(out, fmt.Sprintf("a %s call names the user's certificate %s (%s=%s)", r.Action, w.otherID, k, v))
			}
		}
	}
	for _, p := range w.probes {
		if got := s.served[p.name+" "+p.sni]; !sameFP(got, p.fp) {
			out = append(out, fmt.Sprintf("TLS %s:443 SNI %s serves %q, want %s", p.name, p.sni, got, p.fp))
		}
	}
	return append(out, casViolations(s, w, used)...)
}

// casViolations: one CAS certificate per fingerprint, uploads applied <=
// lost answers + 1, and (w.orphans) nothing of ours unreferenced.
func casViolations(s lbSnapshot, w lbWant, used map[string]bool) []string {
	var out []string
	perFP := map[string]int{}
	var orphans []string
	for _, c := range s.cas {
		fp := strings.ToLower(strings.ReplaceAll(c.Fingerprint, ":", ""))
		if perFP[fp]++; perFP[fp] == 2 {
			out = append(out, fmt.Sprintf("two CAS certificates with fingerprint %s", c.Fingerprint))
		}
		if w.orphans && (aliyun.CASCertificate{Name: c.Name, Fingerprint: c.Fingerprint}).Ours() && !used[c.Identifier] {
			orphans = append(orphans, c.Identifier+" "+c.Name)
		}
	}
	if w.newFP != "" && perFP[strings.ToLower(strings.ReplaceAll(w.newFP, ":", ""))] != 1 {
		out = append(out, fmt.Sprintf("%d CAS certificates hold the new pair, want 1", perFP[strings.ToLower(strings.ReplaceAll(w.newFP, ":", ""))]))
	}
	applied, lost := 0, 0
	for _, r := range s.log.CAS {
		if r.Action != "UploadUserCertificate" || (r.Status != 200 && !strings.HasPrefix(r.Fault, "lost ")) {
			continue
		}
		applied++
		if strings.HasPrefix(r.Fault, "lost ") {
			lost++
		}
	}
	if applied > lost+1 {
		out = append(out, fmt.Sprintf("%d CAS uploads applied, %d of them with the answer lost (want at most one more than the losses)", applied, lost))
	}
	sort.Strings(orphans)
	if len(orphans) > 0 {
		out = append(out, fmt.Sprintf("certificates of ours in CAS not in use: %v", orphans))
	}
	return out
}

// TestReliabilityLBCheckCanFail proves lbViolations can fail: a clean
// snapshot passes, and each planted violation is reported.
func TestReliabilityLBCheckCanFail(t *testing.T) {
	now := time.Now()
	newFP, otherFP, oldFP := "aa:bb", "cc:dd", "ee:ff"
	cert := func(id, name, fp string, expires time.Time) cas.Certificate {
		return cas.Certificate{Identifier: id, Name: name, Fingerprint: fp, NotAfter: expires}
	}
	good := func() lbSnapshot {
		return lbSnapshot{
			alb: lbcert.State{LoadBalancers: []lbcert.InstanceState{{ID: "alb-x", Listeners: []lbcert.ListenerState{{Listener: lbcert.Listener{
				ID: "lsn-alb", Default: "10-cn", Extra: []lbcert.Assoc{{ID: "10-cn", Status: "Associated"}, {ID: "7-cn", Status: "Associated"}}}}}}}},
			nlb: lbcert.State{LoadBalancers: []lbcert.InstanceState{{ID: "nlb-x", Listeners: []lbcert.ListenerState{{Listener: lbcert.Listener{ID: "lsn-nlb", Default: "10-cn"}}}}}},
			cas: []cas.Certificate{cert("10-cn", "ours", newFP, now.Add(time.Hour)), cert("7-cn", "users-own", otherFP, now.Add(time.Hour)),
				cert("3-cn", "old", oldFP, now.Add(time.Hour))},
			log:    emulator.RequestLog{CAS: []rpc.Record{{Action: "UploadUserCertificate", Status: 200}}},
			served: map[string]string{"alb a": newFP, "alb o": otherFP, "nlb n": newFP},
		}
	}
	w := lbWant{newFP: newFP, otherID: "7-cn", otherFP: otherFP, albListener: "lsn-alb", nlbListen: "lsn-nlb", orphans: true,
		probes: []lbProbe{{"alb", "a", newFP}, {"alb", "o", otherFP}, {"nlb", "n", newFP}}}
	if v := lbViolations(good(), w, now); len(v) != 0 {
		t.Fatalf("clean snapshot flagged: %v", v)
	}
	cases := []struct {
		name  string
		plant func(s *lbSnapshot)
		want  string
	}{
		{"deleted", func(s *lbSnapshot) { s.nlb.LoadBalancers[0].Listeners[0].Default = "99-cn" }, "deleted certificate"},
		{"expired", func(s *lbSnapshot) {
			s.cas[2].NotAfter = now.Add(-time.Minute)
			s.nlb.LoadBalancers[0].Listeners[0].Default = "3-cn"
		}, "expired"},
		{"old default", func(s *lbSnapshot) { s.alb.LoadBalancers[0].Listeners[0].Default = "3-cn" }, "want " + newFP},
		{"user's dissociated", func(s *lbSnapshot) {
			s.alb.LoadBalancers[0].Listeners[0].Extra = s.alb.LoadBalancers[0].Listeners[0].Extra[:1]
		}, "no longer associated"},
		{"user's touched", func(s *lbSnapshot) {
			s.log.ALB = append(s.log.ALB, rpc.Record{Action: "DissociateAdditionalCertificatesFromListener", Params: map[string]string{"Certificates.1.CertificateId": "7-cn"}})
		}, "names the user's certificate"},
		{"handshake", func(s *lbSnapshot) { s.served["nlb n"] = oldFP }, "TLS nlb:443"},
		{"duplicate", func(s *lbSnapshot) { s.cas = append(s.cas, cert("11-cn", "ours2", newFP, now.Add(time.Hour))) }, "two CAS certificates"},
		{"orphan", func(s *lbSnapshot) {
			fp := "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67"
			s.cas = append(s.cas, cert("12-cn", aliyun.CASCertificateName("www", now.Add(time.Hour), fp), fp, now.Add(time.Hour)))
		}, "not in use"},
		{"uploads", func(s *lbSnapshot) {
			s.log.CAS = append(s.log.CAS, rpc.Record{Action: "UploadUserCertificate", Status: 200})
		}, "2 CAS uploads applied"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := good()
			c.plant(&s)
			v := lbViolations(s, w, now)
			if !strings.Contains(strings.Join(v, "\n"), c.want) {
				t.Fatalf("planted %s: violations %v, want one containing %q", c.name, v, c.want)
			}
		})
	}
}
