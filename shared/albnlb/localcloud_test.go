package albnlb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/localcloudtest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/albnlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation/rotationtest"
)

// pollInterval is the adapters' job poll interval in these tests.
const pollInterval = 10 * time.Millisecond

type cloud struct {
	c      *emulator.Cloud
	region string
	alb    *aliyun.ALB
	nlb    *aliyun.NLB
	cas    *aliyun.CAS
	fleet  []emulator.FleetMember
	prober rotation.Prober
}

func startCloud(t *testing.T, configuring time.Duration) *cloud {
	t.Helper()
	env := localcloudtest.Start(t, localcloudtest.Options{Cloud: emulator.Options{LBConfiguring: configuring}, Timeout: 5 * time.Second, PollInterval: pollInterval})
	fleet, err := env.Cloud.SeedLBFleet(env.Region, 1)
	if err != nil {
		t.Fatal(err)
	}
	return &cloud{c: env.Cloud, region: env.Region, fleet: fleet, alb: env.ALB(), nlb: env.NLB(), cas: env.CAS(),
		prober: localcloudtest.Prober(env.Cloud.DNSAddr())}
}

// rotate drops a pair for domains and rotates it through port.
func (cl *cloud) rotate(t *testing.T, prod rotation.Product, domains ...string) (rotation.Result, certstest.Pair) {
	t.Helper()
	pair := certstest.SelfSigned(t, certstest.Options{Domains: domains, NotBefore: time.Now().Add(-time.Hour)})
	objs := &rotationtest.Objects{}
	objs.Put("b", "certs/www/fullchain.pem", pair.CertPEM)
	objs.Put("b", "certs/www/privkey.pem", pair.KeyPEM)
	r := &rotation.Rotator{Config: rotation.Config{Bucket: "b", Regions: []string{cl.region}, MinValidDays: 7, Keep: 0, ProbeTimeout: 3 * time.Second},
		Objects: objs, Products: []rotation.Product{prod}, Prober: cl.prober}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := r.RotateName(ctx, time.Now(), "b", "www")
	if err != nil {
		t.Fatalf("rotate: %v (%+v)", err, res)
	}
	return res, pair
}

func fp(t *testing.T, p certstest.Pair) string {
	t.Helper()
	return certs.FingerprintSHA1(p.Leaf.Raw)
}

func (cl *cloud) served(t *testing.T, m emulator.FleetMember, sni string) string {
	t.Helper()
	r := cl.prober.Probe(context.Background(), m.DNSName, 443, sni, 3*time.Second)
	if !r.Reachable {
		t.Fatalf("probe %s (%s): %s", m.DNSName, sni, r.Err)
	}
	return certs.NormalizeFingerprint(r.FingerprintSHA1)
}

