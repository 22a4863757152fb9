package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	ossemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/oss"
	slbemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/fclog"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

const (
	bucket = "slb-cert-drop" // the bucket of the sample events in events/
	zjk    = "cn-zhangjiakou"
	hz     = "cn-hangzhou"
)

var testCA = certstest.NewCA(nil, "Handler Test CA")

var (
	addrMu   sync.Mutex
	addrNext int
)

// nextAddressBase gives every local cloud its own loopback range, so that
// frontends never collide with another test (or another package's tests
// running at the same time) on 127.0.0.2:443.
func nextAddressBase() net.IP {
	addrMu.Lock()
	defer addrMu.Unlock()
	addrNext++
	return net.IPv4(127, byte(100+os.Getpid()%100), byte(addrNext%250), 2)
}

// cloud is the local cloud for one test: the SLB and OSS emulators served
// over loopback HTTP, and a Handler pointed at them.
type cloud struct {
	t   *testing.T
	slb *slbemu.Server
	oss *ossemu.Server
	inj *faults.Injector
	// ossFault, when set, decides the OSS emulator's fault per action.
	ossFault atomic.Pointer[func(action string) ossemu.Fault]
	h        *Handler
	logs     *fcrttest.Log
	sts      slbemu.Account
	// results collects every result returned, for the secret scan.
	mu      sync.Mutex
	results []string
	pairs   []certstest.Pair
}

