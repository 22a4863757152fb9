package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/localcloudtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// lbCloud is a local cloud with one CLB (HTTPS listener on 443 for
// clb.fleet.example.com with a domain extension for api.fleet.example.com),
// the seeded ALB (default alb-1, additional shop-1, plus an unrelated
// additional certificate for other.example.org) and NLB (default nlb-1).
type lbCloud struct {
	t       *testing.T
	c       *emulator.Cloud
	fleet   []emulator.FleetMember
	otherID string // the unrelated ALB additional certificate
	h       *Handler
	ctx     context.Context
	alb     *aliyun.ALB
	nlb     *aliyun.NLB
	cas     *aliyun.CAS
}

var lbDomains = []string{"clb.fleet.example.com", "api.fleet.example.com", "alb-1.fleet.example.com", "shop-1.fleet.example.com", "nlb-1.fleet.example.com"}

func newLBCloud(t *testing.T) *lbCloud {
	t.Helper()
	env := localcloudtest.Start(t, localcloudtest.Options{Cloud: emulator.Options{Bucket: bucket, Regions: []string{zjk}, LBConfiguring: 300 * time.Millisecond}})
	c := env.Cloud
	lc := &lbCloud{t: t, c: c, alb: env.ALB(), nlb: env.NLB(), cas: env.CAS()}
	var err error
	if lc.fleet, err = c.SeedLBFleet(zjk, 1); err != nil {
		t.Fatal(err)
	}
	seedCLB(t, env)
	other := certstest.SelfSigned(t, certstest.Options{Domains: []string{"other.example.org"}, NotBefore: time.Now().Add(-time.Hour)})
	if lc.otherID, err = c.CAS.Seed(zjk, "users-own", string(other.CertPEM), string(other.KeyPEM)); err != nil {
		t.Fatal(err)
	}
	if err := c.ALB.SeedAdditionalCertificates(zjk, lc.member("alb").ListenerID, lc.otherID); err != nil {
		t.Fatal(err)
	}
	ak, secret, token := c.STSCredentials()
	lc.h = &Handler{
		Config: env.Configure(config.Config{CertBucket: bucket, CertPrefix: "certs/", Regions: []string{zjk}, MinValidDays: 7, KeepSuperseded: 1,
			ProbeTimeout: 3 * time.Second, Concurrency: 5, OSSSignature: "v4", Products: config.DefaultProducts}),
		Log: fclog.New(io.Discard, slog.LevelInfo),
	}
	wire(lc.h, nil)
	lc.ctx = fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: "req-lb",
		Credentials: fccontext.Credentials{AccessKeyId: ak, AccessKeySecret: secret, SecurityToken: token}})
	return lc
}

