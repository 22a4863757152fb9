package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// Kill points of the real-kill suite.
const (
	killAfterUpload = "after-upload" // right after the first successful UploadServerCertificate
	killAfterSwitch = "after-switch" // right after the first successful SetLoadBalancerHTTPSListenerAttribute
)

const (
	// killFunction is the deployed function's name.
	killFunction = "rotate-on-upload"
	// killTimeout is the function's timeout. The lock lease of an
	// invocation ends at its deadline plus lease.DefaultSkew (5 s),
	// so a killed holder blocks the pair for about 9 s; a waiter gives up
	// after half its timeout (2 s) and FC retries it.
	killTimeout = 4 * time.Second
	// killWindow is the latency added to the action that follows the kill
	// point, so that the kill lands before it takes effect.
	killWindow = 1500 * time.Millisecond
	// killRetryBackoff is FC's first retry backoff in the suite (doubling).
	killRetryBackoff = 100 * time.Millisecond
	// killAsyncRetries is maxAsyncRetryAttempts (FC's maximum, 8).
	killAsyncRetries = 8
	// lockPoll is the longest wait between two tries of a waiter
	// (lease.DefaultMaxDelay) plus a round of the lock's calls.
	lockPoll = lease.DefaultMaxDelay + lease.DefaultBaseDelay
)

// killCase is one real-kill run.
type killCase struct {
	seed  int64
	point string
	// jitter is waited after the kill point is seen, inside the window.
	jitter time.Duration
	// duplicate delivers every OSS event twice.
	duplicate bool
	// maxInstances bounds the function's instances.
	maxInstances int
}

func (k killCase) String() string {
	return fmt.Sprintf("seed=%d/%s/jitter=%dms/dup=%v/instances=%d", k.seed, k.point, k.jitter.Milliseconds(), k.duplicate, k.maxInstances)
}

// killCases returns the short form (one case per kill point, fixed) or the
// long form (n seeded cases alternating the points).
func killCases(n int) []killCase {
	if n <= 2 {
		return []killCase{
			{seed: 7000, point: killAfterUpload, maxInstances: 1},
			{seed: 7001, point: killAfterSwitch, maxInstances: 3, duplicate: true},
		}
	}
	out := make([]killCase, 0, n)
	for i := range n {
		seed := int64(7000 + i)
		rnd := rand.New(rand.NewSource(seed))
		point := killAfterUpload
		if i%2 == 1 {
			point = killAfterSwitch
		}
		out = append(out, killCase{
			seed: seed, point: point,
			jitter:       time.Duration(rnd.Intn(300)) * time.Millisecond,
			duplicate:    rnd.Intn(2) == 1,
			maxInstances: 1 + rnd.Intn(3),
		})
	}
	return out
}

// buildRotateOnUpload builds functions/rotate-on-upload into dir.
func buildRotateOnUpload(t *testing.T, dir string) string {
	t.Helper()
	const pkg = "../functions/rotate-on-upload"
	if _, err := os.Stat(filepath.Join(pkg, "main.go")); err != nil {
		t.Skipf("functions/rotate-on-upload not found beside the suite: %v", err)
	}
	bin := filepath.Join(dir, "bootstrap")
	fcrttest.BuildTo(t, bin, pkg)
	return bin
}

// TestReliabilityKilledInstance runs the BUILT rotate-on-upload binary in
// the local FC with its OSS trigger and SIGKILLs the instance that holds
// the pair's lock at a real point of the rotation: right after the first
// successful UploadServerCertificate, or right after the first successful
// SetLoadBalancerHTTPSListenerAttribute (a latency on the following action
// holds the rotation there). FC's async retry, on a new instance, must
// finish the job once the killed holder's lease has expired. Short form:
// two cases; long form (RELIABILITY_LONG=1 or -long): 24 seeded cases.
func TestReliabilityKilledInstance(t *testing.T) {
	bin := buildRotateOnUpload(t, t.TempDir())
	n := 2
	if long() {
		n = 24
	}
	var worstLate atomic.Int64
	var runs atomic.Int64
	for _, kc := range killCases(n) {
		t.Run(kc.String(), func(t *testing.T) {
			t.Parallel()
			late := killRun(t, bin, kc)
			runs.Add(1)
			for {
				cur := worstLate.Load()
				if int64(late) <= cur || worstLate.CompareAndSwap(cur, int64(late)) {
					break
				}
			}
		})
	}
	t.Cleanup(func() {
		t.Logf("%d killed-instance runs; the lock was taken over at most %s after the killed holder's lease expired",
			runs.Load(), time.Duration(worstLate.Load()).Round(time.Millisecond))
	})
}

