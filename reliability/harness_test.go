package reliability

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// primeSDK guards the first SDK client creation of the process.
var primeSDK sync.Once

var longFlag = flag.Bool("long", false, "run the long form of the reliability suite (>= 200 seeded fault runs)")

// long reports whether the long form was asked for (flag -long or
// RELIABILITY_LONG=1).
func long() bool {
	return *longFlag || os.Getenv("RELIABILITY_LONG") == "1"
}

// Regions of every local cloud of the suite.
var suiteRegions = []string{"cn-zhangjiakou", "cn-hangzhou"}

// fastRetry keeps the adapters' backoff short so that a run takes
// milliseconds, not seconds; the number of attempts is the default.
func fastRetry(seed int64) aliyun.RetryPolicy {
	return aliyun.RetryPolicy{MaxAttempts: 5, BaseDelay: 2 * time.Millisecond, MaxDelay: 30 * time.Millisecond, Seed: uint64(seed) + 1}
}

// env is one local cloud with the adapters of the product pointed at it.
type env struct {
	cloud  *emulator.Cloud
	bucket string
	slb    *aliyun.SLB
	oss    *aliyun.OSS
	creds  aliyun.Credentials
	seen   *transcript
}

// startEnv starts a local cloud for one run. Each run has its own bucket,
// because the rotation serialises rotations of one pair per process.
func startEnv(t *testing.T, seed int64, bucket string) *env {
	t.Helper()
	return startEnvWith(t, emulator.Options{Seed: seed, Regions: suiteRegions, Bucket: bucket}, &transcript{})
}

// startEnvWith starts a local cloud with opts; seen becomes the
// environment's transcript (pass it as opts.Logs too to scan the
// functions' output).
func startEnvWith(t *testing.T, opts emulator.Options, seen *transcript) *env {
	t.Helper()
	seed := opts.Seed
	cloud, err := emulator.Start(opts)
	if err != nil {
		t.Fatalf("start local cloud: %v", err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	ak, secret := cloud.Credentials()
	creds := aliyun.Credentials{AccessKeyID: ak, AccessKeySecret: secret}
	s := aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: cloud.SLBEndpoint(), Retry: fastRetry(seed), Timeout: 400 * time.Millisecond})
	b, region := cloud.Bucket()
	o, err := aliyun.NewOSS(creds, aliyun.OSSOptions{Endpoint: cloud.OSSEndpoint(), Region: region, Retry: fastRetry(seed), Timeout: time.Second})
	if err != nil {
		t.Fatalf("oss adapter: %v", err)
	}
	e := &env{cloud: cloud, bucket: b, slb: s, oss: o, creds: creds, seen: seen}
	// Prime the SDK once per process, sequentially: services/slb fills its
	// package-level endpoint map lazily without a lock on the first client
	// creation (a data race the adapter inherits; see docs/reliability.md).
	primeSDK.Do(func() { _, _ = s.ListServerCertificates(context.Background(), suiteRegions[0]) })
	return e
}

// rotator returns a Rotator over the environment's adapters (slbAPI may
// wrap e.slb).
func (e *env) rotator(slbAPI rotation.SLB) *rotation.Rotator {
	return &rotation.Rotator{
		Config: rotation.Config{
			Bucket: e.bucket, Regions: suiteRegions, MinValidDays: 7, Keep: 1,
			ProbeTimeout: 2 * time.Second, Concurrency: 5, ProbeRetryDelay: 50 * time.Millisecond,
		},
		Objects: e.oss,
		SLB:     slbAPI,
		Locks:   aliyun.LockStore(e.oss), // the production wiring: the lock in the bucket
		Prober: rotation.ProbeFunc(func(ctx context.Context, address string, port int, serverName string, timeout time.Duration) rotation.ProbeResult {
			r := tlsprobe.Probe(ctx, address, port, serverName, timeout)
			return rotation.ProbeResult{Reachable: r.Reachable, FingerprintSHA1: r.FingerprintSHA1, Err: r.Err}
		}),
	}
}

// fleet is the inventory every fault run starts from: two load balancers in
// two regions serving soon-expiring certificates the new pair covers.
type fleet struct {
	lbs     map[string]string // region -> load balancer id
	address map[string]string // load balancer id -> VIP
	newPair certstest.Pair
	oldKeys [][]byte
}