func newCloud(t *testing.T, regions ...string) *cloud {
	t.Helper()
	if len(regions) == 0 {
		regions = []string{zjk}
	}
	inj := faults.New(42)
	s, err := slbemu.New(slbemu.Options{Faults: inj, AddressBase: nextAddressBase()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	slbHTTP := httptest.NewServer(s)
	t.Cleanup(slbHTTP.Close)

	accounts := slbemu.DefaultAccounts()
	var ossAccounts []ossemu.Account
	for _, a := range accounts {
		ossAccounts = append(ossAccounts, ossemu.Account{AccessKeyID: a.AccessKeyID, AccessKeySecret: a.AccessKeySecret, SecurityToken: a.SecurityToken})
	}
	c := &cloud{t: t, slb: s, inj: inj, logs: &fcrttest.Log{}, sts: accounts[1]}
	o := ossemu.New(ossemu.Options{Accounts: ossAccounts, Faults: func(action string) ossemu.Fault {
		if f := c.ossFault.Load(); f != nil {
			return (*f)(action)
		}
		return ossemu.Fault{}
	}})
	t.Cleanup(o.Close)
	ossHTTP := httptest.NewServer(o)
	t.Cleanup(ossHTTP.Close)
	o.CreateBucket(bucket, zjk)
	c.oss = o
	c.h = &Handler{
		Config: config.Config{
			CertBucket: bucket, CertPrefix: "certs/", Regions: regions, FunctionRegion: zjk,
			MinValidDays: 7, KeepSuperseded: 1, ProbeTimeout: 2 * time.Second, Concurrency: 5,
			SLBEndpoint: slbHTTP.URL, OSSEndpoint: ossHTTP.URL, OSSRegion: zjk, OSSSignature: "v4",
		},
		Log: fclog.New(c.logs, slog.LevelDebug),
	}
	wire(c.h, nil)
	t.Cleanup(c.scanSecrets)
	return c
}

// ctx is an invocation context carrying the STS triple, as FC passes it.
func (c *cloud) ctx(requestID string) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	c.t.Cleanup(cancel)
	return fccontext.NewContext(ctx, &fccontext.FcContext{
		RequestID: requestID, Region: zjk,
		Credentials: fccontext.Credentials{AccessKeyId: c.sts.AccessKeyID, AccessKeySecret: c.sts.AccessKeySecret, SecurityToken: c.sts.SecurityToken},
	})
}

func (c *cloud) issue(domains ...string) certstest.Pair {
	c.t.Helper()
	p := testCA.Issue(c.t, certstest.Options{Domains: domains, Chain: true, PKCS8: true})
	c.mu.Lock()
	c.pairs = append(c.pairs, p)
	c.mu.Unlock()
	return p
}

func (c *cloud) put(key string, data []byte) {
	c.t.Helper()
	if err := c.oss.PutObject(bucket, key, data); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cloud) putPair(name string, p certstest.Pair) {
	c.put("certs/"+name+"/fullchain.pem", p.CertPEM)
	c.put("certs/"+name+"/privkey.pem", p.KeyPEM)
}

// seedCert uploads p as an existing (user) certificate and returns its id.
func (c *cloud) seedCert(region, name string, p certstest.Pair, tags map[string]string) string {
	c.t.Helper()
	key := p.KeyPEM
	if b, err := certstest.EncodeKey(p.Key, false); err == nil {
		key = b
	}
	id, err := c.slb.SeedServerCertificate(region, name, string(p.CertPEM), string(key), tags)
	if err != nil {
		c.t.Fatal(err)
	}
	return id
}

// seedListener makes a load balancer with a running HTTPS listener on port
// serving certID and returns the load balancer's id.
func (c *cloud) seedLB(region string) string {
	c.t.Helper()
	id, err := c.slb.SeedLoadBalancer(region, "lb-"+region)
	if err != nil {
		c.t.Fatal(err)
	}
	return id
}

func (c *cloud) seedListener(region, lbID string, port int, certID string) {
	c.t.Helper()
	if err := c.slb.SeedHTTPSListener(region, lbID, port, certID, true); err != nil {
		c.t.Fatal(err)
	}
}

func (c *cloud) lbState(region, lbID string) slbemu.LoadBalancerState {
	for _, lb := range c.slb.Dump().Regions[region].LoadBalancers {
		if lb.ID == lbID {
			return lb
		}
	}
	c.t.Fatalf("no load balancer %s", lbID)
	return slbemu.LoadBalancerState{}
}

func (c *cloud) listenerCert(region, lbID string, port int) string {
	for _, l := range c.lbState(region, lbID).Listeners {
		if l.Port == port {
			return l.ServerCertificateID
		}
	}
	return ""
}

// served handshakes the listener and returns the served fingerprint.
func (c *cloud) served(region, lbID string, port int, sni string) string {
	c.t.Helper()
	r := tlsprobe.Probe(context.Background(), c.lbState(region, lbID).Address, port, sni, 2*time.Second)
	if !r.Reachable {
		c.t.Fatalf("listener %s:%d unreachable: %s", lbID, port, r.Err)
	}
	return r.FingerprintSHA1
}

func (c *cloud) count(action string) int {
	n := 0
	for _, r := range c.slb.Requests() {
		if r.Action == action && r.Status == 200 {
			n++
		}
	}
	return n
}

// event builds an OSS trigger payload for key.
func event(name, bkt, key string) []byte {
	b, _ := json.Marshal(map[string]any{"events": []any{map[string]any{
		"eventName": name, "eventSource": "acs:oss", "eventTime": "2026-11-28T02:14:07.000Z", "eventVersion": "1.0",
		"oss": map[string]any{
			"bucket": map[string]any{"arn": "acs:oss:cn-zhangjiakou:1234567890123456:" + bkt, "name": bkt, "ownerIdentity": "1234567890123456"},
			"object": map[string]any{"key": key, "size": 100, "deltaSize": 100, "eTag": "ABC"},
		},
		"region": zjk,
	}}})
	return b
}

func (c *cloud) invoke(payload []byte) (rotation.Result, error) {
	c.t.Helper()
	res, err := c.h.Handle(c.ctx(fmt.Sprintf("req-%d", time.Now().UnixNano())), payload)
	b, _ := json.Marshal(res)
	c.mu.Lock()
	c.results = append(c.results, string(b))
	if err != nil {
		c.results = append(c.results, err.Error())
	}
	c.mu.Unlock()
	return res, err
}

func (c *cloud) rotate(key string) rotation.Result {
	c.t.Helper()
	res, err := c.invoke(event("ObjectCreated:PutObject", bucket, key))
	if err != nil {
		c.t.Fatalf("Handle(%s): %v\nlogs:\n%s", key, err, c.logs.String())
	}
	return res
}

// scanSecrets fails when a log line, result or error carries private key
// material, the access key secret or the security token.
func (c *cloud) scanSecrets() {
	c.mu.Lock()
	defer c.mu.Unlock()
	text := c.logs.String() + "\n" + strings.Join(c.results, "\n")
	forbidden := []string{"PRIVATE KEY", c.sts.AccessKeySecret, c.sts.SecurityToken}
	for _, a := range slbemu.DefaultAccounts() {
		forbidden = append(forbidden, a.AccessKeySecret)
	}
	for _, p := range c.pairs {
		lines := strings.Split(string(p.KeyPEM), "\n")
		if len(lines) > 2 {
			forbidden = append(forbidden, lines[1], lines[len(lines)/2]) // base64 of the key
		}
	}
	for _, f := range forbidden {
		if f != "" && strings.Contains(text, f) {
			c.t.Errorf("secret material %q found in logs or results", f[:min(len(f), 12)])
		}
	}
}

// logLines returns the JSON log records.
func (c *cloud) logLines() []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(c.logs.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			c.t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// wire builds h's rotator with the composition root, as main does, over
// h.Config as it is at each invocation (a test may change it), tuned by
// tune (nil: untouched).
func wire(h *Handler, tune func(*app.Root)) {
	h.NewRotator = func(ctx context.Context) (Rotator, error) {
		root := app.New(h.Config, nil)
		if tune != nil {
			tune(root)
		}
		return root.Rotator(ctx)
	}
}

// fastRetry gives the adapters short, deterministic backoff so that retry
// tests stay fast.
func fastRetry(r *app.Root) {
	r.Retry = aliyun.RetryPolicy{MaxAttempts: 10, BaseDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, Seed: 7}
}