// TestALBDefaultAndSNIRotated: one drop covering the ALB listener's default
// and additional certificates' domains replaces both (one CAS upload; the
// new default answers the superseded SNI certificate's domain,
// "<CertId>-<casRegion>" identities), verified by handshake through the
// instance's DNS name; an unrelated additional certificate stays bound;
// the fleet's certificates (not ours) are not deleted by cleanup.
func TestALBDefaultAndSNIRotated(t *testing.T) {
	cl := startCloud(t, 200*time.Millisecond)
	m := localcloudtest.Member(t, cl.fleet, "alb")
	// An unrelated SNI certificate on the same listener.
	other := certstest.SelfSigned(t, certstest.Options{Domains: []string{"other.example.org"}, NotBefore: time.Now().Add(-time.Hour)})
	otherID, err := cl.c.CAS.Seed(cl.region, "users-own", string(other.CertPEM), string(other.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.c.ALB.SeedAdditionalCertificates(cl.region, m.ListenerID, otherID); err != nil {
		t.Fatal(err)
	}
	_, before := localcloudtest.ListenerCerts(t, cl.alb, cl.region, m.ListenerID)

	res, pair := cl.rotate(t, rotation.Product{Name: "alb", Port: albnlb.New("alb", cl.alb, cl.cas)}, "alb-1.fleet.example.com", "shop-1.fleet.example.com")
	if res.Status != outcome.Rotated || len(res.Targets) != 2 {
		t.Fatalf("result %s, %d targets: %+v %v", res.Status, len(res.Targets), res.Targets, res.Errors)
	}
	for _, tr := range res.Targets {
		if tr.Verified != rotation.VerifiedTLS {
			t.Fatalf("target %+v not verified by handshake", tr)
		}
	}
	newID := res.Regions["alb/"+cl.region].ServerCertificateID
	if _, _, err := aliyun.ParseCASIdentity(newID); err != nil {
		t.Fatalf("certificate reference %q: %v", newID, err)
	}
	def, extra := localcloudtest.ListenerCerts(t, cl.alb, cl.region, m.ListenerID)
	if def != newID {
		t.Fatalf("default %s, want %s", def, newID)
	}
	want := fp(t, pair)
	for _, sni := range []string{"alb-1.fleet.example.com", "shop-1.fleet.example.com"} {
		if got := cl.served(t, m, sni); got != want {
			t.Fatalf("%s serves %s, want %s", sni, got, want)
		}
	}
	// The new default covers shop-1: the superseded shop certificate is
	// dissociated (the default answers it, verified above by handshake);
	// the unrelated one stays.
	if len(before) != 2 || len(extra) != 1 || extra[0] != otherID {
		t.Fatalf("additional certificates %v (before %v): want only the unrelated %s", extra, before, otherID)
	}
	if got := cl.served(t, m, "other.example.org"); got != fp(t, other) {
		t.Fatalf("the unrelated SNI certificate is no longer served: %s", got)
	}
	// Cleanup left the fleet's certificates (not ours) in CAS.
	all, err := cl.cas.ListCertificates(context.Background(), cl.region)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 0 || !hasIdentity(all, m.CertID) || !hasIdentity(all, otherID) {
		t.Fatalf("cleanup deleted %+v; CAS now %d certificates", res.Deleted, len(all))
	}
	ours := 0
	for _, c := range all {
		if c.Fingerprint == want {
			ours++
		}
	}
	if ours != 1 {
		t.Fatalf("%d CAS certificates with the pair's fingerprint, want 1", ours)
	}
}

// TestSNIOnlyLeavesDefault: a pair covering only the SNI certificate's
// domain replaces it and never the default certificate.
func TestSNIOnlyLeavesDefault(t *testing.T) {
	cl := startCloud(t, 50*time.Millisecond)
	m := localcloudtest.Member(t, cl.fleet, "alb")
	defBefore, _ := localcloudtest.ListenerCerts(t, cl.alb, cl.region, m.ListenerID)
	res, pair := cl.rotate(t, rotation.Product{Name: "alb", Port: albnlb.New("alb", cl.alb, cl.cas)}, "shop-1.fleet.example.com")
	if res.Status != outcome.Rotated || len(res.Targets) != 1 || res.Targets[0].Domain == "" {
		t.Fatalf("result %s: %+v %v", res.Status, res.Targets, res.Errors)
	}
	def, extra := localcloudtest.ListenerCerts(t, cl.alb, cl.region, m.ListenerID)
	if def != defBefore || !contains(extra, res.Regions["alb/"+cl.region].ServerCertificateID) || len(extra) != 1 {
		t.Fatalf("default %s (was %s), additional %v", def, defBefore, extra)
	}
	if got := cl.served(t, m, "shop-1.fleet.example.com"); got != fp(t, pair) {
		t.Fatalf("shop serves %s", got)
	}
}

// TestNLBDefaultRotated: the NLB TCPSSL listener's default certificate is
// replaced and served through the instance's DNS name.
func TestNLBDefaultRotated(t *testing.T) {
	cl := startCloud(t, 200*time.Millisecond)
	m := localcloudtest.Member(t, cl.fleet, "nlb")
	res, pair := cl.rotate(t, rotation.Product{Name: "nlb", Port: albnlb.New("nlb", cl.nlb, cl.cas)}, "nlb-1.fleet.example.com")
	if res.Status != outcome.Rotated || len(res.Targets) != 1 || res.Targets[0].Verified != rotation.VerifiedTLS {
		t.Fatalf("result %s: %+v %v", res.Status, res.Targets, res.Errors)
	}
	if got := cl.served(t, m, "nlb-1.fleet.example.com"); got != fp(t, pair) {
		t.Fatalf("nlb serves %s", got)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func hasIdentity(cs []aliyun.CASCertificate, id string) bool {
	for _, c := range cs {
		if strings.EqualFold(c.Identity, id) {
			return true
		}
	}
	return false
}

// calls counts the cloud's ALB, NLB and CAS requests by action since the
// log was last read (reset).
func (cl *cloud) calls(since int) (map[string]int, int) {
	log := cl.c.RequestLog()
	out := map[string]int{}
	n := 0
	for _, svc := range []struct {
		name string
		recs []rpc.Record
	}{{"alb", log.ALB}, {"nlb", log.NLB}, {"cas", log.CAS}} {
		for _, r := range svc.recs {
			if n >= since {
				out[svc.name+":"+r.Action]++
			}
			n++
		}
	}
	return out, n
}

// TestCallsPerRotationPinned pins the API calls of one rotation of one
// ALB listener's default certificate and of one NLB listener's (discovery
// in one region, a new pair): every call but the job reads exactly, the
// job reads (one per PollInterval while the job runs) to at most
// Configuring / PollInterval + 2. A change that adds a round fails here.
// Discovery reads each listener once (inventory.ListenerReader): ALB's
// ListListenerCertificates went from 4 to 3 when the read of a listener's
// default and of its SNI certificates became one.
func TestCallsPerRotationPinned(t *testing.T) {
	for _, tc := range []struct {
		product, domain, jobRead string
		want                     map[string]int
	}{
		{"alb", "alb-1.fleet.example.com", "alb:ListAsynJobs", map[string]int{
			"cas:ListUserCertificateOrder": 3, "cas:UploadUserCertificate": 1,
			"alb:ListLoadBalancers": 1, "alb:ListListeners": 2, "alb:ListListenerCertificates": 3,
			"alb:GetListenerAttribute": 1, "alb:UpdateListenerAttribute": 1}},
		{"nlb", "nlb-1.fleet.example.com", "nlb:GetJobStatus", map[string]int{
			"cas:ListUserCertificateOrder": 3, "cas:UploadUserCertificate": 1,
			"nlb:ListLoadBalancers": 1, "nlb:ListListeners": 2, "nlb:ListListenerCertificates": 2,
			"nlb:GetListenerAttribute": 1, "nlb:UpdateListenerAttribute": 1}},
	} {
		t.Run(tc.product, func(t *testing.T) {
			const configuring = 200 * time.Millisecond
			cl := startCloud(t, configuring)
			_, before := cl.calls(0)
			var port *albnlb.Port
			if tc.product == "alb" {
				port = albnlb.New("alb", cl.alb, cl.cas)
			} else {
				port = albnlb.New("nlb", cl.nlb, cl.cas)
			}
			res, _ := cl.rotate(t, rotation.Product{Name: tc.product, Port: port}, tc.domain)
			if res.Status != outcome.Rotated {
				t.Fatalf("status %s", res.Status)
			}
			got, _ := cl.calls(before)
			jobReads := got[tc.jobRead]
			delete(got, tc.jobRead)
			t.Logf("%s rotation: %v, %d job reads", tc.product, got, jobReads)
			if len(got) != len(tc.want) {
				t.Errorf("actions %v, pinned %v", got, tc.want)
			}
			for action, n := range got {
				if n != tc.want[action] {
					t.Errorf("%s: %d calls, pinned at %d", action, n, tc.want[action])
				}
			}
			if limit := int(configuring/pollInterval) + 2; jobReads < 1 || jobReads > limit {
				t.Errorf("%d job reads, want 1..%d", jobReads, limit)
			}
		})
	}
}