// seedFleet builds the fleet: in cn-zhangjiakou a listener :443 for
// www.example.com with a domain extension for api.example.com, in
// cn-hangzhou a listener :443 for www.example.com. The old certificates
// expire in 5 days (not ours); the new pair (both names, 90 days) is put in
// the bucket as certs/www/fullchain.pem + privkey.pem, without triggers.
func seedFleet(t *testing.T, e *env) *fleet {
	t.Helper()
	now := time.Now()
	f := &fleet{lbs: map[string]string{}, address: map[string]string{}}
	oldWWW := certstest.SelfSigned(t, certstest.Options{Domains: []string{"www.example.com"}, NotBefore: now.Add(-80 * 24 * time.Hour), NotAfter: now.Add(5 * 24 * time.Hour)})
	oldAPI := certstest.SelfSigned(t, certstest.Options{Domains: []string{"api.example.com"}, NotBefore: now.Add(-80 * 24 * time.Hour), NotAfter: now.Add(5 * 24 * time.Hour)})
	f.oldKeys = [][]byte{oldWWW.KeyPEM, oldAPI.KeyPEM}
	for i, region := range suiteRegions {
		wwwID, err := e.cloud.SLB.SeedServerCertificate(region, "old-www", string(oldWWW.CertPEM), string(oldWWW.KeyPEM), nil)
		must(t, err)
		lb, err := e.cloud.SLB.SeedLoadBalancer(region, fmt.Sprintf("web-%d", i))
		must(t, err)
		must(t, e.cloud.SLB.SeedHTTPSListener(region, lb, 443, wwwID, true))
		if i == 0 {
			apiID, err := e.cloud.SLB.SeedServerCertificate(region, "old-api", string(oldAPI.CertPEM), string(oldAPI.KeyPEM), nil)
			must(t, err)
			_, err = e.cloud.SLB.SeedDomainExtension(region, lb, 443, "api.example.com", apiID)
			must(t, err)
		}
		f.lbs[region] = lb
	}
	for _, r := range e.cloud.SLB.Dump().Regions {
		for _, lb := range r.LoadBalancers {
			f.address[lb.ID] = lb.Address
		}
	}
	f.newPair = certstest.SelfSigned(t, certstest.Options{Domains: []string{"www.example.com", "api.example.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * 24 * time.Hour)})
	e.seen.secrets(f.newPair.KeyPEM, oldWWW.KeyPEM, oldAPI.KeyPEM)
	return f
}

// putPair writes the pair as certs/<name>/fullchain.pem and privkey.pem
// (OSS triggers fire if functions are deployed).
func putPair(t *testing.T, e *env, name string, p certstest.Pair) {
	t.Helper()
	must(t, e.cloud.OSS.PutObject(e.bucket, "certs/"+name+"/fullchain.pem", p.CertPEM))
	must(t, e.cloud.OSS.PutObject(e.bucket, "certs/"+name+"/privkey.pem", p.KeyPEM))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// writeActions are the SLB actions that change state.
var writeActions = map[string]bool{}

func init() {
	for _, a := range slb.Actions() {
		if !strings.HasPrefix(a, "Describe") && !strings.HasPrefix(a, "List") {
			writeActions[a] = true
		}
	}
}

// writes returns the SLB write requests the emulator answered successfully.
func writes(recs []slb.RequestRecord) []string {
	var out []string
	for _, r := range recs {
		if writeActions[r.Action] && r.Status == 200 {
			out = append(out, r.Action)
		}
	}
	return out
}

// uploadsByFingerprint counts successful UploadServerCertificate calls per
// region and leaf fingerprint (from the request's ServerCertificate).
func uploadsByFingerprint(recs []slb.RequestRecord) map[string]int {
	out := map[string]int{}
	for _, r := range recs {
		if r.Action != "UploadServerCertificate" || r.Status != 200 {
			continue
		}
		out[r.Region+" "+leafFingerprint(r.Params["ServerCertificate"])]++
	}
	return out
}

// lostAnswer reports whether the emulator applied the request and then lost
// its answer (a post-action fault).
func lostAnswer(r slb.RequestRecord) bool { return strings.HasPrefix(r.Fault, "lost ") }

// uploadsApplied counts, per region and leaf fingerprint, the uploads the
// cloud applied (answered, or applied with the answer lost) and, of those,
// the ones whose answer was lost.
func uploadsApplied(recs []slb.RequestRecord) (applied, lost map[string]int) {
	applied, lost = map[string]int{}, map[string]int{}
	for _, r := range recs {
		if r.Action != "UploadServerCertificate" || (r.Status != 200 && !lostAnswer(r)) {
			continue
		}
		k := r.Region + " " + leafFingerprint(r.Params["ServerCertificate"])
		applied[k]++
		if lostAnswer(r) {
			lost[k]++
		}
	}
	return applied, lost
}

// leafFingerprint is the colon hex SHA-1 of the first certificate in pemText.
func leafFingerprint(pemText string) string {
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		return "unparsable"
	}
	sum := sha1.Sum(b.Bytes)
	h := hex.EncodeToString(sum[:])
	var sb strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteString(h[i : i+2])
	}
	return sb.String()
}

// transcript collects everything the product said during a test (results,
// errors, log lines) and the secrets that must never appear in it.
type transcript struct {
	mu      sync.Mutex
	text    bytes.Buffer
	needles []string
}

// add records product output.
func (tr *transcript) add(format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	fmt.Fprintf(&tr.text, format, args...)
	tr.text.WriteByte('\n')
}

// Write lets the transcript receive function logs.
func (tr *transcript) Write(p []byte) (int, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.text.Write(p)
}

// secrets registers private keys (as PEM): their base64 lines become
// needles.
func (tr *transcript) secrets(keys ...[]byte) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, k := range keys {
		for _, line := range strings.Split(string(k), "\n") {
			line = strings.TrimSpace(line)
			if len(line) >= 40 && !strings.HasPrefix(line, "-----") {
				tr.needles = append(tr.needles, line[:40])
			}
		}
	}
}

// words registers literal secrets (AccessKeySecret, SecurityToken).
func (tr *transcript) words(ws ...string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, w := range ws {
		if w != "" {
			tr.needles = append(tr.needles, w)
		}
	}
}

// leaks returns every needle (and generic key marker) found in the
// transcript.
func (tr *transcript) leaks() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	text := tr.text.String()
	var out []string
	for _, m := range []string{"-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----",
		"-----BEGIN ENCRYPTED PRIVATE KEY-----", "-----BEGIN OPENSSH PRIVATE KEY-----"} {
		if i := strings.Index(text, m); i >= 0 {
			out = append(out, m+" in: "+text[max(0, i-200):min(len(text), i+60)])
		}
	}
	for _, n := range tr.needles {
		if strings.Contains(text, n) {
			out = append(out, n[:min(12, len(n))]+"…")
		}
	}
	return out
}