func seedCLB(t *testing.T, env *localcloudtest.Env) {
	t.Helper()
	old := testCA.Issue(t, certstest.Options{Domains: []string{"clb.fleet.example.com"}, NotAfter: time.Now().Add(30 * 24 * time.Hour)})
	api := testCA.Issue(t, certstest.Options{Domains: []string{"api.fleet.example.com"}, NotAfter: time.Now().Add(30 * 24 * time.Hour)})
	_, lb := env.SeedListener(t, zjk, "old", "CLB1", 443, old)
	apiID, err := env.Cloud.SLB.SeedServerCertificate(zjk, "api", string(api.CertPEM), string(api.KeyPEM), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Cloud.SLB.SeedDomainExtension(zjk, lb, 443, "api.fleet.example.com", apiID); err != nil {
		t.Fatal(err)
	}
}

func (lc *lbCloud) member(kind string) emulator.FleetMember {
	return localcloudtest.Member(lc.t, lc.fleet, kind)
}

// drop stores a pair for domains and runs the handler on its upload event.
func (lc *lbCloud) drop(t *testing.T, domains ...string) (rotation.Result, error, certstest.Pair) {
	t.Helper()
	p := testCA.Issue(t, certstest.Options{Domains: domains})
	for k, v := range map[string][]byte{"certs/www/fullchain.pem": p.CertPEM, "certs/www/privkey.pem": p.KeyPEM} {
		if err := lc.c.OSS.PutObject(bucket, k, v); err != nil {
			t.Fatal(err)
		}
	}
	res, err := lc.h.Handle(lc.ctx, event("ObjectCreated:PutObject", bucket, "certs/www/fullchain.pem"))
	return res, err, p
}

func (lc *lbCloud) albCerts(t *testing.T) (def string, extra []string) {
	t.Helper()
	return localcloudtest.ListenerCerts(t, lc.alb, zjk, lc.member("alb").ListenerID)
}

// casWithFingerprint counts the CAS certificates holding fp.
func (lc *lbCloud) casWithFingerprint(t *testing.T, fp string) int {
	t.Helper()
	all, err := lc.cas.ListCertificates(context.Background(), zjk)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range all {
		if c.Fingerprint == fp {
			n++
		}
	}
	return n
}

func productsOf(res rotation.Result) map[string]int {
	out := map[string]int{}
	for _, tr := range res.Targets {
		out[tr.Product+"/"+map[bool]string{true: "sni", false: "default"}[tr.Domain != ""]]++
	}
	return out
}

// TestOneDropEveryLoadBalancer: one pair reaches the CLB listener and its
// extension, the ALB listener (default and SNI) and the NLB listener, each
// verified by a TLS handshake (ALB and NLB through their DNS names); the
// unrelated ALB SNI certificate stays; CAS holds one copy; cleanup leaves
// the fleet's certificates (not ours).
func TestOneDropEveryLoadBalancer(t *testing.T) {
	lc := newLBCloud(t)
	res, err, p := lc.drop(t, lbDomains...)
	if err != nil || res.Status != rotation.StatusRotated {
		t.Fatalf("status %s err %v reason %q targets %+v errors %v", res.Status, err, res.Reason, res.Targets, res.Errors)
	}
	want := map[string]int{"/default": 1, "/sni": 1, "alb/default": 1, "alb/sni": 1, "nlb/default": 1}
	if got := productsOf(res); len(got) != len(want) || got["alb/sni"] != 1 || got["nlb/default"] != 1 || got["/sni"] != 1 || got["alb/default"] != 1 || got["/default"] != 1 {
		t.Fatalf("targets by product %v, want %v", got, want)
	}
	for _, tr := range res.Targets {
		if tr.Verified != rotation.VerifiedTLS {
			t.Fatalf("target %+v not verified by handshake", tr)
		}
	}
	fp := certs.FingerprintSHA1(p.Leaf.Raw)
	if n := lc.casWithFingerprint(t, fp); n != 1 {
		t.Fatalf("%d CAS certificates with the pair's fingerprint, want 1", n)
	}
	def, extra := lc.albCerts(t)
	if def != res.Regions["alb/"+zjk].ServerCertificateID || len(extra) != 1 || extra[0] != lc.otherID {
		t.Fatalf("ALB default %s additional %v; want the new default and only the unrelated %s", def, extra, lc.otherID)
	}
	all, err := lc.cas.ListCertificates(context.Background(), zjk)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 { // three fleet certificates, the unrelated one, ours
		t.Fatalf("CAS holds %d certificates after cleanup, want 5", len(all))
	}
	out, _ := json.Marshal(res)
	if strings.Contains(string(out), "PRIVATE KEY") {
		t.Fatal("key material in the result")
	}
}

// TestSNITargetLeavesDefault: a pair for the ALB SNI domain only replaces
// that additional certificate; the default and the unrelated one stay.
func TestSNITargetLeavesDefault(t *testing.T) {
	lc := newLBCloud(t)
	defBefore, _ := lc.albCerts(t)
	res, err, _ := lc.drop(t, "shop-1.fleet.example.com")
	if err != nil || res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].Product != "alb" || res.Targets[0].Domain == "" {
		t.Fatalf("status %s err %v targets %+v", res.Status, err, res.Targets)
	}
	def, extra := lc.albCerts(t)
	newID := res.Regions["alb/"+zjk].ServerCertificateID
	if def != defBefore || len(extra) != 2 || !(extra[0] == newID && extra[1] == lc.otherID || extra[1] == newID && extra[0] == lc.otherID) {
		t.Fatalf("default %s (was %s), additional %v: want %s and the unrelated %s", def, defBefore, extra, newID, lc.otherID)
	}
}

// TestFailedJobNamed: an ALB job that ends Failed (every attempt) leaves
// the rotation not rotated, with an error naming the listener; FC retries.
func TestFailedJobNamed(t *testing.T) {
	lc := newLBCloud(t)
	lc.c.JobFaults.Set(faults.JobRule{Action: "UpdateListenerAttribute", FailRate: 1})
	res, err, _ := lc.drop(t, "alb-1.fleet.example.com")
	if err == nil || res.Status.Success() {
		t.Fatalf("status %s err %v: a failed job must not read as success", res.Status, err)
	}
	if !strings.Contains(err.Error(), lc.member("alb").ListenerID) {
		t.Fatalf("error does not name the listener %s: %v", lc.member("alb").ListenerID, err)
	}
	def, _ := lc.albCerts(t)
	if def != lc.member("alb").CertID {
		t.Fatalf("default %s after a failed job, want the old %s", def, lc.member("alb").CertID)
	}
}

