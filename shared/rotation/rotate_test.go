package rotation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation/rotationtest"
)

const (
	bucket = "cert-bucket"
	zjk    = "cn-zhangjiakou"
	hz     = "cn-hangzhou"
)

var testCA = certstest.NewCA(nil, "Rotation Test CA")

// world is a fake cloud with one load balancer per entry of lbs.
type world struct {
	slb    *clbtest.SLB
	objs   *rotationtest.Objects
	prober *rotationtest.Prober
	r      *rotation.Rotator
	now    time.Time
}

func newWorld(t *testing.T, regions ...string) *world {
	t.Helper()
	if len(regions) == 0 {
		regions = []string{zjk}
	}
	s := &clbtest.SLB{}
	w := &world{slb: s, objs: &rotationtest.Objects{}, prober: &rotationtest.Prober{SLB: s}, now: time.Now()}
	w.r = &rotation.Rotator{
		Config:  rotation.Config{Bucket: bucket, Prefix: "certs/", Regions: regions, MinValidDays: 7, Keep: 1, ProbeRetryDelay: time.Millisecond},
		Objects: w.objs, SLB: s, Prober: w.prober,
	}
	return w
}

// issue makes a pair for domains.
func issue(t *testing.T, domains ...string) certstest.Pair {
	t.Helper()
	return testCA.Issue(t, certstest.Options{Domains: domains, Chain: true})
}

// seedCert stores pair p as an existing certificate in region.
func (w *world) seedCert(t *testing.T, region, name string, p certstest.Pair, ours bool) string {
	t.Helper()
	c, err := clbtest.CertificateFromPEM(region, name, string(p.CertPEM))
	if err != nil {
		t.Fatal(err)
	}
	c.CreateTime = w.now.Add(-24 * time.Hour)
	if ours {
		c.Tags = map[string]string{clb.OwnerTagKey: clb.OwnerTagValue}
	} else {
		c.Tags = map[string]string{}
	}
	return w.slb.AddCertificate(c)
}

func (w *world) lb(region, id, addr string) {
	w.slb.AddLoadBalancer(clb.LoadBalancer{ID: id, Region: region, Address: addr, Status: "active"})
}

func (w *world) listener(region, lb string, port int, certID string) {
	w.slb.AddListener(clb.Listener{Region: region, LoadBalancerID: lb, Port: port, ServerCertificateID: certID})
}

func (w *world) putPair(name string, p certstest.Pair) {
	w.objs.Put(bucket, "certs/"+name+"/fullchain.pem", p.CertPEM)
	w.objs.Put(bucket, "certs/"+name+"/privkey.pem", p.KeyPEM)
}

func (w *world) rotate(t *testing.T, key string) rotation.Result {
	t.Helper()
	res, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	return res
}

func oldName(name string) string { return name + "-20200101-0123abcd" }

func TestRotateHappyPath(t *testing.T) {
	w := newWorld(t)
	old := issue(t, "www.example.com")
	oldID := w.seedCert(t, zjk, oldName("www"), old, true)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, oldID)
	p := issue(t, "www.example.com")
	w.putPair("www", p)

	res := w.rotate(t, "certs/www/privkey.pem")
	if res.Status != rotation.StatusRotated {
		t.Fatalf("status = %s (%s) %v", res.Status, res.Reason, res.Errors)
	}
	if res.Fingerprint != p.FingerprintSHA1 || res.SHA256 != p.SHA256 || res.Name != "www" {
		t.Errorf("identity = %s %s %s", res.Name, res.Fingerprint, res.SHA256)
	}
	newID := w.slb.ListenerCertificate(zjk, "lb-1", 443)
	if newID == oldID || res.Regions[zjk].ServerCertificateID != newID || res.Regions[zjk].Reused {
		t.Fatalf("listener on %s, result regions %+v", newID, res.Regions)
	}
	if len(res.Targets) != 1 || res.Targets[0].Verified != rotation.VerifiedTLS || res.Targets[0].From != oldID || res.Targets[0].To != newID {
		t.Errorf("targets = %+v", res.Targets)
	}
	if got := w.slb.Calls("UploadServerCertificate"); got != 1 {
		t.Errorf("uploads = %d; want 1", got)
	}
	// keep=1: the superseded certificate stays for rollback.
	if len(res.Deleted) != 0 || len(w.slb.Certificates(zjk)) != 2 {
		t.Errorf("deleted = %+v, certificates = %d", res.Deleted, len(w.slb.Certificates(zjk)))
	}
	var uploaded clb.ServerCertificate
	for _, c := range w.slb.Certificates(zjk) {
		if c.ID == newID {
			uploaded = c
		}
	}
	if !uploaded.Ours() || !strings.HasPrefix(uploaded.Name, "www-") {
		t.Errorf("uploaded certificate %+v is not named/tagged as ours", uploaded)
	}

	// The same event again: nothing changes, nothing is uploaded.
	again := w.rotate(t, "certs/www/fullchain.pem")
	if again.Status != rotation.StatusUnchanged || !again.Regions[zjk].Reused || again.Regions[zjk].ServerCertificateID != newID {
		t.Errorf("second rotation = %s %+v", again.Status, again.Regions)
	}
	// It says why nothing moved: the places serve this certificate already
	// (not that nothing serves the domains).
	if want := "already serves this certificate"; !strings.Contains(again.Reason, want) {
		t.Errorf("second rotation's reason %q lacks %q", again.Reason, want)
	}
	if got := w.slb.Calls("UploadServerCertificate"); got != 1 {
		t.Errorf("uploads after duplicate event = %d; want 1", got)
	}
}