// size is the transcript's length in bytes.
func (tr *transcript) size() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.text.Len()
}

// checkNoLeaks fails the test when the transcript holds a secret; the
// transcript must not be empty (a scan of nothing proves nothing).
func checkNoLeaks(t *testing.T, tr *transcript, secrets ...string) {
	t.Helper()
	tr.words(secrets...)
	if tr.size() == 0 {
		t.Fatal("secret scan: the transcript is empty")
	}
	if l := tr.leaks(); len(l) > 0 {
		t.Errorf("secret scan: %d hit(s) in %d bytes of results, errors and logs: %v", len(l), tr.size(), l)
	}
}

// checkLockFree: the pair's lock is free once everything is done: its
// highest generation is released, or (an invocation that created it ended
// before it could confirm or release it: killed, or out of time) its lease
// expires within a function timeout plus the skew. Then a new contender
// takes the lock at once and, releasing it, collects every older
// generation: only its own generation and release marker remain.
func checkLockFree(t *testing.T, e *env, name string) {
	t.Helper()
	dir := lease.Dir("", name)
	var top uint64
	released := map[uint64]bool{}
	for _, b := range e.cloud.OSS.Dump() {
		for _, o := range b.Objects {
			if g, rel, ok := lease.ParseKey(dir, o.Key); b.Name == e.bucket && ok {
				top = max(top, g)
				released[g] = released[g] || rel
			}
		}
	}
	if top == 0 {
		return
	}
	if !released[top] {
		data, _ := e.cloud.OSS.Object(e.bucket, fmt.Sprintf("%sg%020d", dir, top))
		var l lease.Lease
		if err := json.Unmarshal(data, &l); err != nil {
			t.Errorf("lock generation %d is not a lease: %q", top, data)
			return
		}
		wait := time.Until(l.Expires)
		if wait > 40*time.Second {
			t.Errorf("lock generation %d (%s) is held until %s, after everything finished", top, l.Owner, l.Expires)
			return
		}
		time.Sleep(wait + 10*time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lk, err := lease.Acquire(ctx, aliyun.LockStore(e.oss), e.bucket, name, "reliability-check", lease.Options{})
	if err != nil {
		t.Errorf("the lock is not free after everything finished: %v", err)
		return
	}
	if lk.Generation() != top+1 || lk.Waited {
		t.Errorf("took generation %d (waited %v); want %d at once", lk.Generation(), lk.Waited, top+1)
	}
	if err := lk.Release(ctx); err != nil {
		t.Errorf("release: %v", err)
	}
	var left []string
	for _, b := range e.cloud.OSS.Dump() {
		for _, o := range b.Objects {
			if b.Name == e.bucket && strings.HasPrefix(o.Key, "locks/") {
				left = append(left, o.Key)
			}
		}
	}
	want := []string{fmt.Sprintf("%sg%020d", dir, top+1), fmt.Sprintf("%sg%020d.released", dir, top+1)}
	if strings.Join(left, " ") != strings.Join(want, " ") {
		t.Errorf("lock objects left %v; want %v (older generations collected)", left, want)
	}
}
