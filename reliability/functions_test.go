package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// fnTimeout is the deployed function's timeout in the functions runs: its
// lock lease lasts this plus the skew.
const fnTimeout = 5 * time.Second

// TestReliabilityFunctionsUnderFaults runs the production wiring end to
// end: the BUILT rotate-on-upload in the local FC (up to 3 instances, so
// separate processes contend for the lock), its OSS trigger delivering each
// half reordered (and twice, in the long form), FC's async retries, and on every SLB and OSS
// call 20 % throttling and 10 % 5xx, with 20 % of every write applied and
// its answer then lost. After the retries (and one more drop of the key,
// as a user would do, should every retry of an event have failed), every
// target serves the pair, at most one upload per fingerprint and region
// beyond the lost answers, nothing of ours orphaned, the lock never had two
// holders and is left free, and nothing secret was said. Short form: one
// seed (the suite's short form stays near a minute); long form: 24.
func TestReliabilityFunctionsUnderFaults(t *testing.T) {
	t.Parallel() // mostly waiting (FC retries, lock leases): overlaps the seeded runs
	bin := buildRotateOnUpload(t, t.TempDir())
	n := 1
	if long() {
		n = 24
	}
	var redrops, failed, lost atomic.Int64
	for i := range n {
		seed := int64(9000 + i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			r, f, l := functionsRun(t, bin, seed)
			redrops.Add(int64(r))
			failed.Add(int64(f))
			lost.Add(int64(l))
		})
	}
	t.Cleanup(func() {
		t.Logf("%d runs of the built function under faults: %d answers lost after the write applied, %d async invocations failed all their retries, %d runs needed a second drop",
			n, lost.Load(), failed.Load(), redrops.Load())
		// A run may draw no loss (about 15 writes at 20 %); all of them
		// together must, or the suite did not exercise post-action faults.
		if lost.Load() == 0 && !t.Failed() {
			t.Error("no answer was lost in any run: post-action faults were not exercised")
		}
	})
}

func functionsRun(t *testing.T, bin string, seed int64) (redrops, failed, lost int) {
	seen := &transcript{}
	e := startEnvWith(t, emulator.Options{
		Seed: seed, Regions: suiteRegions, Bucket: fmt.Sprintf("certs-fn-%d", seed),
		// The long form delivers every event twice (4 invocations contend);
		// the short form once (2), to stay short.
		Logs: seen, RetryBackoff: 100 * time.Millisecond, OSSDelivery: fcrt.OSSDelivery{Duplicate: long(), Reorder: 20 * time.Millisecond},
	}, seen)
	f := seedFleet(t, e)
	_, stsSecret, stsToken := e.Cloud.STSCredentials()
	must(t, e.Cloud.FC.Deploy(fcrt.FunctionSpec{
		Name: killFunction, Binary: bin, Timeout: fnTimeout, MaxInstances: 3, AsyncRetries: killAsyncRetries,
		Env: map[string]string{
			"CERT_PREFIX": "certs/", "REGIONS": strings.Join(suiteRegions, ","), "PROBE_TIMEOUT": "2s",
			"LOG_LEVEL": "info", "OSS_SIGNATURE": "v4", "MIN_VALID_DAYS": "7", "KEEP_SUPERSEDED": "1",
		},
		Triggers: []fcrt.TriggerSpec{{Name: "oss-cert-upload", Type: "oss", OSS: fcrt.OSSTrigger{BucketName: e.Bucket,
			Events: []string{"oss:ObjectCreated:PutObject"}, Prefix: "certs/", Suffix: ".pem"}}},
	}))
	lock := watchLock(e, "www")
	began := time.Now()
	e.Cloud.Faults.Set(faults.Rule{ThrottleRate: 0.20, ServerErrorRate: 0.10, LostRate: 0.20})

	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	putPair(t, e, "www", f.newPair)
	if err := e.Cloud.FC.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	failed = asyncOutcomes(t, e)
	injected := e.Cloud.Faults.Stats()
	e.Cloud.Faults.Clear()
	if !servesPair(e, f) {
		// Every retry of the events failed (possible under these rates):
		// the user drops the key again, without faults now.
		redrops = 1
		must(t, e.Cloud.OSS.PutObject(e.Bucket, "certs/www/privkey.pem", f.newPair.KeyPEM))
		if err := e.Cloud.FC.WaitIdle(ctx); err != nil {
			t.Fatal(err)
		}
		asyncOutcomes(t, e)
	}
	checkInvariants(t, e, f, "after the functions ran")
	checkNoOrphans(t, e, f)
	gens := lock.check(t, "functions run")
	checkLockFree(t, e, "www")
	_, akSecret := e.Cloud.Credentials()
	checkNoLeaks(t, e.seen, akSecret, stsSecret, stsToken)
	for _, st := range injected {
		lost += st.Lost
	}
	attempts := 0
	for _, r := range e.Cloud.FC.AsyncResults() {
		attempts += r.Attempts
	}
	t.Logf("seed %d: %d async invocations, %d attempts, %d lock generations, %d lost answers injected, %d failed async invocations, redrop %v, %s",
		seed, len(e.Cloud.FC.AsyncResults()), attempts, gens, lost, failed, redrops == 1, time.Since(began).Round(time.Millisecond))
	return redrops, failed, lost
}

// asyncOutcomes records the async invocations in the transcript, fails on a
// rejected result, and returns how many failed all their retries.
func asyncOutcomes(t *testing.T, e *env) (failed int) {
	t.Helper()
	for _, r := range e.Cloud.FC.AsyncResults() {
		b, _ := json.Marshal(r)
		e.seen.add("async %s", b)
		if r.Status != "succeeded" {
			failed++
			continue
		}
		var res rotation.Result
		if err := json.Unmarshal(r.Result, &res); err != nil {
			t.Errorf("invocation %s: result %s: %v", r.RequestID, r.Result, err)
			continue
		}
		if res.Status == rotation.StatusRejected {
			t.Errorf("invocation %s rejected under transient faults: %s %v", r.RequestID, res.Reason, res.Errors)
		}
	}
	return failed
}

// servesPair reports whether every target's certificate is the new pair's.
func servesPair(e *env, f *fleet) bool {
	for _, rs := range e.Cloud.SLB.Dump().Regions {
		fp := map[string]string{}
		for _, c := range rs.Certificates {
			fp[c.ID] = c.Fingerprint
		}
		for _, lb := range rs.LoadBalancers {
			for _, l := range lb.Listeners {
				if fp[l.ServerCertificateID] != f.newPair.FingerprintSHA1 {
					return false
				}
				for _, x := range l.DomainExtensions {
					if fp[x.ServerCertificateID] != f.newPair.FingerprintSHA1 {
						return false
					}
				}
			}
		}
	}
	return true
}
