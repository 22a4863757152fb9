package reliability

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// Fault modes of the seeded runs. Every mode has 30 % throttling and 10 %
// 5xx on every SLB and OSS call, and 10 % of the writes of both applied
// and then their answer lost; the others add their fault on top.
const (
	modeThrottle5xx = "throttle30+5xx10"
	modeTimeouts    = "+timeouts"
	modeResets      = "+resets"
	modeKillUpload  = "+killed-after-upload"
	modeKillSwitch  = "+killed-after-switch"
)

var modes = []string{modeThrottle5xx, modeTimeouts, modeResets, modeKillUpload, modeKillSwitch}

// maxAttempts is how many invocations a run may take (the first one plus
// FC's retries; FC gives 3 for an async invocation, the suite is more
// patient so that an unlucky seed shows as slowness, not as a failure).
const maxAttempts = 12

// killSwitch wraps the SLB adapter: at its point it lets the call succeed
// in the cloud, then "kills the function" (cancels the invocation's ctx and
// returns its error), once.
type killSwitch struct {
	rotation.SLB
	point  string // modeKillUpload | modeKillSwitch
	cancel context.CancelFunc
	fired  atomic.Bool
}

func (k *killSwitch) kill(point string, err error) error {
	if err != nil || k.point != point || !k.fired.CompareAndSwap(false, true) {
		return err
	}
	k.cancel()
	return fmt.Errorf("reliability: function killed (%s): %w", point, context.Canceled)
}

func (k *killSwitch) UploadServerCertificate(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error) {
	c, err := k.SLB.UploadServerCertificate(ctx, region, name, certPEM, keyPEM, tags)
	if err = k.kill(modeKillUpload, err); err != nil {
		return clb.ServerCertificate{}, err
	}
	return c, nil
}

func (k *killSwitch) SetListenerCertificate(ctx context.Context, region, lbID string, port int, certID string) error {
	return k.kill(modeKillSwitch, k.SLB.SetListenerCertificate(ctx, region, lbID, port, certID))
}

func (k *killSwitch) SetDomainExtensionCertificate(ctx context.Context, region, extID, certID string) error {
	return k.kill(modeKillSwitch, k.SLB.SetDomainExtensionCertificate(ctx, region, extID, certID))
}

// setFaults installs the mode's rules: a default rule (every SLB and OSS
// action) and, for timeouts and resets, per-SLB-action rules (OSS calls
// keep the default: the OSS adapter has no per-request timeout to cut a
// held request short).
func setFaults(inj *faults.Injector, mode string) {
	base := faults.Rule{ThrottleRate: 0.30, ServerErrorRate: 0.10, LostRate: 0.10}
	inj.Set(base)
	if mode != modeTimeouts && mode != modeResets {
		return
	}
	for _, a := range slb.Actions() {
		r := base
		r.Action = a
		if mode == modeTimeouts {
			r.TimeoutRate = 0.10
		} else {
			r.ResetRate = 0.15
		}
		inj.Set(r)
	}
}

// runOutcome is what one seeded run did.
type runOutcome struct {
	attempts int
	faults   map[string]faults.ActionStats
}

// TestReliabilitySeededFaults runs the rotation of one pair to three
// targets in two regions under injected faults, retrying like FC until it
// succeeds, then checks the invariants of issue 6 after the run and after
// the next one.
func TestReliabilitySeededFaults(t *testing.T) {
	n := 10
	if long() {
		n = 200
	}
	var totalAttempts, injected atomic.Int64
	for i := range n {
		seed := int64(1000 + i)
		mode := modes[i%len(modes)]
		t.Run(fmt.Sprintf("seed=%d/%s", seed, mode), func(t *testing.T) {
			t.Parallel()
			out := faultRun(t, seed, mode)
			totalAttempts.Add(int64(out.attempts))
			for _, st := range out.faults {
				injected.Add(int64(st.Throttled + st.Errors + st.Timeouts + st.Resets + st.Lost))
			}
		})
	}
	t.Cleanup(func() {
		t.Logf("%d seeded runs: %d invocations in all, %d faults injected", n, totalAttempts.Load(), injected.Load())
	})
}