// killReport is what the watcher saw and did.
type killReport struct {
	at       time.Time // when the instance was killed
	seen     slb.RequestRecord
	lease    lease.Lease
	instance fcrt.InstanceInfo
	writes   []string // successful SLB writes before the kill
	err      error
}

// killRun runs one case and returns how late after the killed holder's
// lease expiry the lock was taken over.
func killRun(t *testing.T, bin string, kc killCase) time.Duration {
	seen := &transcript{}
	e := startEnvWith(t, emulator.Options{
		Seed: kc.seed, Regions: suiteRegions, Bucket: fmt.Sprintf("certs-kill-%d", kc.seed),
		Logs: seen, RetryBackoff: killRetryBackoff, OSSDelivery: fcrt.OSSDelivery{Duplicate: kc.duplicate, Reorder: 20 * time.Millisecond},
	}, seen)
	f := seedFleet(t, e)
	_, stsSecret, stsToken := e.Cloud.STSCredentials()
	err := e.Cloud.FC.Deploy(fcrt.FunctionSpec{
		Name: killFunction, Binary: bin, Timeout: killTimeout, MaxInstances: kc.maxInstances, AsyncRetries: killAsyncRetries,
		Env: map[string]string{
			"CERT_PREFIX": "certs/", "REGIONS": strings.Join(suiteRegions, ","), "PROBE_TIMEOUT": "2s",
			"LOG_LEVEL": "info", "OSS_SIGNATURE": "v4", "MIN_VALID_DAYS": "7", "KEEP_SUPERSEDED": "1",
		},
		Triggers: []fcrt.TriggerSpec{{Name: "oss-cert-upload", Type: "oss", OSS: fcrt.OSSTrigger{BucketName: e.Bucket,
			Events: []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:PostObject", "oss:ObjectCreated:CompleteMultipartUpload", "oss:ObjectCreated:CopyObject"},
			Prefix: "certs/", Suffix: ".pem"}}},
	})
	must(t, err)

	// The window: the action after the kill point waits killWindow.
	watch, held := "UploadServerCertificate", "DescribeServerCertificates"
	if kc.point == killAfterSwitch {
		watch, held = "SetLoadBalancerHTTPSListenerAttribute", "SetDomainExtensionAttribute"
	}
	e.Cloud.Faults.Set(faults.Rule{Action: held, Latency: killWindow})

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	reports := make(chan killReport, 1)
	go func() { reports <- watchAndKill(ctx, e, watch, kc.jitter) }()

	start := time.Now()
	putPair(t, e, "www", f.newPair)
	var kr killReport
	select {
	case kr = <-reports:
	case <-ctx.Done():
		t.Fatal("the kill point was never reached")
	}
	e.Cloud.Faults.Clear() // the retries run without the window
	if kr.err != nil {
		t.Fatalf("kill: %v", kr.err)
	}
	if err := e.Cloud.FC.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	done := time.Now()

	// The kill landed where it was meant to.
	switch kc.point {
	case killAfterUpload:
		if n := count(kr.writes, "UploadServerCertificate"); n != 1 || len(kr.writes) != 1 {
			t.Errorf("writes before the kill %v: want exactly one upload", kr.writes)
		}
	case killAfterSwitch:
		if count(kr.writes, "SetLoadBalancerHTTPSListenerAttribute") < 1 || count(kr.writes, "SetDomainExtensionAttribute") != 0 {
			t.Errorf("writes before the kill %v: want a listener switched and the extension not yet", kr.writes)
		}
	}

	// The lease of the killed holder derives from its deadline.
	ttl := kr.lease.Expires.Sub(kr.lease.Acquired)
	if ttl < killTimeout || ttl > killTimeout+lease.DefaultSkew+200*time.Millisecond {
		t.Errorf("lease of the killed holder lasts %s; want the function timeout %s plus the skew %s", ttl, killTimeout, lease.DefaultSkew)
	}

	// FC's retries finished the job, on new instances.
	recs := e.Cloud.FC.AsyncResults()
	wantRecs := 2
	if kc.duplicate {
		wantRecs = 4
	}
	if len(recs) != wantRecs {
		t.Errorf("%d async invocations; want %d", len(recs), wantRecs)
	}
	statuses := map[rotation.Status]int{}
	var victim *fcrt.AsyncRecord
	for i, r := range recs {
		b, _ := json.Marshal(r)
		e.seen.add("async %s", b)
		if r.Status != "succeeded" {
			t.Errorf("invocation %s: %s after %d attempts (%s) %s", r.RequestID, r.Status, r.Attempts, r.ErrorType, r.Result)
			continue
		}
		var res rotation.Result
		if err := json.Unmarshal(r.Result, &res); err != nil {
			t.Errorf("invocation %s: result %s: %v", r.RequestID, r.Result, err)
			continue
		}
		statuses[res.Status]++
		if strings.HasPrefix(kr.lease.Owner, r.RequestID+"/") {
			victim = &recs[i]
		}
	}
	if statuses[rotation.StatusRejected] > 0 || statuses[rotation.StatusRotated] < 1 {
		t.Errorf("statuses %v; want at least one rotated and none rejected", statuses)
	}
	if victim == nil {
		t.Errorf("no async invocation owns the killed lease %q", kr.lease.Owner)
	} else {
		if victim.Attempts < 2 {
			t.Errorf("the killed invocation ran %d time(s); want a retry", victim.Attempts)
		}
		if victim.InstanceID == kr.instance.ID {
			t.Errorf("the killed invocation's last attempt ran on the killed instance %s", kr.instance.ID)
		}
	}

	// The killed holder's lock blocked the pair until its lease expired,
	// and no longer than one retry round after that.
	taken, ok := lockTakenAfter(e, kr.at)
	late := taken.Sub(kr.lease.Expires)
	switch {
	case !ok:
		t.Errorf("nobody took the lock after the kill")
	case taken.Before(kr.lease.Expires):
		t.Errorf("the lock was taken at %s, %s before the killed holder's lease expired", taken.Format(time.RFC3339Nano), -late)
	case late > maxTakeoverDelay():
		t.Errorf("the lock was taken %s after the lease expired; want at most %s (a retry round)", late, maxTakeoverDelay())
	}
	checkLockFree(t, e, "www")
	t.Logf("killed %s (pid %d) %s after the start, %s after %s; lease ttl %s, remaining at the kill %s; lock taken %s after the kill (%s after expiry); done %s after the kill; statuses %v; attempts of the killed request %d",
		kr.instance.ID, kr.instance.PID, kr.at.Sub(start).Round(time.Millisecond), kr.at.Sub(kr.seen.Time).Round(time.Millisecond), kr.seen.Action,
		ttl.Round(time.Millisecond), kr.lease.Expires.Sub(kr.at).Round(time.Millisecond), taken.Sub(kr.at).Round(time.Millisecond),
		late.Round(time.Millisecond), done.Sub(kr.at).Round(time.Millisecond), statuses, attemptsOf(victim))

	checkInvariants(t, e, f, "after the retries")
	ups := uploadsByFingerprint(e.Cloud.SLB.Requests())
	for _, region := range suiteRegions {
		if n := ups[region+" "+f.newPair.FingerprintSHA1]; n != 1 {
			t.Errorf("%s: %d uploads of the new pair; want exactly 1", region, n)
		}
	}

	// The next run (a manual invoke of the built function): converged, so
	// no upload and no switch; afterwards nothing of ours is orphaned.
	before := len(e.Cloud.SLB.Requests())
	res, errType, err := e.Cloud.FC.Invoke(ctx, killFunction, []byte(`{"name":"www"}`))
	e.seen.add("next run %s %s", errType, res)
	var next rotation.Result
	if err != nil || errType != "" || json.Unmarshal(res, &next) != nil || (next.Status != rotation.StatusUnchanged && next.Status != rotation.StatusRotated) {
		t.Fatalf("next run: %v %s %s", err, errType, res)
	}
	for _, w := range writes(e.Cloud.SLB.Requests()[before:]) {
		if w == "UploadServerCertificate" || w == "SetLoadBalancerHTTPSListenerAttribute" || w == "SetDomainExtensionAttribute" {
			t.Errorf("next run made a %s call: the state had converged already", w)
		}
	}
	checkInvariants(t, e, f, "after the next run")
	checkNoOrphans(t, e, f)
	checkNoLeaks(t, e.seen, e.Creds.AccessKeySecret, stsSecret, stsToken)
	if t.Failed() {
		t.Logf("function logs and results:\n%s", e.seen.text.String())
	}
	return late
}