func TestRotateScenarios(t *testing.T) {
	type check func(t *testing.T, w *world, res rotation.Result)
	tests := []struct {
		name  string
		setup func(t *testing.T, w *world) string // returns the event key
		check check
	}{
		{
			name: "reuse existing certificate with the same fingerprint",
			setup: func(t *testing.T, w *world) string {
				old := issue(t, "www.example.com")
				p := issue(t, "www.example.com")
				oldID := w.seedCert(t, zjk, "user-old", old, false)
				w.seedCert(t, zjk, "uploaded-by-hand", p, false)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, oldID)
				w.putPair("www", p)
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated || !res.Regions[zjk].Reused || w.slb.Calls("UploadServerCertificate") != 0 {
					t.Errorf("status %s regions %+v uploads %d", res.Status, res.Regions, w.slb.Calls("UploadServerCertificate"))
				}
			},
		},
		{
			name: "SNI extension switched, unrelated default untouched",
			setup: func(t *testing.T, w *world) string {
				www := w.seedCert(t, zjk, "www", issue(t, "www.example.com"), false)
				api := w.seedCert(t, zjk, "api", issue(t, "api.example.com"), false)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, www)
				w.slb.AddExtension(clb.DomainExtension{ID: "de-api", Region: zjk, LoadBalancerID: "lb-1", ListenerPort: 443, Domain: "api.example.com", ServerCertificateID: api})
				w.putPair("api", issue(t, "api.example.com"))
				return "certs/api/privkey.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].Domain != "api.example.com" || res.Targets[0].Verified != rotation.VerifiedTLS {
					t.Fatalf("status %s targets %+v errors %v", res.Status, res.Targets, res.Errors)
				}
				if w.slb.ExtensionCertificate("de-api") != res.Regions[zjk].ServerCertificateID {
					t.Errorf("extension not switched")
				}
				if w.slb.Calls("SetLoadBalancerHTTPSListenerAttribute") != 0 {
					t.Errorf("default certificate touched")
				}
				if probes := w.prober.Probes(); len(probes) == 0 || !strings.HasSuffix(probes[0], " api.example.com") {
					t.Errorf("probes = %v; want SNI api.example.com", probes)
				}
			},
		},
		{
			name: "wildcard covers one label only",
			setup: func(t *testing.T, w *world) string {
				a := w.seedCert(t, zjk, "a", issue(t, "a.example.com"), false)
				apex := w.seedCert(t, zjk, "apex", issue(t, "example.com"), false)
				deep := w.seedCert(t, zjk, "deep", issue(t, "a.b.example.com"), false)
				mixed := w.seedCert(t, zjk, "mixed", issue(t, "b.example.com", "example.com"), false)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, a)
				w.listener(zjk, "lb-1", 8443, apex)
				w.listener(zjk, "lb-1", 9443, deep)
				w.listener(zjk, "lb-1", 10443, mixed)
				w.putPair("wild", issue(t, "*.example.com"))
				return "certs/wild/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].ListenerPort != 443 {
					t.Fatalf("status %s targets %+v", res.Status, res.Targets)
				}
				if p := w.prober.Probes(); len(p) == 0 || strings.Contains(p[0], "*") {
					t.Errorf("probe SNI must be concrete: %v", p)
				}
			},
		},
		{
			name: "two regions, one upload each",
			setup: func(t *testing.T, w *world) string {
				w.r.Config.Regions = []string{zjk, hz}
				old := issue(t, "www.example.com")
				a := w.seedCert(t, zjk, "old", old, false)
				b := w.seedCert(t, hz, "old", old, false)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.lb(hz, "lb-2", "127.0.0.3")
				w.listener(zjk, "lb-1", 443, a)
				w.listener(hz, "lb-2", 443, b)
				w.listener(hz, "lb-2", 8443, b)
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated || len(res.Regions) != 2 || len(res.Targets) != 3 || w.slb.Calls("UploadServerCertificate") != 2 {
					t.Fatalf("status %s regions %+v targets %d uploads %d", res.Status, res.Regions, len(res.Targets), w.slb.Calls("UploadServerCertificate"))
				}
				if w.slb.ListenerCertificate(hz, "lb-2", 8443) != res.Regions[hz].ServerCertificateID {
					t.Errorf("hangzhou listener not on the hangzhou certificate")
				}
			},
		},
		{
			name: "explicit target missing is rejected by name before any write",
			setup: func(t *testing.T, w *world) string {
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
				w.putPair("www", issue(t, "www.example.com"))
				w.objs.Put(bucket, "certs/www/deploy.yaml", []byte("targets:\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 443\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 8443\n"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRejected || !strings.Contains(res.Reason, "cn-zhangjiakou/lb-1:8443") || !strings.Contains(res.Reason, "deploy.yaml") {
					t.Errorf("status %s reason %q", res.Status, res.Reason)
				}
				if w.slb.Calls("UploadServerCertificate")+w.slb.Calls("SetLoadBalancerHTTPSListenerAttribute") != 0 {
					t.Errorf("writes happened")
				}
			},
		},
		{
			name: "explicit SNI target and no discovery",
			setup: func(t *testing.T, w *world) string {
				oldAPI := w.seedCert(t, zjk, "api", issue(t, "api.example.com"), false)
				www := w.seedCert(t, zjk, "www", issue(t, "www.example.com"), false)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, www)
				w.listener(zjk, "lb-1", 8443, oldAPI) // would be discovered, but discovery is off
				w.slb.AddExtension(clb.DomainExtension{ID: "de-api", Region: zjk, LoadBalancerID: "lb-1", ListenerPort: 443, Domain: "api.example.com", ServerCertificateID: oldAPI})
				w.putPair("api", issue(t, "api.example.com"))
				w.objs.Put(bucket, "certs/api/deploy.yaml", []byte("targets:\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 443\n    domain: API.example.com\n"))
				return "certs/api/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].Source != "explicit" || res.Targets[0].Domain != "api.example.com" {
					t.Fatalf("status %s targets %+v %v", res.Status, res.Targets, res.Errors)
				}
			},
		},
		{
			name: "a target discovery finds that deploy.yaml also names is reported explicit",
			setup: func(t *testing.T, w *world) string {
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
				w.putPair("www", issue(t, "www.example.com"))
				w.objs.Put(bucket, "certs/www/deploy.yaml", []byte("discover: true\ntargets:\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 443\n"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].Source != "explicit" {
					t.Fatalf("status %s targets %+v %v", res.Status, res.Targets, res.Errors)
				}
			},
		},
		{
			name: "quota reached is rejected without switching",
			setup: func(t *testing.T, w *world) string {
				w.slb.Quota = 1
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRejected || !strings.Contains(res.Reason, "quota") || w.slb.Calls("SetLoadBalancerHTTPSListenerAttribute") != 0 {
					t.Errorf("status %s reason %q", res.Status, res.Reason)
				}
			},
		},
		{
			name: "rollback when the frontend serves another certificate",
			setup: func(t *testing.T, w *world) string {
				old := issue(t, "www.example.com")
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", old, false))
				w.prober.Stale = map[string]string{"127.0.0.2:443": old.FingerprintSHA1}
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if len(res.Targets) != 1 || !res.Targets[0].RolledBack || res.Status == rotation.StatusRotated {
					t.Fatalf("status %s targets %+v", res.Status, res.Targets)
				}
				if got := w.slb.ListenerCertificate(zjk, "lb-1", 443); got != res.Targets[0].From {
					t.Errorf("listener on %s; want rolled back to %s", got, res.Targets[0].From)
				}
				if len(res.Errors) == 0 || !strings.Contains(strings.Join(res.Errors, "\n"), "rolled back") {
					t.Errorf("errors = %v", res.Errors)
				}
			},
		},
		{
			name: "unreachable address is probe-skipped, not success",
			setup: func(t *testing.T, w *world) string {
				w.lb(zjk, "lb-1", "127.0.0.9")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
				w.prober.Unreachable = map[string]bool{"127.0.0.9": true}
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if len(res.Targets) != 1 || res.Targets[0].Verified != rotation.VerifiedProbeSkipped {
					t.Errorf("targets %+v", res.Targets)
				}
			},
		},
		{
			name: "cleanup keeps foreign and referenced certificates and the newest keep",
			setup: func(t *testing.T, w *world) string {
				w.r.Config.Keep = 1
				mk := func(name string, ours bool, age time.Duration) string {
					c, _ := clbtest.CertificateFromPEM(zjk, name, string(issue(t, "www.example.com").CertPEM))
					c.CreateTime = w.now.Add(-age)
					c.Tags = map[string]string{}
					if ours {
						c.Tags[clb.OwnerTagKey] = clb.OwnerTagValue
					}
					return w.slb.AddCertificate(c)
				}
				cur := mk("www-20240101-00000001", true, 1*time.Hour)
				mk("www-20230101-00000002", true, 2*time.Hour)  // newest superseded: kept
				mk("www-20220101-00000003", true, 3*time.Hour)  // deleted
				mk("www-20210101-00000004", false, 4*time.Hour) // our name, not our tag: kept
				mk("my-own-www", false, 5*time.Hour)            // foreign: kept
				mk("api-20210101-00000005", true, 6*time.Hour)  // another pair's: kept
				// Pair "www " (a look-alike name with the same base) uploaded this
				// one and tagged it: not ours to clean up, kept.
				la, _ := clbtest.CertificateFromPEM(zjk, "www-20190101-00000007", string(issue(t, "www.example.com").CertPEM))
				la.CreateTime = w.now.Add(-8 * time.Hour)
				la.Tags = map[string]string{clb.OwnerTagKey: clb.OwnerTagValue, clb.PairTagKey: clb.PairTagValue("www ")}
				w.slb.AddCertificate(la)
				ref := mk("www-20200101-00000006", true, 7*time.Hour)
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, cur)
				w.listener(zjk, "lb-1", 8443, ref)
				w.objs.Put(bucket, "certs/www/deploy.yaml", []byte("targets:\n  - {region: cn-zhangjiakou, loadBalancerId: lb-1, listenerPort: 443}\n"))
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated {
					t.Fatalf("status %s %v", res.Status, res.Errors)
				}
				var names []string
				for _, d := range res.Deleted {
					names = append(names, d.Name)
				}
				// The previous current one becomes superseded too; keep=1
				// keeps the newest (the one just replaced).
				want := "www-20220101-00000003,www-20230101-00000002"
				if strings.Join(names, ",") != want && strings.Join(names, ",") != "www-20230101-00000002,www-20220101-00000003" {
					t.Errorf("deleted %v; want %s", names, want)
				}
				left := map[string]bool{}
				for _, c := range w.slb.Certificates(zjk) {
					left[c.Name] = true
				}
				for _, n := range []string{"www-20240101-00000001", "www-20210101-00000004", "my-own-www", "api-20210101-00000005", "www-20200101-00000006"} {
					if !left[n] {
						t.Errorf("%s was deleted", n)
					}
				}
			},
		},
		{
			name: "dry run plans without writing",
			setup: func(t *testing.T, w *world) string {
				w.r.Config.DryRun = true
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusPlanned || len(res.Targets) != 1 || res.Targets[0].To != "" {
					t.Errorf("status %s targets %+v", res.Status, res.Targets)
				}
				if n := w.slb.Calls("UploadServerCertificate") + w.slb.Calls("SetLoadBalancerHTTPSListenerAttribute") + w.slb.Calls("DeleteServerCertificate"); n != 0 {
					t.Errorf("%d writes in a dry run", n)
				}
			},
		},
		{
			name: "missing half waits without writes",
			setup: func(t *testing.T, w *world) string {
				w.objs.Put(bucket, "certs/www/fullchain.pem", issue(t, "www.example.com").CertPEM)
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusWaiting || !strings.Contains(res.Reason, "key") {
					t.Errorf("status %s reason %q", res.Status, res.Reason)
				}
			},
		},
		{
			name: "key of another certificate waits",
			setup: func(t *testing.T, w *world) string {
				w.objs.Put(bucket, "certs/www/fullchain.pem", issue(t, "www.example.com").CertPEM)
				w.objs.Put(bucket, "certs/www/privkey.pem", issue(t, "www.example.com").KeyPEM)
				return "certs/www/privkey.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusWaiting {
					t.Errorf("status %s reason %q", res.Status, res.Reason)
				}
			},
		},
		{
			name: "invalid pair is rejected naming the file",
			setup: func(t *testing.T, w *world) string {
				w.objs.Put(bucket, "certs/www.pem", []byte("garbage, not PEM"))
				return "certs/www.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRejected || !strings.Contains(res.Reason, "certs/www.pem") {
					t.Errorf("status %s reason %q", res.Status, res.Reason)
				}
			},
		},
		{
			name: "oversized object is rejected",
			setup: func(t *testing.T, w *world) string {
				p := issue(t, "www.example.com")
				w.objs.Put(bucket, "certs/www/fullchain.pem", append(p.CertPEM, make([]byte, 70<<10)...))
				w.objs.Put(bucket, "certs/www/privkey.pem", p.KeyPEM)
				return "certs/www/privkey.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRejected || !strings.Contains(res.Reason, "64 KiB") {
					t.Errorf("status %s reason %q", res.Status, res.Reason)
				}
			},
		},
		{
			name: "object outside the prefix is ignored unread",
			setup: func(t *testing.T, w *world) string {
				w.objs.Put(bucket, "other/www/fullchain.pem", []byte("x"))
				return "other/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusIgnored || len(w.objs.Gets()) != 0 {
					t.Errorf("status %s gets %v", res.Status, w.objs.Gets())
				}
			},
		},
		{
			name: "bundle with spaces and non-ASCII in the name",
			setup: func(t *testing.T, w *world) string {
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
				w.objs.Put(bucket, "certs/网站 www.pem", issue(t, "www.example.com").Bundle())
				return "certs/网站 www.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusRotated || res.Name != "网站 www" {
					t.Errorf("status %s name %q %v", res.Status, res.Name, res.Errors)
				}
			},
		},
		{
			name: "nothing serves the domains",
			setup: func(t *testing.T, w *world) string {
				w.lb(zjk, "lb-1", "127.0.0.2")
				w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "other.example.org"), false))
				w.putPair("www", issue(t, "www.example.com"))
				return "certs/www/fullchain.pem"
			},
			check: func(t *testing.T, w *world, res rotation.Result) {
				if res.Status != rotation.StatusUnchanged || w.slb.Calls("UploadServerCertificate") != 0 {
					t.Errorf("status %s uploads %d", res.Status, w.slb.Calls("UploadServerCertificate"))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			key := tt.setup(t, w)
			res := w.rotate(t, key)
			tt.check(t, w, res)
			assertNoSecrets(t, res)
		})
	}
}