func faultRun(t *testing.T, seed int64, mode string) runOutcome {
	e := startEnv(t, seed, fmt.Sprintf("certs-run-%d", seed))
	f := seedFleet(t, e)
	lock := watchLock(e, "www")
	putPair(t, e, "www", f.newPair)
	setFaults(e.Cloud.Faults, mode)

	var out runOutcome
	done := false
	for attempt := 1; attempt <= maxAttempts && !done; attempt++ {
		out.attempts = attempt
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		var api rotation.SLB = e.SLB
		if (mode == modeKillUpload || mode == modeKillSwitch) && attempt == 1 {
			api = &killSwitch{SLB: e.SLB, point: mode, cancel: cancel}
		}
		res, err := e.rotator(api).RotateName(ctx, time.Now(), e.Bucket, "www")
		cancel()
		recordResult(e, res, err)
		if res.Status == rotation.StatusRejected {
			t.Fatalf("attempt %d: rejected under transient faults: %s (%v)", attempt, res.Reason, res.Errors)
		}
		if err == nil && (res.Status == rotation.StatusRotated || res.Status == rotation.StatusUnchanged) {
			done = true
		}
		if mode == modeKillUpload || mode == modeKillSwitch {
			if attempt == 1 && err == nil {
				t.Fatalf("attempt 1: the kill at %s did not stop the rotation (status %s)", mode, res.Status)
			}
		}
	}
	if !done {
		t.Fatalf("no successful invocation in %d attempts", maxAttempts)
	}
	out.faults = e.Cloud.Faults.Stats()
	e.Cloud.Faults.Clear()
	checkInvariants(t, e, f, "after the run")

	// The next run (e.g. the daily check or a duplicate event): must change
	// nothing but cleanup, and leave nothing of ours orphaned.
	before := len(e.Cloud.SLB.Requests())
	res, err := e.rotator(e.SLB).RotateName(context.Background(), time.Now(), e.Bucket, "www")
	recordResult(e, res, err)
	if err != nil || (res.Status != rotation.StatusUnchanged && res.Status != rotation.StatusRotated) {
		t.Fatalf("next run: status %s err %v", res.Status, err)
	}
	for _, w := range writes(e.Cloud.SLB.Requests()[before:]) {
		if w == "UploadServerCertificate" || w == "SetListenerAttribute" || w == "SetHTTPSListenerAttribute" || w == "SetDomainExtensionAttribute" {
			t.Errorf("next run made a %s call: the state had converged already", w)
		}
	}
	checkInvariants(t, e, f, "after the next run")
	checkNoOrphans(t, e, f)
	if lock.check(t, "seeded run") < 2 {
		t.Error("the lock was not taken by the run and the next run")
	}
	checkLockFree(t, e, "www")
	checkNoLeaks(t, e.seen, e.Creds.AccessKeySecret)
	return out
}

func recordResult(e *env, res rotation.Result, err error) {
	b, _ := json.Marshal(res)
	e.seen.add("result %s", b)
	if err != nil {
		e.seen.add("error %s", err.Error())
		e.seen.add("error %+v", err)
	}
}