// maxTakeoverDelay bounds how long after the killed holder's lease expiry
// a waiter takes the lock: one poll of a waiting invocation, or, when
// every invocation is between attempts, the longest FC backoff such a
// waiter can be in (the fourth, 0.8 s: each attempt waits half of the 4 s
// timeout, so the lease of about 9 s expires during the third to fifth
// attempt) plus its start.
func maxTakeoverDelay() time.Duration {
	return lockPoll + 8*killRetryBackoff + time.Second
}

// watchAndKill polls the SLB request log until a successful call of
// action, waits jitter, then SIGKILLs the instance that holds the pair's
// lock (the lease's owner is the FC request id that instance runs).
func watchAndKill(ctx context.Context, e *env, action string, jitter time.Duration) killReport {
	var kr killReport
	for {
		if ctx.Err() != nil {
			kr.err = fmt.Errorf("no successful %s: %w", action, ctx.Err())
			return kr
		}
		recs := e.Cloud.SLB.Requests()
		i := slices.IndexFunc(recs, func(r slb.RequestRecord) bool { return r.Action == action && r.Status == 200 })
		if i >= 0 {
			kr.seen = recs[i]
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(jitter)
	data, ok := e.Cloud.OSS.Object(e.Bucket, currentGeneration(e, "www"))
	if !ok {
		kr.err = fmt.Errorf("no lock object at %s", action)
		return kr
	}
	if err := json.Unmarshal(data, &kr.lease); err != nil {
		kr.err = fmt.Errorf("lock object: %w", err)
		return kr
	}
	reqID, _, _ := strings.Cut(kr.lease.Owner, "/")
	insts, err := e.Cloud.FC.Instances(killFunction)
	if err != nil {
		kr.err = err
		return kr
	}
	for _, in := range insts {
		if slices.Contains(in.RequestIDs, reqID) {
			kr.instance = in
		}
	}
	if kr.instance.ID == "" {
		kr.err = fmt.Errorf("no instance runs the lock holder %s (instances %+v)", reqID, insts)
		return kr
	}
	if err := e.Cloud.FC.KillInstance(killFunction, kr.instance.ID); err != nil {
		kr.err = err
		return kr
	}
	kr.at = time.Now()
	kr.writes = writes(e.Cloud.SLB.Requests())
	return kr
}

// lockTakenAfter returns when the pair's lock was next created after t.
func lockTakenAfter(e *env, t time.Time) (time.Time, bool) {
	dir := lease.Dir("", "www")
	for _, r := range e.Cloud.OSS.Requests() {
		_, released, ok := lease.ParseKey(dir, r.Key)
		if r.Action == "oss:PutObject" && ok && !released && r.Status == 200 && r.Time.After(t) {
			return r.Time, true
		}
	}
	return time.Time{}, false
}

// currentGeneration is the key of the highest generation of lock name in
// the bucket ("" when there is none).
func currentGeneration(e *env, name string) string {
	dir := lease.Dir("", name)
	var top uint64
	key := ""
	for _, b := range e.Cloud.OSS.Dump() {
		for _, o := range b.Objects {
			if g, released, ok := lease.ParseKey(dir, o.Key); b.Name == e.Bucket && ok && !released && g > top {
				top, key = g, o.Key
			}
		}
	}
	return key
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

func attemptsOf(r *fcrt.AsyncRecord) int {
	if r == nil {
		return 0
	}
	return r.Attempts
}
