package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	ossemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
	slbemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/provisioning"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

const (
	region = "cn-zhangjiakou"
	bucket = "certs-local"
)

// cloud is the local cloud for one test (emulator.Start: the SLB and OSS
// emulators behind loopback HTTP), wired to the real adapters through
// the composition root (app.Root.Provisioner) with the local STS credentials.
type cloud struct {
	lc   *emulator.Cloud
	slb  *slbemu.Server
	oss  *ossemu.Server
	svc  *provisioning.Provisioner
	h    *Handler
	logs *bytes.Buffer
	pair certstest.Pair
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	lc, err := emulator.Start(emulator.Options{Seed: 1, Bucket: bucket, BucketRegion: region})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lc.Close() })
	c := &cloud{lc: lc, slb: lc.SLB, oss: lc.OSS, logs: &bytes.Buffer{}}
	c.pair = c.putPair(t, "example.com", []string{"www.example.com", "*.example.com"})

	cfg := config.Config{CertBucket: bucket, CertPrefix: "certs/", MinValidDays: 7, SLBEndpoint: lc.SLBEndpoint(),
		OSSEndpoint: lc.OSSEndpoint(), OSSRegion: region, OSSSignature: "v4"}
	ak, secret, token := lc.STSCredentials()
	env := map[string]string{aliyun.EnvAccessKeyID: ak, aliyun.EnvAccessKeySecret: secret, aliyun.EnvSecurityToken: token}
	svc, err := app.New(cfg, func(k string) string { return env[k] }).Provisioner(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	svc.PollInterval = 10 * time.Millisecond
	svc.WaitTimeout = 10 * time.Second
	c.svc = svc
	c.h = &Handler{NewProvisioner: func(context.Context) (Provisioner, error) { return svc, nil },
		Log: slog.New(slog.NewJSONHandler(c.logs, nil))}
	return c
}