// checkInvariants: no listener or extension points at a deleted or expired
// certificate, every target serves the new pair (API and TLS handshake),
// and at most one upload per fingerprint and region.
func checkInvariants(t *testing.T, e *env, f *fleet, when string) {
	t.Helper()
	now := time.Now()
	st := e.Cloud.SLB.Dump()
	targets := 0
	for region, rs := range st.Regions {
		byID := map[string]clb.ServerCertificate{}
		for _, c := range rs.Certificates {
			byID[c.ID] = c
		}
		check := func(what, id string) {
			targets++
			c, ok := byID[id]
			switch {
			case !ok:
				t.Errorf("%s: %s points at deleted certificate %q", when, what, id)
			case !c.ExpireTime.After(now):
				t.Errorf("%s: %s points at expired certificate %s (%s)", when, what, id, c.ExpireTime)
			case c.Fingerprint != f.newPair.FingerprintSHA1:
				t.Errorf("%s: %s serves %s (%s), want the new pair %s", when, what, id, c.Fingerprint, f.newPair.FingerprintSHA1)
			}
		}
		for _, lb := range rs.LoadBalancers {
			for _, l := range lb.Listeners {
				check(fmt.Sprintf("%s/%s:%d", region, lb.ID, l.Port), l.ServerCertificateID)
				for _, x := range l.DomainExtensions {
					check(fmt.Sprintf("%s/%s:%d SNI %s", region, lb.ID, l.Port, x.Domain), x.ServerCertificateID)
				}
			}
		}
	}
	if targets != 3 {
		t.Errorf("%s: %d targets in the cloud, want 3", when, targets)
	}
	// What is really served (TLS handshakes).
	probes := []struct{ region, sni string }{
		{suiteRegions[0], "www.example.com"}, {suiteRegions[0], "api.example.com"}, {suiteRegions[1], "www.example.com"},
	}
	for _, p := range probes {
		lb := f.lbs[p.region]
		var r tlsprobe.Result
		for try := 0; try < 20; try++ { // a frontend may take a moment to reload
			r = tlsprobe.Probe(context.Background(), f.address[lb], 443, p.sni, 2*time.Second)
			if r.FingerprintSHA1 == f.newPair.FingerprintSHA1 {
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		if !r.Reachable || r.FingerprintSHA1 != f.newPair.FingerprintSHA1 {
			t.Errorf("%s: TLS %s:443 SNI %s serves %q (reachable %v, %s), want %s", when, f.address[lb], p.sni, r.FingerprintSHA1, r.Reachable, r.Err, f.newPair.FingerprintSHA1)
		}
	}
	// One upload per fingerprint and region, except that an upload whose
	// answer was lost (applied) may be retried once per loss.
	applied, lost := uploadsApplied(e.Cloud.SLB.Requests())
	for k, n := range applied {
		if n > 1+lost[k] {
			t.Errorf("%s: %d uploads of %s applied, %d of them with the answer lost (want at most one more than the losses)", when, n, k, lost[k])
		}
	}
	// And the end state holds one certificate per fingerprint and region.
	for region, rs := range st.Regions {
		seen := map[string]int{}
		for _, c := range rs.Certificates {
			if seen[c.Fingerprint]++; seen[c.Fingerprint] == 2 {
				t.Errorf("%s: two certificates with fingerprint %s in %s", when, c.Fingerprint, region)
			}
		}
	}
}

// checkNoOrphans: every certificate of ours is in use, or one of the KEEP
// superseded ones (never a duplicate of the served fingerprint).
func checkNoOrphans(t *testing.T, e *env, f *fleet) {
	t.Helper()
	for region, rs := range e.Cloud.SLB.Dump().Regions {
		used := map[string]bool{}
		for _, lb := range rs.LoadBalancers {
			for _, l := range lb.Listeners {
				used[l.ServerCertificateID] = true
				for _, x := range l.DomainExtensions {
					used[x.ServerCertificateID] = true
				}
			}
		}
		var orphans []string
		for _, c := range rs.Certificates {
			if c.Ours() && !used[c.ID] {
				orphans = append(orphans, c.ID+" "+c.Fingerprint)
			}
		}
		sort.Strings(orphans)
		if len(orphans) > 0 {
			// Keep=1 would allow one superseded certificate of ours, but the
			// fleet's old certificates are not ours: anything here is a
			// leftover (a duplicate upload or a half-finished rotation).
			t.Errorf("%s: certificates of ours not in use after the next run: %v", region, orphans)
		}
	}
}

// TestReliabilityScannerFindsPlantedKey proves the secret scan can fail.
func TestReliabilityScannerFindsPlantedKey(t *testing.T) {
	tr := &transcript{}
	key := []byte("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx3Vb8mN9QpL2wK7rT5sY1uZ0aB4cD6eF8gH0iJ2kL4mN6oP8\n-----END RSA PRIVATE KEY-----\n")
	tr.secrets(key)
	tr.words("local-cloud-secret-0001")
	tr.add("status ok")
	if l := tr.leaks(); len(l) != 0 {
		t.Fatalf("clean transcript flagged: %v", l)
	}
	tr.add("oops MIIEowIBAAKCAQEAx3Vb8mN9QpL2wK7rT5sY1uZ0aB4cD6eF8gH0iJ2kL4mN6oP8")
	tr.add("secret=local-cloud-secret-0001")
	if l := tr.leaks(); len(l) != 2 {
		t.Fatalf("planted key body and secret: %d hits %v, want 2", len(l), l)
	}
	if errors.Is(nil, context.Canceled) {
		t.Fatal("unreachable")
	}
}
