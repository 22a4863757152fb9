package aliyun

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	albemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/alb"
	casemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	nlbemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/nlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// lbCloud is the local cloud's CAS, ALB and NLB in process, each behind
// its own HTTP server, sharing one fault injector and one job fault table.
type lbCloud struct {
	cas  *casemu.Server
	alb  *albemu.Server
	nlb  *nlbemu.Server
	inj  *faults.Injector
	jobs *faults.JobFaults

	casURL, albURL, nlbURL string
}

type lbCloudOptions struct {
	// Seed seeds the fault injectors (0: 7).
	Seed int64
	// Frontends: HTTPS (ALB) and TCPSSL (NLB) listeners serve TLS on their
	// instance's loopback address.
	Frontends bool
	// Configuring is how long each listener write's job runs (0: 1ns, the
	// job is due on the next call).
	Configuring time.Duration
	ALBQuotas   map[string]int
	NLBQuota    int
	// Wrap, when set, wraps the ALB and NLB handlers (protocol-level
	// doubles).
	Wrap func(http.Handler) http.Handler
	// WrapCAS wraps the CAS handler.
	WrapCAS func(c *lbCloud, next http.Handler) http.Handler
}

func newLBCloud(t testing.TB, o lbCloudOptions) *lbCloud {
	t.Helper()
	if o.Configuring == 0 {
		o.Configuring = time.Nanosecond
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
	c := &lbCloud{inj: faults.New(o.Seed), jobs: faults.NewJobFaults(o.Seed)}
	var err error
	if c.cas, err = casemu.New(casemu.Options{Faults: c.inj}); err != nil {
		t.Fatal(err)
	}
	pool, err := loopback.NewPool(loopback.RandomBase())
	if err != nil {
		t.Fatal(err)
	}
	if c.alb, err = albemu.New(albemu.Options{CAS: c.cas, Faults: c.inj, JobFaults: c.jobs, Addresses: pool, NoFrontends: !o.Frontends,
		ConfiguringDuration: o.Configuring, Quotas: o.ALBQuotas}); err != nil {
		t.Fatal(err)
	}
	if c.nlb, err = nlbemu.New(nlbemu.Options{CAS: c.cas, Faults: c.inj, JobFaults: c.jobs, Addresses: pool, NoFrontends: !o.Frontends,
		ConfiguringDuration: o.Configuring, Quota: o.NLBQuota}); err != nil {
		t.Fatal(err)
	}
	wrap := o.Wrap
	if wrap == nil {
		wrap = func(h http.Handler) http.Handler { return h }
	}
	var casHandler http.Handler = c.cas
	if o.WrapCAS != nil {
		casHandler = o.WrapCAS(c, c.cas)
	}
	servers := []*httptest.Server{httptest.NewServer(casHandler), httptest.NewServer(wrap(c.alb)), httptest.NewServer(wrap(c.nlb))}
	c.casURL, c.albURL, c.nlbURL = servers[0].URL, servers[1].URL, servers[2].URL
	if o.Frontends && !loopbackUsable() {
		t.Skip("no 127.0.0.x loopback addresses besides 127.0.0.1 here")
	}
	t.Cleanup(func() {
		for _, s := range servers {
			s.Close()
		}
		_ = c.alb.Close()
		_ = c.nlb.Close()
	})
	return c
}

// lbTestOptions are fast adapter options for the local cloud.
var lbTestOptions = RPCOptions{Retry: fastRetry, Timeout: 2 * time.Second, PollInterval: 5 * time.Millisecond}

func stsCreds() Credentials {
	for _, a := range rpc.DefaultAccounts() {
		if a.SecurityToken != "" {
			return Credentials{AccessKeyID: a.AccessKeyID, AccessKeySecret: a.AccessKeySecret, SecurityToken: a.SecurityToken}
		}
	}
	panic("no STS account")
}

func quickRPC(a *rpcAPI) { a.pacer.minRate = 200 }

func (c *lbCloud) newCAS(opts RPCOptions) *CAS {
	opts.Endpoint = c.casURL
	a := NewCAS(stsCreds(), opts)
	quickRPC(a.api)
	return a
}

func (c *lbCloud) newALB(opts RPCOptions) *ALB {
	opts.Endpoint = c.albURL
	a := NewALB(stsCreds(), opts)
	quickRPC(a.api)
	return a
}

func (c *lbCloud) newNLB(opts RPCOptions) *NLB {
	opts.Endpoint = c.nlbURL
	a := NewNLB(stsCreds(), opts)
	quickRPC(a.api)
	return a
}

// listenerAPI is the method set ALB and NLB share (what a product-neutral
// target port will consume).
type listenerAPI interface {
	ListLoadBalancers(ctx context.Context, region string) ([]LBInstance, error)
	ListListeners(ctx context.Context, region string) ([]LBListener, error)
	GetListener(ctx context.Context, region, listenerID string) (LBListener, error)
	ListListenerCertificates(ctx context.Context, region, listenerID string) ([]ListenerCertificate, error)
	SetDefaultCertificate(ctx context.Context, region, listenerID, certID string) error
	AssociateAdditionalCertificate(ctx context.Context, region, listenerID, certID string) error
	DissociateAdditionalCertificate(ctx context.Context, region, listenerID, certID string) error
}

var (
	_ listenerAPI = (*ALB)(nil)
	_ listenerAPI = (*NLB)(nil)
)

// product is one of ALB and NLB with its emulator seeding and request log.
type product struct {
	name     string
	protocol string // the certificate-carrying protocol seeded
	api      func(c *lbCloud, o RPCOptions) listenerAPI
	seedLB   func(c *lbCloud, region, name string) (string, error)
	seedL    func(c *lbCloud, region, lbID string, port int, protocol, certID string) (string, error)
	seedSNI  func(c *lbCloud, region, listenerID string, ids ...string) error
	requests func(c *lbCloud) []rpc.Record
	state    func(c *lbCloud) lbcert.State
	// removal is the action that removes an additional certificate; job
	// the action that reads a job.
	removal, job string
}

var products = []product{
	{name: "alb", protocol: "HTTPS", removal: "DissociateAdditionalCertificatesFromListener", job: "ListAsynJobs",
		api:    func(c *lbCloud, o RPCOptions) listenerAPI { return c.newALB(o) },
		seedLB: func(c *lbCloud, region, name string) (string, error) { return c.alb.SeedLoadBalancer(region, name, "") },
		seedL: func(c *lbCloud, region, lbID string, port int, protocol, certID string) (string, error) {
			return c.alb.SeedListener(region, lbID, port, protocol, certID)
		},
		seedSNI: func(c *lbCloud, region, l string, ids ...string) error {
			return c.alb.SeedAdditionalCertificates(region, l, ids...)
		},
		requests: func(c *lbCloud) []rpc.Record { return c.alb.Requests() },
		state:    func(c *lbCloud) lbcert.State { return c.alb.Dump() }},
	{name: "nlb", protocol: "TCPSSL", removal: "DisassociateAdditionalCertificatesWithListener", job: "GetJobStatus",
		api:    func(c *lbCloud, o RPCOptions) listenerAPI { return c.newNLB(o) },
		seedLB: func(c *lbCloud, region, name string) (string, error) { return c.nlb.SeedLoadBalancer(region, name) },
		seedL: func(c *lbCloud, region, lbID string, port int, protocol, certID string) (string, error) {
			return c.nlb.SeedListener(region, lbID, port, protocol, certID)
		},
		seedSNI: func(c *lbCloud, region, l string, ids ...string) error {
			return c.nlb.SeedAdditionalCertificates(region, l, ids...)
		},
		requests: func(c *lbCloud) []rpc.Record { return c.nlb.Requests() },
		state:    func(c *lbCloud) lbcert.State { return c.nlb.Dump() }},
}

const lbRegion = "cn-zhangjiakou"

// casCert seeds a user certificate into CAS (as the console would) and
// returns its identity.
func (c *lbCloud) casCert(t *testing.T, name string, keyType string, domains ...string) string {
	t.Helper()
	p := certstest.SelfSigned(t, certstest.Options{Domains: domains, KeyType: keyType})
	id, err := c.cas.Seed(lbRegion, name, string(p.CertPEM), string(p.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// seedListener makes one instance with one certificate-carrying listener
// whose default certificate is def.
func (p product) seedListener(t *testing.T, c *lbCloud, def string) (lbID, listenerID string) {
	t.Helper()
	lbID, err := p.seedLB(c, lbRegion, "web")
	if err != nil {
		t.Fatal(err)
	}
	listenerID, err = p.seedL(c, lbRegion, lbID, 443, p.protocol, def)
	if err != nil {
		t.Fatal(err)
	}
	return lbID, listenerID
}

// actions lists the actions of the records from index from on.
func actions(recs []rpc.Record, from int) []string {
	var out []string
	for _, r := range recs[from:] {
		out = append(out, r.Action)
	}
	return out
}

// count counts the records of action (with code, when code is not "-").
func count(recs []rpc.Record, action, code string) int {
	n := 0
	for _, r := range recs {
		if r.Action == action && (code == "-" || r.Code == code) {
			n++
		}
	}
	return n
}

// loopbackUsable reports whether addresses of 127.0.0.0/8 other than
// 127.0.0.1 can be bound (Linux: yes).
func loopbackUsable() bool {
	ln, err := net.Listen("tcp", "127.0.0.77:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// address is the loopback address of instance lbID.
func (p product) address(t *testing.T, c *lbCloud, lbID string) string {
	t.Helper()
	for _, lb := range p.state(c).LoadBalancers {
		if lb.ID == lbID {
			return lb.Address
		}
	}
	t.Fatalf("no instance %s", lbID)
	return ""
}
