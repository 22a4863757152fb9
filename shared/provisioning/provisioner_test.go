package provisioning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb/clbtest"
)

type env struct {
	slb   *clbtest.SLB
	pairs *fakePairs
	p     *Provisioner
	now   time.Time
	leafs map[string]certstest.Pair
}

func newEnv(t *testing.T, names ...string) *env {
	t.Helper()
	if len(names) == 0 {
		names = []string{"example.com"}
	}
	e := &env{slb: newFake(), pairs: &fakePairs{pairs: map[string]Pair{}}, now: time.Now(), leafs: map[string]certstest.Pair{}}
	for _, n := range names {
		cp := certstest.SelfSigned(t, certstest.Options{Domains: []string{n}})
		e.leafs[n] = cp
		e.pairs.pairs[n] = Pair{Name: n, CertPEM: string(cp.CertPEM), KeyPEM: string(cp.KeyPEM)}
	}
	e.p = &Provisioner{Instances: e.slb, Backends: e.slb, Listeners: e.slb, Extensions: e.slb, Certificates: e.slb,
		Pairs: e.pairs, PollInterval: time.Millisecond, WaitTimeout: 5 * time.Second}
	return e
}

func seed(t *testing.T) Desired {
	t.Helper()
	d, err := Parse(readFixture(t, "seed.json"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *env) apply(t *testing.T, d Desired) Result {
	t.Helper()
	res, err := e.p.Apply(context.Background(), e.now, d)
	if err != nil {
		t.Fatalf("apply: %v (result %+v)", err, res)
	}
	return res
}

func ops(cs []Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Op + " " + strings.Fields(c.Resource)[0]
	}
	return out
}

func TestApplySeedCreatesEverything(t *testing.T) {
	e := newEnv(t)
	res := e.apply(t, seed(t))
	if res.Status != StatusApplied || res.LoadBalancerID == "" || res.Address == "" {
		t.Fatalf("result = %+v", res)
	}
	wantOps := []string{"create load", "create backend", "create backend", "upload certificate", "create listener", "start listener"}
	if got := ops(res.Changes); !reflect.DeepEqual(got, wantOps) {
		t.Errorf("changes = %v, want %v", got, wantOps)
	}
	lb, backends, err := e.slb.DescribeLoadBalancer(context.Background(), "cn-zhangjiakou", res.LoadBalancerID)
	if err != nil {
		t.Fatal(err)
	}
	if lb.Spec != "slb.s1.small" || lb.PayType != "PayOnDemand" || lb.MasterZone != "cn-zhangjiakou-a" || lb.SlaveZone != "cn-zhangjiakou-b" || lb.Tags[clb.OwnerTagKey] != clb.OwnerTagValue {
		t.Errorf("instance = %+v", lb)
	}
	if len(backends) != 2 || backends[0].Weight != 100 || backends[1].Weight != 100 {
		t.Errorf("backends = %+v", backends)
	}
	l, _, err := e.slb.DescribeHTTPSListener(context.Background(), "cn-zhangjiakou", res.LoadBalancerID, 80)
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != "running" || l.BackendPort != 443 || l.Bandwidth != 6 || l.HealthCheck != "off" || l.StickySession != "off" {
		t.Errorf("listener = %+v", l)
	}
	certsNow, _ := e.slb.ListServerCertificates(context.Background(), "cn-zhangjiakou")
	if len(certsNow) != 1 || !certsNow[0].Ours() || certsNow[0].ID != l.ServerCertificateID {
		t.Fatalf("certificates = %+v, listener on %s", certsNow, l.ServerCertificateID)
	}
	if certsNow[0].Fingerprint != e.leafs["example.com"].FingerprintSHA1 {
		t.Errorf("uploaded fingerprint %s, want %s", certsNow[0].Fingerprint, e.leafs["example.com"].FingerprintSHA1)
	}
	if !strings.HasPrefix(certsNow[0].Name, "example.com-") {
		t.Errorf("certificate name %q", certsNow[0].Name)
	}
	if len(res.Listeners) != 1 || res.Listeners[0].Status != "running" || res.Listeners[0].CertificateID != l.ServerCertificateID {
		t.Errorf("listener states = %+v", res.Listeners)
	}
	if len(res.Certificates) != 1 || res.Certificates[0].Reused || res.Certificates[0].ID != l.ServerCertificateID {
		t.Errorf("certificate refs = %+v", res.Certificates)
	}
	b, _ := json.Marshal(res)
	if strings.Contains(string(b), "PRIVATE KEY") {
		t.Errorf("result leaks key material: %s", b)
	}
}

func TestSecondApplyMakesNoWrite(t *testing.T) {
	e := newEnv(t)
	first := e.apply(t, seed(t))
	e.slb.ResetCalls()
	res := e.apply(t, seed(t))
	if w := e.slb.Writes(); len(w) != 0 {
		t.Fatalf("second apply wrote %v", w)
	}
	if res.Status != StatusUnchanged || len(res.Changes) != 0 {
		t.Errorf("result = %+v", res)
	}
	if res.LoadBalancerID != first.LoadBalancerID || res.Listeners[0].Status != "running" || !res.Certificates[0].Reused {
		t.Errorf("second result = %+v", res)
	}
}

func TestApplyCorrectsDrift(t *testing.T) {
	tests := []struct {
		name   string
		drift  func(f *clbtest.SLB, lbID string)
		change string
		check  func(t *testing.T, f *clbtest.SLB, lbID string)
	}{
		{"backend weight", func(f *clbtest.SLB, id string) {
			f.AddBackend(id, clb.Backend{ServerID: "i-8vb0seed000000000002", Weight: 30, Type: "ecs"})
		}, "update backend i-8vb0seed000000000002 (weight 30 -> 100)", func(t *testing.T, f *clbtest.SLB, id string) {
			if w := backendOf(f, id, "i-8vb0seed000000000002").Weight; w != 100 {
				t.Errorf("weight = %d", w)
			}
		}},
		{"extra backend", func(f *clbtest.SLB, id string) {
			f.AddBackend(id, clb.Backend{ServerID: "i-8vb0extra", Weight: 100})
		}, "delete backends i-8vb0extra (not in the payload)", func(t *testing.T, f *clbtest.SLB, id string) {
			if bs := f.Backends(id); len(bs) != 2 {
				t.Errorf("backends = %v", bs)
			}
		}},
		{"listener bandwidth and health check", func(f *clbtest.SLB, id string) {
			edit(t, f, id, 80, func(l *clb.Listener) { l.Bandwidth, l.HealthCheck = 50, "on" })
		}, "update listener 80 (bandwidth 50 -> 6, health check on -> off)", func(t *testing.T, f *clbtest.SLB, id string) {
			if l, _ := f.Listener(id, 80); l.Bandwidth != 6 || l.HealthCheck != "off" {
				t.Errorf("listener = %+v", l)
			}
		}},
		{"stopped listener", func(f *clbtest.SLB, id string) {
			edit(t, f, id, 80, func(l *clb.Listener) { l.Status = "stopped" })
		}, "start listener 80", func(t *testing.T, f *clbtest.SLB, id string) {
			if l, _ := f.Listener(id, 80); l.Status != "running" {
				t.Errorf("status = %s", l.Status)
			}
		}},
		{"backend port", func(f *clbtest.SLB, id string) {
			edit(t, f, id, 80, func(l *clb.Listener) { l.BackendPort = 8443 })
		}, "delete listener 80 (backend port 8443 -> 443 needs a new listener)", func(t *testing.T, f *clbtest.SLB, id string) {
			if l, _ := f.Listener(id, 80); l.BackendPort != 443 || l.Status != "running" {
				t.Errorf("listener = %+v", l)
			}
		}},
		{"extra listener", func(f *clbtest.SLB, id string) {
			f.AddListener(clb.Listener{Region: "cn-zhangjiakou", LoadBalancerID: id, Port: 8443, Status: "running"})
		}, "delete listener 8443 (not in the payload)", func(t *testing.T, f *clbtest.SLB, id string) {
			if _, ok := f.Listener(id, 8443); ok {
				t.Error("listener 8443 still there")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			first := e.apply(t, seed(t))
			tt.drift(e.slb, first.LoadBalancerID)
			res := e.apply(t, seed(t))
			if res.Status != StatusApplied {
				t.Fatalf("status %s", res.Status)
			}
			found := false
			for _, c := range res.Changes {
				if c.String() == tt.change {
					found = true
				}
			}
			if !found {
				t.Errorf("changes = %v, want %q among them", res.Changes, tt.change)
			}
			tt.check(t, e.slb, first.LoadBalancerID)
			e.slb.ResetCalls()
			if again := e.apply(t, seed(t)); again.Status != StatusUnchanged || len(e.slb.Writes()) != 0 {
				t.Errorf("apply after correction: %s, writes %v", again.Status, e.slb.Writes())
			}
		})
	}
}

func TestFailureRollsBackWhatThisCallCreated(t *testing.T) {
	tests := []faultCase{
		{"quota (permanent)", fmt.Errorf("fake: too many listeners: %w", apierr.ErrQuota), StatusRejected, false},
		{"server error (transient)", fmt.Errorf("fake: 503: %w", apierr.ErrTransient), StatusFailed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.slb.FailOn("CreateLoadBalancerHTTPSListener", tt.err)
			res, err := e.p.Apply(context.Background(), e.now, seed(t))
			if (err != nil) != tt.wantErr || res.Status != tt.wantStatus {
				t.Fatalf("status %s err %v", res.Status, err)
			}
			if lbs, cs := e.slb.LoadBalancers("cn-zhangjiakou"), e.slb.Certificates("cn-zhangjiakou"); len(lbs) != 0 || len(cs) != 0 {
				t.Errorf("left behind: %d instances, %d certificates", len(lbs), len(cs))
			}
			// Reverse order: certificate first, then the instance.
			got := ops(res.RolledBack)
			if want := []string{"delete certificate", "delete load"}; !reflect.DeepEqual(got, want) {
				t.Errorf("rolled back %v, want %v", got, want)
			}
			if !strings.Contains(res.Error, "create HTTPS listener") {
				t.Errorf("error = %q", res.Error)
			}
		})
	}
}

func TestRollbackKeepsWhatExistedBefore(t *testing.T) {
	e := newEnv(t, "example.com", "api")
	first := e.apply(t, seed(t))
	d := seed(t)
	d.Backends = append(d.Backends, BackendSpec{ServerID: "i-8vb0new", Type: "ecs"})
	d.Listeners[0].DomainExtensions = []DomainExtensionSpec{{Domain: "api.example.com", Certificate: "api"}}
	e.slb.FailOn("CreateDomainExtension", fmt.Errorf("fake: %w", apierr.ErrQuota))
	res, err := e.p.Apply(context.Background(), e.now, d)
	if err != nil || res.Status != StatusRejected {
		t.Fatalf("status %s err %v", res.Status, err)
	}
	if _, ok := e.slb.LoadBalancer(first.LoadBalancerID); !ok {
		t.Fatal("the existing instance was deleted")
	}
	if backendOf(e.slb, first.LoadBalancerID, "i-8vb0new").ServerID != "" {
		t.Error("backend added by the failed call is still attached")
	}
	if bs := e.slb.Backends(first.LoadBalancerID); len(bs) != 2 {
		t.Errorf("backends = %v", bs)
	}
	if cs := e.slb.Certificates("cn-zhangjiakou"); len(cs) != 1 {
		t.Errorf("certificates = %v (the api certificate should be rolled back, example.com kept)", cs)
	}
	if want := []string{"delete certificate", "delete backends"}; !reflect.DeepEqual(ops(res.RolledBack), want) {
		t.Errorf("rolled back %v, want %v", ops(res.RolledBack), want)
	}
}

func TestClientToken(t *testing.T) {
	d := seed(t)
	tok := ClientToken(d.Region, d.InstanceSpec(), 0)
	if len(tok) != 64 {
		t.Errorf("token length %d", len(tok))
	}
	// The token of a payload never changes across versions: a retried
	// invocation after an upgrade must find the instance the first created.
	if want := "scr-20873ac0715dad077c33942f8ff381147224de0b3bf5a1d28f86e20a85b5"; tok != want {
		t.Errorf("token of the seed payload = %s, want %s (as every earlier version made it)", tok, want)
	}
	if ClientToken(d.Region, d.InstanceSpec(), 0) != tok {
		t.Error("token not deterministic")
	}
	other := d.InstanceSpec()
	other.Spec = "slb.s2.small"
	if ClientToken(d.Region, other, 0) == tok || ClientToken(d.Region, d.InstanceSpec(), 1) == tok {
		t.Error("token does not depend on the spec or attempt")
	}

	t.Run("retried create gives one instance", func(t *testing.T) {
		e := newEnv(t)
		// The first invocation dies after creating the instance but
		// before it could record it anywhere (timeout on the reply).
		lb1, err := e.slb.CreateLoadBalancer(context.Background(), d.Region, d.InstanceSpec(), tok)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.p.Apply(context.Background(), e.now, d)
		if err != nil {
			t.Fatal(err)
		}
		if lbs := e.slb.LoadBalancers(d.Region); len(lbs) != 1 || res.LoadBalancerID != lb1.ID {
			t.Errorf("instances %d, result id %s, first id %s", len(lbs), res.LoadBalancerID, lb1.ID)
		}
	})
	t.Run("retry after rollback creates a fresh instance", func(t *testing.T) {
		e := newEnv(t)
		e.slb.FailOn("CreateLoadBalancerHTTPSListener", fmt.Errorf("fake: 503: %w", apierr.ErrTransient))
		if _, err := e.p.Apply(context.Background(), e.now, d); err == nil {
			t.Fatal("want transient error")
		}
		e.slb.FailOn("CreateLoadBalancerHTTPSListener", nil)
		res := e.apply(t, d)
		if lbs := e.slb.LoadBalancers(d.Region); res.Status != StatusApplied || len(lbs) != 1 {
			t.Fatalf("status %s, instances %d", res.Status, len(lbs))
		}
		if _, ok := e.slb.LoadBalancer(res.LoadBalancerID); !ok {
			t.Errorf("result names a deleted instance %s", res.LoadBalancerID)
		}
	})
}

func TestPlan(t *testing.T) {
	e := newEnv(t)
	res, err := e.p.Plan(context.Background(), e.now, seed(t))
	if err != nil {
		t.Fatal(err)
	}
	if w := e.slb.Writes(); len(w) != 0 {
		t.Fatalf("plan wrote %v", w)
	}
	want := []string{
		"create load balancer SLB1 (slb.s1.small, PayOnDemand, cn-zhangjiakou-a/cn-zhangjiakou-b, internet)",
		"create backend i-8vb0seed000000000001 (weight 100)",
		"create backend i-8vb0seed000000000002 (weight 100)",
	}
	if res.Status != StatusPlanned || len(res.Changes) != 6 {
		t.Fatalf("plan = %+v", res)
	}
	for i, w := range want {
		if res.Changes[i].String() != w {
			t.Errorf("change %d = %q, want %q", i, res.Changes[i], w)
		}
	}
	if got := ops(res.Changes[3:]); !reflect.DeepEqual(got, []string{"upload certificate", "create listener", "start listener"}) {
		t.Errorf("changes = %v", got)
	}

	applied := e.apply(t, seed(t))
	if !reflect.DeepEqual(ops(applied.Changes), ops(res.Changes)) {
		t.Errorf("apply did %v, plan said %v", ops(applied.Changes), ops(res.Changes))
	}
	e.slb.ResetCalls()
	d := seed(t)
	w := 50
	d.Backends[0].Weight = &w
	res, err = e.p.Plan(context.Background(), e.now, d)
	if err != nil || res.Status != StatusPlanned || len(res.Changes) != 1 || res.Changes[0].String() != "update backend i-8vb0seed000000000001 (weight 100 -> 50)" {
		t.Errorf("plan after apply = %+v, %v", res, err)
	}
	if len(e.slb.Writes()) != 0 {
		t.Errorf("plan wrote %v", e.slb.Writes())
	}
	if res, _ := e.p.Plan(context.Background(), e.now, seed(t)); res.Status != StatusUnchanged {
		t.Errorf("plan of the applied state = %s", res.Status)
	}
}

func TestDomainExtensionsConverge(t *testing.T) {
	e := newEnv(t, "example.com", "api", "api2")
	d := seed(t)
	d.Listeners[0].DomainExtensions = []DomainExtensionSpec{{Domain: "api.example.com", Certificate: "api"}}
	res := e.apply(t, d)
	lbID := res.LoadBalancerID
	_, exts, _ := e.slb.DescribeHTTPSListener(context.Background(), d.Region, lbID, 80)
	if len(exts) != 1 || exts[0].Domain != "api.example.com" {
		t.Fatalf("extensions = %+v", exts)
	}
	d.Listeners[0].DomainExtensions[0].Certificate = "api2"
	res = e.apply(t, d)
	_, exts, _ = e.slb.DescribeHTTPSListener(context.Background(), d.Region, lbID, 80)
	var api2 string
	for _, c := range res.Certificates {
		if c.Pair == "api2" {
			api2 = c.ID
		}
	}
	if len(exts) != 1 || exts[0].ServerCertificateID != api2 {
		t.Errorf("extension = %+v, want certificate %s", exts, api2)
	}
	d.Listeners[0].DomainExtensions = nil
	res = e.apply(t, d)
	_, exts, _ = e.slb.DescribeHTTPSListener(context.Background(), d.Region, lbID, 80)
	if len(exts) != 0 || ops(res.Changes)[0] != "delete domain" {
		t.Errorf("extensions = %+v, changes %v", exts, res.Changes)
	}
}

func TestApplyRejects(t *testing.T) {
	t.Run("untagged instance with the same name", func(t *testing.T) {
		e := newEnv(t)
		spec := seed(t).InstanceSpec()
		spec.Tags = nil
		if _, err := e.slb.CreateLoadBalancer(context.Background(), "cn-zhangjiakou", spec, "manual"); err != nil {
			t.Fatal(err)
		}
		e.slb.ResetCalls()
		res, err := e.p.Apply(context.Background(), e.now, seed(t))
		if err != nil || res.Status != StatusRejected || !strings.Contains(res.Error, "not created by slb-cert-rotator") {
			t.Errorf("result %+v err %v", res, err)
		}
		if len(e.slb.Writes()) != 0 {
			t.Errorf("writes %v", e.slb.Writes())
		}
	})
	t.Run("bad pair stops before any write", func(t *testing.T) {
		e := newEnv(t)
		e.pairs.err = fmt.Errorf("certs: privkey.pem does not match fullchain.pem: %w", apierr.ErrInvalid)
		res, err := e.p.Apply(context.Background(), e.now, seed(t))
		if err != nil || res.Status != StatusRejected || !strings.Contains(res.Error, "certificate pair example.com") {
			t.Errorf("result %+v err %v", res, err)
		}
		if len(e.slb.Writes()) != 0 {
			t.Errorf("writes %v", e.slb.Writes())
		}
	})
	t.Run("listener never runs", func(t *testing.T) {
		e := newEnv(t)
		e.slb.StartPolls = 1 << 30
		e.p.WaitTimeout = 20 * time.Millisecond
		res, err := e.p.Apply(context.Background(), e.now, seed(t))
		if lbs := e.slb.LoadBalancers("cn-zhangjiakou"); !errors.Is(err, apierr.ErrTransient) || res.Status != StatusFailed || len(lbs) != 0 {
			t.Errorf("status %s err %v instances %d", res.Status, err, len(lbs))
		}
	})
}

func TestDestroy(t *testing.T) {
	e := newEnv(t)
	d1 := seed(t)
	r1 := e.apply(t, d1)
	d2 := seed(t)
	d2.LoadBalancer.Name = "SLB2"
	r2 := e.apply(t, d2)
	if r2.Certificates[0].ID != r1.Certificates[0].ID || !r2.Certificates[0].Reused {
		t.Fatalf("second instance did not reuse the certificate: %+v", r2.Certificates)
	}
	// A certificate someone else uploaded, used on SLB1 as an SNI extension.
	foreign, err := e.slb.UploadServerCertificate(context.Background(), "cn-zhangjiakou", "theirs", e.pairs.pairs["example.com"].CertPEM, e.pairs.pairs["example.com"].KeyPEM, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.slb.CreateDomainExtension(context.Background(), "cn-zhangjiakou", r1.LoadBalancerID, 80, "x.example.com", foreign.ID); err != nil {
		t.Fatal(err)
	}

	res, err := e.p.Destroy(context.Background(), e.now, d1)
	if err != nil || res.Status != StatusDestroyed {
		t.Fatalf("destroy SLB1: %+v %v", res, err)
	}
	if _, ok := e.slb.LoadBalancer(r1.LoadBalancerID); ok {
		t.Error("SLB1 still exists")
	}
	if got := ops(res.Changes); !reflect.DeepEqual(got, []string{"delete listener", "delete load"}) {
		t.Errorf("changes = %v", got)
	}
	if len(res.Kept) != 2 || !strings.Contains(res.Kept[0].Reason+res.Kept[1].Reason, "still used by cn-zhangjiakou/"+r2.LoadBalancerID+":80") ||
		!strings.Contains(res.Kept[0].Reason+res.Kept[1].Reason, "not created by slb-cert-rotator") {
		t.Errorf("kept = %+v", res.Kept)
	}

	res, err = e.p.Destroy(context.Background(), e.now, d2)
	if err != nil || res.Status != StatusDestroyed {
		t.Fatalf("destroy SLB2: %+v %v", res, err)
	}
	if got := ops(res.Changes); !reflect.DeepEqual(got, []string{"delete listener", "delete load", "delete certificate"}) {
		t.Errorf("changes = %v", got)
	}
	if _, ok := e.slb.Certificate(r1.Certificates[0].ID); ok {
		t.Error("our certificate survived the last destroy")
	}
	if _, ok := e.slb.Certificate(foreign.ID); !ok {
		t.Error("a foreign certificate was deleted")
	}

	res, err = e.p.Destroy(context.Background(), e.now, d2)
	if err != nil || res.Status != StatusAbsent || len(res.Changes) != 0 {
		t.Errorf("destroy again: %+v %v", res, err)
	}
}

func TestPairRedacted(t *testing.T) {
	p := Pair{Name: "x", CertPEM: "cert", KeyPEM: "-----BEGIN RSA PRIVATE KEY-----secret"}
	b, _ := json.Marshal(p)
	for _, s := range []string{p.String(), string(b), p.LogValue().String(), fmt.Sprintf("%v %+v %#v %s", p, p, p, p)} {
		if strings.Contains(s, "secret") {
			t.Errorf("key leaked: %s", s)
		}
	}
}

func TestImmutableDifferencesAreWarnedNotChanged(t *testing.T) {
	e := newEnv(t)
	first := e.apply(t, seed(t))
	d := seed(t)
	d.LoadBalancer.Spec = "slb.s2.small"
	d.LoadBalancer.SlaveZoneID = "cn-zhangjiakou-c"
	e.slb.ResetCalls()
	res := e.apply(t, d)
	if res.Status != StatusUnchanged || len(e.slb.Writes()) != 0 {
		t.Fatalf("status %s, writes %v", res.Status, e.slb.Writes())
	}
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "loadBalancer.spec is slb.s1.small on "+first.LoadBalancerID+", payload says slb.s2.small") ||
		!strings.Contains(res.Warnings[1], "loadBalancer.slaveZoneId") {
		t.Errorf("warnings = %v", res.Warnings)
	}
}

// backendOf returns a load balancer's backend server by id (zero if absent).
func backendOf(f *clbtest.SLB, lbID, serverID string) clb.Backend {
	for _, b := range f.Backends(lbID) {
		if b.ServerID == serverID {
			return b
		}
	}
	return clb.Backend{}
}

// edit changes a listener behind the provisioner's back (drift).
func edit(t *testing.T, f *clbtest.SLB, lbID string, port int, change func(*clb.Listener)) {
	t.Helper()
	if !f.EditListener(lbID, port, change) {
		t.Fatalf("no listener %s:%d to drift", lbID, port)
	}
}