func (c *cloud) putPair(t *testing.T, name string, domains []string) certstest.Pair {
	t.Helper()
	p := certstest.SelfSigned(t, certstest.Options{Domains: domains})
	if err := c.oss.PutObject(bucket, "certs/"+name+"/fullchain.pem", p.CertPEM); err != nil {
		t.Fatal(err)
	}
	if err := c.oss.PutObject(bucket, "certs/"+name+"/privkey.pem", p.KeyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}

// writes counts the write actions the emulator has served so far.
func (c *cloud) writes() []string {
	var out []string
	for _, r := range c.slb.Requests() {
		if !strings.HasPrefix(r.Action, "Describe") && !strings.HasPrefix(r.Action, "List") {
			out = append(out, r.Action)
		}
	}
	return out
}

func event(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// payload returns the apply event with fn applied to the decoded form.
func payload(t *testing.T, fn func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(event(t, "provision-apply.json"), &m); err != nil {
		t.Fatal(err)
	}
	if fn != nil {
		fn(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func (c *cloud) invoke(t *testing.T, p []byte) provisioning.Result {
	t.Helper()
	res, err := c.h.Handle(context.Background(), p)
	if err != nil {
		t.Fatalf("invoke: %v\nresult: %+v", err, res)
	}
	return res
}

func TestSeedPayloadEndToEnd(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	res := c.invoke(t, event(t, "provision-apply.json"))
	if res.Status != provisioning.StatusApplied || res.LoadBalancerID == "" || res.Address == "" {
		t.Fatalf("result = %+v", res)
	}
	lb, backends, err := c.svc.Instances.DescribeLoadBalancer(ctx, region, res.LoadBalancerID)
	if err != nil {
		t.Fatal(err)
	}
	if lb.Name != "SLB1" || lb.Spec != "slb.s1.small" || lb.PayType != "PayOnDemand" || lb.MasterZone != "cn-zhangjiakou-a" || lb.SlaveZone != "cn-zhangjiakou-b" {
		t.Errorf("instance = %+v", lb)
	}
	if len(backends) != 2 {
		t.Fatalf("backends = %+v", backends)
	}
	for _, b := range backends {
		if b.Weight != 100 || !strings.HasPrefix(b.ServerID, "i-8vb0local0") {
			t.Errorf("backend = %+v", b)
		}
	}
	l, _, err := c.svc.Listeners.DescribeHTTPSListener(ctx, region, res.LoadBalancerID, 80)
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != "running" || l.BackendPort != 443 || l.Bandwidth != 6 || l.HealthCheck != "off" || l.StickySession != "off" {
		t.Errorf("listener = %+v", l)
	}
	if len(res.Listeners) != 1 || res.Listeners[0].Status != "running" || res.Listeners[0].CertificateID != l.ServerCertificateID || l.ServerCertificateID == "" {
		t.Errorf("result listeners = %+v (API says certificate %s)", res.Listeners, l.ServerCertificateID)
	}
	all, err := c.svc.Certificates.ListServerCertificates(ctx, region)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || !all[0].Ours() || all[0].ID != l.ServerCertificateID || !strings.HasPrefix(all[0].Name, "example.com-") {
		t.Errorf("certificates = %+v", all)
	}
	// The listener really serves the pair's certificate.
	pr := tlsprobe.Probe(ctx, res.Address, 80, "www.example.com", 5*time.Second)
	if !pr.Reachable || pr.FingerprintSHA1 != c.pair.FingerprintSHA1 {
		t.Errorf("probe %s:80 = reachable %v fingerprint %s (%s), want %s", res.Address, pr.Reachable, pr.FingerprintSHA1, pr.Err, c.pair.FingerprintSHA1)
	}
	// CreateLoadBalancer carried the payload-derived token.
	d, _ := provisioning.Parse(event(t, "provision-apply.json"))
	want := provisioning.ClientToken(region, clb.LoadBalancerSpec{Name: "SLB1", AddressType: "internet", Spec: "slb.s1.small",
		PayType: "PayOnDemand", MasterZone: "cn-zhangjiakou-a", SlaveZone: "cn-zhangjiakou-b", Tags: map[string]string{clb.OwnerTagKey: clb.OwnerTagValue}}, 0)
	found := false
	for _, r := range c.slb.Requests() {
		if r.Action == "CreateLoadBalancer" {
			found = r.Params["ClientToken"] == want
		}
	}
	if !found || d.LoadBalancer.Name != "SLB1" {
		t.Errorf("CreateLoadBalancer did not carry ClientToken %s", want)
	}
	out, _ := json.Marshal(res)
	if strings.Contains(string(out), "PRIVATE KEY") || strings.Contains(c.logs.String(), "PRIVATE KEY") {
		t.Error("key material in the result or the log")
	}
}

func TestSecondApplyNoWrites(t *testing.T) {
	c := newCloud(t)
	first := c.invoke(t, event(t, "provision-apply.json"))
	before := len(c.writes())
	res := c.invoke(t, event(t, "provision-apply.json"))
	if extra := c.writes()[before:]; len(extra) != 0 {
		t.Fatalf("second apply wrote %v", extra)
	}
	if res.Status != provisioning.StatusUnchanged || res.LoadBalancerID != first.LoadBalancerID || len(res.Changes) != 0 {
		t.Errorf("result = %+v", res)
	}
	if res.Listeners[0].Status != "running" || res.Listeners[0].CertificateID != first.Listeners[0].CertificateID {
		t.Errorf("listeners = %+v", res.Listeners)
	}
}

func TestDriftCorrection(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	first := c.invoke(t, event(t, "provision-apply.json"))
	// By hand, through the SLB API: one backend's weight down to 20.
	if err := c.svc.Backends.AddBackendServers(ctx, region, first.LoadBalancerID, []clb.Backend{{ServerID: "i-8vb0local02", Weight: 20, Type: "ecs"}}); err != nil {
		t.Fatal(err)
	}
	_, backends, _ := c.svc.Instances.DescribeLoadBalancer(ctx, region, first.LoadBalancerID)
	if w := weightOf(backends, "i-8vb0local02"); w != 20 {
		t.Fatalf("hand change did not take: weight %d", w)
	}
	res := c.invoke(t, event(t, "provision-apply.json"))
	if res.Status != provisioning.StatusApplied || len(res.Changes) != 1 || res.Changes[0].String() != "update backend i-8vb0local02 (weight 20 -> 100)" {
		t.Errorf("changes = %v", res.Changes)
	}
	_, backends, _ = c.svc.Instances.DescribeLoadBalancer(ctx, region, first.LoadBalancerID)
	if w := weightOf(backends, "i-8vb0local02"); w != 100 {
		t.Errorf("weight after apply = %d", w)
	}
}

func weightOf(bs []clb.Backend, id string) int {
	for _, b := range bs {
		if b.ServerID == id {
			return b.Weight
		}
	}
	return -1
}

func TestPartialFailureRollsBack(t *testing.T) {
	t.Run("server errors on CreateLoadBalancerHTTPSListener", func(t *testing.T) {
		c := newCloud(t)
		c.slb.Faults().Set(faults.Rule{Action: "CreateLoadBalancerHTTPSListener", ServerErrorRate: 1})
		res, err := c.h.Handle(context.Background(), event(t, "provision-apply.json"))
		if err == nil || !errors.Is(err, apierr.ErrTransient) || res.Status != provisioning.StatusFailed {
			t.Fatalf("status %s err %v", res.Status, err)
		}
		c.assertEmpty(t)
		if got := strings.Join(changeOps(res.RolledBack), ","); got != "delete certificate,delete backends,delete load" && got != "delete certificate,delete load" {
			t.Errorf("rolled back = %v", res.RolledBack)
		}
		if !strings.Contains(c.logs.String(), `"level":"ERROR"`) || strings.Count(c.logs.String(), "\n") != 1 {
			t.Errorf("want one ERROR record, got %s", c.logs)
		}

		// FC retries the same payload once the fault is gone: one instance.
		c.slb.Faults().Clear()
		retry := c.invoke(t, event(t, "provision-apply.json"))
		lbs, _ := c.svc.Instances.ListLoadBalancers(context.Background(), region)
		if retry.Status != provisioning.StatusApplied || len(lbs) != 1 || lbs[0].ID != retry.LoadBalancerID {
			t.Errorf("after retry: %s, instances %+v", retry.Status, lbs)
		}
	})
	t.Run("quota on domain extensions", func(t *testing.T) {
		c := newCloud(t)
		p := payload(t, func(m map[string]any) {
			l := m["listeners"].([]any)[0].(map[string]any)
			var exts []any
			for _, d := range []string{"a", "b", "c", "d"} {
				exts = append(exts, map[string]any{"domain": d + ".example.com", "certificate": "example.com"})
			}
			l["domainExtensions"] = exts
		})
		res, err := c.h.Handle(context.Background(), p)
		if err != nil || res.Status != provisioning.StatusRejected {
			t.Fatalf("status %s err %v: %s", res.Status, err, res.Error)
		}
		c.assertEmpty(t)
		if n := len(res.RolledBack); n < 5 { // 3 extensions, listener, certificate, instance
			t.Errorf("rolled back only %v", res.RolledBack)
		}
	})
}

func changeOps(cs []provisioning.Change) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Op + " " + strings.Fields(c.Resource)[0]
	}
	return out
}

func (c *cloud) assertEmpty(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	lbs, err := c.svc.Instances.ListLoadBalancers(ctx, region)
	if err != nil || len(lbs) != 0 {
		t.Errorf("instances left: %+v %v", lbs, err)
	}
	cs, err := c.svc.Certificates.ListServerCertificates(ctx, region)
	if err != nil || len(cs) != 0 {
		t.Errorf("certificates left: %+v %v", cs, err)
	}
}

func TestClientTokenGivesOneInstance(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	d, err := provisioning.Parse(event(t, "provision-apply.json"))
	if err != nil {
		t.Fatal(err)
	}
	spec := d.InstanceSpec()
	tok := provisioning.ClientToken(region, spec, 0)
	a, err := c.svc.Instances.CreateLoadBalancer(ctx, region, spec, tok)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.svc.Instances.CreateLoadBalancer(ctx, region, spec, tok)
	if err != nil {
		t.Fatal(err)
	}
	lbs, _ := c.svc.Instances.ListLoadBalancers(ctx, region)
	if a.ID != b.ID || len(lbs) != 1 {
		t.Fatalf("ids %s %s, instances %d", a.ID, b.ID, len(lbs))
	}
	// An apply after the lost reply adopts that instance.
	res := c.invoke(t, event(t, "provision-apply.json"))
	lbs, _ = c.svc.Instances.ListLoadBalancers(ctx, region)
	if res.LoadBalancerID != a.ID || len(lbs) != 1 {
		t.Errorf("apply used %s, instances %d", res.LoadBalancerID, len(lbs))
	}
}

func TestPlanOutput(t *testing.T) {
	c := newCloud(t)
	res := c.invoke(t, event(t, "provision-plan.json"))
	if w := c.writes(); len(w) != 0 {
		t.Fatalf("plan wrote %v", w)
	}
	want := []string{"create load", "create backend", "create backend", "upload certificate", "create listener", "start listener"}
	if res.Action != provisioning.ActionPlan || res.Status != provisioning.StatusPlanned || strings.Join(changeOps(res.Changes), ",") != strings.Join(want, ",") {
		t.Errorf("plan = %s %s %v", res.Action, res.Status, res.Changes)
	}
	c.invoke(t, event(t, "provision-apply.json"))
	res = c.invoke(t, event(t, "provision-plan.json"))
	if res.Status != provisioning.StatusUnchanged || len(res.Changes) != 0 {
		t.Errorf("plan after apply = %+v", res)
	}
}

func TestDestroy(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	one := c.invoke(t, event(t, "provision-apply.json"))
	two := c.invoke(t, payload(t, func(m map[string]any) { m["loadBalancer"].(map[string]any)["name"] = "SLB2" }))
	if !two.Certificates[0].Reused || two.Certificates[0].ID != one.Certificates[0].ID {
		t.Fatalf("SLB2 did not reuse the certificate: %+v", two.Certificates)
	}
	certID := one.Certificates[0].ID

	res := c.invoke(t, event(t, "provision-destroy.json"))
	if res.Status != provisioning.StatusDestroyed || len(res.Kept) != 1 || res.Kept[0].ID != certID || !strings.Contains(res.Kept[0].Reason, two.LoadBalancerID) {
		t.Fatalf("destroy SLB1 = %+v", res)
	}
	if _, _, err := c.svc.Instances.DescribeLoadBalancer(ctx, region, one.LoadBalancerID); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("SLB1 still there: %v", err)
	}
	if pr := tlsprobe.Probe(ctx, one.Address, 80, "www.example.com", time.Second); pr.Reachable {
		t.Errorf("SLB1's frontend still serves")
	}

	res = c.invoke(t, payload(t, func(m map[string]any) {
		m["action"] = "destroy"
		m["loadBalancer"].(map[string]any)["name"] = "SLB2"
	}))
	if res.Status != provisioning.StatusDestroyed || len(res.Kept) != 0 || strings.Join(changeOps(res.Changes), ",") != "delete listener,delete load,delete certificate" {
		t.Fatalf("destroy SLB2 = %+v", res)
	}
	c.assertEmpty(t)

	res = c.invoke(t, event(t, "provision-destroy.json"))
	if res.Status != provisioning.StatusAbsent {
		t.Errorf("destroy again = %s", res.Status)
	}
}

func TestInvalidPayloadRejectedBeforeAnyCall(t *testing.T) {
	c := newCloud(t)
	opened := false
	c.h.NewProvisioner = func(context.Context) (Provisioner, error) { opened = true; return c.svc, nil }
	p := payload(t, func(m map[string]any) {
		m["listeners"].([]any)[0].(map[string]any)["bandwidth"] = 6000
		m["backends"].([]any)[0].(map[string]any)["weight"] = 101
		m["loadBalancer"].(map[string]any)["masterZoneId"] = "cn-zhangjiakou-q"
		m["extra"] = true
	})
	res, err := c.h.Handle(context.Background(), p)
	if err != nil || res.Status != provisioning.StatusRejected || len(res.Problems) != 4 {
		t.Fatalf("result = %+v, err %v", res, err)
	}
	if opened || len(c.slb.Requests()) != 0 {
		t.Errorf("cloud was called for an invalid payload")
	}
	if !strings.Contains(strings.Join(res.Problems, "\n"), "listeners[0].bandwidth: 6000 is out of range 1..5120 (or -1); fix:") {
		t.Errorf("problems = %v", res.Problems)
	}
	var rec map[string]any
	if err := json.Unmarshal(c.logs.Bytes(), &rec); err != nil {
		t.Fatalf("want exactly one JSON log record: %v\n%s", err, c.logs)
	}
	if rec["level"] != "WARN" || rec["status"] != "rejected" || rec["action"] != "apply" {
		t.Errorf("log record = %v", rec)
	}
}

func TestMissingPairRejected(t *testing.T) {
	c := newCloud(t)
	res, err := c.h.Handle(context.Background(), payload(t, func(m map[string]any) {
		m["listeners"].([]any)[0].(map[string]any)["certificate"] = "nothere.example.com"
	}))
	if err != nil || res.Status != provisioning.StatusRejected || !strings.Contains(res.Error, "nothere.example.com") {
		t.Fatalf("result = %+v, err %v", res, err)
	}
	// Each layer adds its prefix once: the pair is named by provisioning,
	// the folder by the loader.
	if n := strings.Count(res.Error, "pair nothere.example.com"); n != 1 || strings.Count(res.Error, "rotation:") > 1 {
		t.Errorf("error repeats its prefixes: %s", res.Error)
	}
	if w := c.writes(); len(w) != 0 {
		t.Errorf("writes %v", w)
	}
}

func TestOpenFailure(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  outcome.Status
		wantErr bool
	}{
		{"bad configuration", &config.Error{}, provisioning.StatusRejected, false},
		{"transient", errors.New("network down"), provisioning.StatusFailed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &Handler{NewProvisioner: func(context.Context) (Provisioner, error) { return nil, tt.err }, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil))}
			res, err := h.Handle(context.Background(), event(t, "provision-apply.json"))
			if (err != nil) != tt.wantErr || res.Status != tt.status || res.Name != "SLB1" {
				t.Errorf("status %s err %v", res.Status, err)
			}
		})
	}
}

// lateFailure is a Provisioner whose action did its work and then failed
// transiently (a lock release, an answer lost).
type lateFailure struct{ Provisioner }

func (lateFailure) Apply(context.Context, time.Time, provisioning.Desired) (provisioning.Result, error) {
	return provisioning.Result{Action: provisioning.ActionApply, Status: provisioning.StatusApplied, Changes: []provisioning.Change{}}, errors.New("provisioning: release lock: 503")
}

// TestTransientErrorIsNeverSuccess: an invocation that returns an error
// (FC retries it) never reports or logs a success status.
func TestTransientErrorIsNeverSuccess(t *testing.T) {
	var logs bytes.Buffer
	h := &Handler{NewProvisioner: func(context.Context) (Provisioner, error) { return lateFailure{}, nil }, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	res, err := h.Handle(context.Background(), event(t, "provision-apply.json"))
	if err == nil || res.Status != provisioning.StatusFailed {
		t.Fatalf("status %s err %v; want failed with the error", res.Status, err)
	}
	if !strings.Contains(logs.String(), `"status":"failed"`) {
		t.Errorf("log line %s; want status failed", logs.String())
	}
}