func TestRotateTransientErrorIsReturned(t *testing.T) {
	w := newWorld(t)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
	w.putPair("www", issue(t, "www.example.com"))
	w.slb.Fail = func(action string) error {
		if action == "SetLoadBalancerHTTPSListenerAttribute" {
			return fmt.Errorf("Throttling: %w", apierr.ErrTransient)
		}
		return nil
	}
	_, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Key: "certs/www/fullchain.pem"})
	if !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err = %v; want transient", err)
	}
	// FC retries once the throttling is over: the retry completes the job
	// and reuses the certificate uploaded the first time.
	w.slb.Fail = nil
	res := w.rotate(t, "certs/www/fullchain.pem")
	if res.Status != rotation.StatusRotated || !res.Regions[zjk].Reused || w.slb.Calls("UploadServerCertificate") != 1 {
		t.Errorf("retry: status %s regions %+v uploads %d", res.Status, res.Regions, w.slb.Calls("UploadServerCertificate"))
	}
}

func TestRotateName(t *testing.T) {
	w := newWorld(t)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "old", issue(t, "www.example.com"), false))
	w.objs.Put(bucket, "certs/www/cert.pem", issue(t, "www.example.com").CertPEM) // incomplete pair
	w.objs.Put(bucket, "certs/www.pem", issue(t, "www.example.com").Bundle())
	res, err := w.r.RotateName(context.Background(), w.now, bucket, "www")
	if err != nil {
		t.Fatal(err)
	}
	// The folder layout wins when it holds a half: it is incomplete.
	if res.Status != rotation.StatusWaiting {
		t.Errorf("status %s (%s)", res.Status, res.Reason)
	}
	w.objs.Delete(bucket, "certs/www/cert.pem")
	if res, err = w.r.RotateName(context.Background(), w.now, bucket, "www"); err != nil || res.Status != rotation.StatusRotated {
		t.Errorf("status %s err %v", res.Status, err)
	}
}

// assertNoSecrets fails when a result carries private key material.
func assertNoSecrets(t *testing.T, res rotation.Result) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "MII") {
		t.Errorf("result carries key material: %s", s)
	}
}