// TestLostUploadAnswerNoDuplicate: the CAS upload takes effect but its
// answer is lost; the rotation finds the certificate instead of uploading
// a second copy.
func TestLostUploadAnswerNoDuplicate(t *testing.T) {
	lc := newLBCloud(t)
	lc.c.Faults.Set(faults.Rule{Action: "UploadUserCertificate", LostRate: 1})
	res, err, p := lc.drop(t, "nlb-1.fleet.example.com")
	if err != nil || res.Status != rotation.StatusRotated {
		t.Fatalf("status %s err %v reason %q errors %v", res.Status, err, res.Reason, res.Errors)
	}
	if n := lc.casWithFingerprint(t, certs.FingerprintSHA1(p.Leaf.Raw)); n != 1 {
		t.Fatalf("%d CAS certificates with the pair's fingerprint after a lost answer, want 1", n)
	}
	uploads := 0
	for _, r := range lc.c.RequestLog().CAS {
		if r.Action == "UploadUserCertificate" {
			uploads++
		}
	}
	if uploads != 1 {
		t.Fatalf("%d upload calls, want 1 (the lost answer is resolved by a look-up)", uploads)
	}
}

func (lc *lbCloud) casHas(t *testing.T, identity string) bool {
	t.Helper()
	all, err := lc.cas.ListCertificates(context.Background(), zjk)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if c.Identity == identity {
			return true
		}
	}
	return false
}

// TestCleanupAcrossProducts: with KEEP_SUPERSEDED=0, our superseded CAS
// certificate is not even tried for deletion while an NLB listener (a
// product this rotation did not plan: deploy.yaml names only the ALB)
// references it; once nothing references it, it is deleted; certificates
// that are not ours stay.
func TestCleanupAcrossProducts(t *testing.T) {
	lc := newLBCloud(t)
	lc.h.Config.KeepSuperseded = 0
	ctx := context.Background()
	resA, err, _ := lc.drop(t, "alb-1.fleet.example.com")
	if err != nil || resA.Status != rotation.StatusRotated {
		t.Fatalf("first drop: %s %v %v", resA.Status, err, resA.Errors)
	}
	a := resA.Regions["alb/"+zjk].ServerCertificateID
	nlbM := lc.member("nlb")
	if err := lc.nlb.SetDefaultCertificate(ctx, zjk, nlbM.ListenerID, a); err != nil { // bound by hand
		t.Fatal(err)
	}
	deploy := "discover: false\ntargets:\n  - {type: alb, region: " + zjk + ", loadBalancerId: " + lc.member("alb").ID + ", listenerId: " + lc.member("alb").ListenerID + "}\n"
	if err := lc.c.OSS.PutObject(bucket, "certs/www/deploy.yaml", []byte(deploy)); err != nil {
		t.Fatal(err)
	}
	resB, err, _ := lc.drop(t, "alb-1.fleet.example.com")
	if err != nil || resB.Status != rotation.StatusRotated || len(resB.Targets) != 1 {
		t.Fatalf("second drop: %s %v %+v %v", resB.Status, err, resB.Targets, resB.Errors)
	}
	if len(resB.Deleted) != 0 || len(resB.Kept) != 0 || !lc.casHas(t, a) {
		t.Fatalf("deleted %+v kept %+v: %s is still the NLB listener's and must not be tried", resB.Deleted, resB.Kept, a)
	}
	if err := lc.nlb.SetDefaultCertificate(ctx, zjk, nlbM.ListenerID, nlbM.CertID); err != nil {
		t.Fatal(err)
	}
	resC, err, _ := lc.drop(t, "alb-1.fleet.example.com")
	if err != nil || resC.Status != rotation.StatusRotated {
		t.Fatalf("third drop: %s %v %v", resC.Status, err, resC.Errors)
	}
	b := resB.Regions["alb/"+zjk].ServerCertificateID
	if len(resC.Deleted) != 2 || lc.casHas(t, a) || lc.casHas(t, b) {
		t.Fatalf("deleted %+v: want our superseded %s and %s gone", resC.Deleted, a, b)
	}
	for _, m := range lc.fleet {
		if !lc.casHas(t, m.CertID) {
			t.Fatalf("the fleet's certificate %s (not ours) was deleted", m.CertID)
		}
	}
	if !lc.casHas(t, lc.otherID) {
		t.Fatal("the unrelated certificate was deleted")
	}
}

// TestWriteDuringConfiguring: the ALB listener is Configuring (another
// writer's job) when the drop arrives; the rotation waits it out instead of
// writing (no write is refused with IncorrectStatus.Listener) and rotates.
func TestWriteDuringConfiguring(t *testing.T) {
	lc := newLBCloud(t)
	ctx := context.Background()
	m := lc.member("alb")
	errc := make(chan error, 1)
	go func() { errc <- lc.alb.DissociateAdditionalCertificate(ctx, zjk, m.ListenerID, lc.otherID) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := lc.alb.GetListener(ctx, zjk, m.ListenerID)
		if err != nil {
			t.Fatal(err)
		}
		if l.Status == aliyun.Configuring {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener never became Configuring")
		}
		time.Sleep(5 * time.Millisecond)
	}
	res, err, _ := lc.drop(t, "alb-1.fleet.example.com")
	if err != nil || res.Status != rotation.StatusRotated || len(res.Targets) != 1 || res.Targets[0].Verified != rotation.VerifiedTLS {
		t.Fatalf("status %s err %v targets %+v errors %v", res.Status, err, res.Targets, res.Errors)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	writes := 0
	for _, r := range lc.c.RequestLog().ALB {
		if r.Code == "IncorrectStatus.Listener" {
			t.Fatalf("%s sent while the listener was Configuring", r.Action)
		}
		if r.Action == "UpdateListenerAttribute" && r.Status == 200 {
			writes++
		}
	}
	if writes != 1 {
		t.Fatalf("%d default-certificate writes, want 1", writes)
	}
}

// TestSampleDeployAllProducts: events/deploy-all-products.yaml parses and
// names one target of each product.
func TestSampleDeployAllProducts(t *testing.T) {
	data, err := os.ReadFile("../../events/deploy-all-products.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := pairs.ParseDeploy("events/deploy-all-products.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, tg := range d.Targets {
		types[tg.Type] = true
	}
	if len(d.Targets) != 3 || !types[""] || !types["alb"] || !types["nlb"] || !d.Targets[2].Additional {
		t.Fatalf("targets %+v", d.Targets)
	}
}

// TestExplicitALBTargets: deploy.yaml names an ALB additional certificate
// by listener id and domain (only it is replaced), or a listener that does
// not exist (the pair is rejected, nothing is written, the file and the
// target are named).
func TestExplicitALBTargets(t *testing.T) {
	for _, tc := range []struct {
		name, listener, extra string
		want                  rotation.Status
	}{
		{"additional by listener id", "", "additional: true, domain: shop-1.fleet.example.com", rotation.StatusRotated},
		{"unknown listener", "lsn-doesnotexist", "", rotation.StatusRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc := newLBCloud(t)
			m := lc.member("alb")
			listener := tc.listener
			if listener == "" {
				listener = m.ListenerID
			}
			target := "{type: alb, region: " + zjk + ", loadBalancerId: " + m.ID + ", listenerId: " + listener
			if tc.extra != "" {
				target += ", " + tc.extra
			}
			if err := lc.c.OSS.PutObject(bucket, "certs/www/deploy.yaml", []byte("targets:\n  - "+target+"}\n")); err != nil {
				t.Fatal(err)
			}
			defBefore, extraBefore := lc.albCerts(t)
			res, err, _ := lc.drop(t, "alb-1.fleet.example.com", "shop-1.fleet.example.com")
			if err != nil || res.Status != tc.want {
				t.Fatalf("status %s (want %s) err %v reason %q targets %+v", res.Status, tc.want, err, res.Reason, res.Targets)
			}
			def, extra := lc.albCerts(t)
			if tc.want == rotation.StatusRejected {
				if def != defBefore || len(extra) != len(extraBefore) || !strings.Contains(res.Reason, "deploy.yaml") || !strings.Contains(res.Reason, listener) {
					t.Fatalf("rejected but default %s (was %s), additional %v (was %v), reason %q", def, defBefore, extra, extraBefore, res.Reason)
				}
				for _, r := range lc.c.RequestLog().ALB {
					if strings.Contains(r.Action, "Update") || strings.Contains(r.Action, "ssociate") {
						t.Fatalf("%s sent for a rejected pair", r.Action)
					}
				}
				return
			}
			newID := res.Regions["alb/"+zjk].ServerCertificateID
			if len(res.Targets) != 1 || res.Targets[0].Domain != "shop-1.fleet.example.com" || def != defBefore ||
				len(extra) != 2 || !(extra[0] == newID || extra[1] == newID) {
				t.Fatalf("targets %+v; default %s (was %s); additional %v", res.Targets, def, defBefore, extra)
			}
		})
	}
}

// TestALBRolledBackWhenNotServed: the handshake keeps seeing another
// certificate on the ALB listener after the API reports the switch; the
// ALB default is rolled back to its previous certificate (read back), the
// target is reported rolled-back and the rotation partial (never rotated),
// naming the ALB target, while the NLB target of the same drop is rotated.
func TestALBRolledBackWhenNotServed(t *testing.T) {
	lc := newLBCloud(t)
	real := app.TLSProber(lc.h.Config.ProbeResolver)
	albName := lc.member("alb").DNSName
	wire(lc.h, func(root *app.Root) {
		root.Prober = rotation.ProbeFunc(func(ctx context.Context, address string, port int, sni string, timeout time.Duration) rotation.ProbeResult {
			r := real(ctx, address, port, sni, timeout)
			if address == albName {
				r.FingerprintSHA1 = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33" // something else
			}
			return r
		})
	})
	lc.h.Config.ProbeTimeout = time.Second
	res, err, _ := lc.drop(t, "alb-1.fleet.example.com", "nlb-1.fleet.example.com")
	if res.Status != rotation.StatusPartial || !strings.Contains(res.Reason, lc.member("alb").ID) {
		t.Fatalf("status %s err %v reason %q: want partial naming the ALB target", res.Status, err, res.Reason)
	}
	var alb, nlb *rotation.TargetResult
	for i := range res.Targets {
		switch res.Targets[i].Product {
		case "alb":
			alb = &res.Targets[i]
		case "nlb":
			nlb = &res.Targets[i]
		}
	}
	if alb == nil || !alb.RolledBack || alb.State != rotation.StateRolledBack || nlb == nil || nlb.State != rotation.StateServing {
		t.Fatalf("targets %+v", res.Targets)
	}
	if def, _ := lc.albCerts(t); def != lc.member("alb").CertID {
		t.Fatalf("ALB default %s after the rollback, want the previous %s", def, lc.member("alb").CertID)
	}
}

// TestECDSAWhereValid: an ECDSA pair reaches the ALB and NLB listeners
// (served, verified by handshake) and leaves the CLB listener and its
// extension on their RSA certificates, each reported not-switched with the
// reason; the drop is partial, never silently rotated, and nothing is
// uploaded to SLB.
func TestECDSAWhereValid(t *testing.T) {
	lc := newLBCloud(t)
	p := testCA.Issue(t, certstest.Options{Domains: lbDomains, KeyType: certstest.ECDSA})
	for k, v := range map[string][]byte{"certs/www/fullchain.pem": p.CertPEM, "certs/www/privkey.pem": p.KeyPEM} {
		if err := lc.c.OSS.PutObject(bucket, k, v); err != nil {
			t.Fatal(err)
		}
	}
	res, err := lc.h.Handle(lc.ctx, event("ObjectCreated:PutObject", bucket, "certs/www/fullchain.pem"))
	if err != nil || res.Status != rotation.StatusPartial {
		t.Fatalf("status %s err %v reason %q targets %+v", res.Status, err, res.Reason, res.Targets)
	}
	clbRefused := 0
	for _, tr := range res.Targets {
		switch tr.Product {
		case "":
			if tr.State != rotation.StateNotSwitched {
				t.Fatalf("CLB target %+v: want not-switched", tr)
			}
			clbRefused++
		default:
			if tr.State != rotation.StateServing || tr.Verified != rotation.VerifiedTLS {
				t.Fatalf("%s target %+v: want served, verified by handshake", tr.Product, tr)
			}
		}
	}
	if clbRefused != 2 || len(res.Targets) != 5 {
		t.Fatalf("%d CLB targets refused of %d targets: %+v", clbRefused, len(res.Targets), res.Targets)
	}
	if !strings.Contains(strings.Join(res.Errors, "\n"), "serves RSA certificates only") {
		t.Fatalf("errors %v do not say why the CLB targets were left", res.Errors)
	}
	for _, r := range lc.c.RequestLog().SLB {
		if r.Action == "UploadServerCertificate" {
			t.Fatal("an ECDSA pair was uploaded to SLB")
		}
	}
}
