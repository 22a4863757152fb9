package slb

import (
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// APIVersion is the only SLB API version the emulator serves.
const APIVersion = "2014-05-15"

// Account is an access key the emulator accepts (see rpc.Account).
type Account = rpc.Account

// ECSInstance is an ECS instance fixture that may be attached as a backend.
type ECSInstance struct {
	ID        string
	PrivateIP string
	Region    string
}

// Options configure a Server. The zero value is usable.
type Options struct {
	// Accounts accepted; default DefaultAccounts().
	Accounts []Account
	// Regions served; default DefaultRegions.
	Regions []string
	// Instances are the ECS fixtures; default DefaultInstances.
	Instances []ECSInstance
	// Faults to inject; nil = an empty injector (no faults) that Faults()
	// returns, so rules can be added later.
	Faults *faults.Injector
	// Now is the clock for create times and the request log; default
	// time.Now. The signature Timestamp window is always checked against
	// the wall clock (SDK clients stamp requests with it), so a fake Now
	// does not lock the SDK out.
	Now func() time.Time
	// AddressBase is the first VIP handed out; later load balancers count
	// up from it. Default: 127.0.0.2 from a process-wide pool shared by
	// every Server without a base (so emulators in one process never
	// collide). Tests running in parallel processes should pass
	// RandomAddressBase().
	AddressBase net.IP
	// NoFrontends: never open TLS listeners (huge benchmark inventories).
	NoFrontends bool
	// MaxRequestLog bounds Requests() (oldest dropped); default 100000.
	MaxRequestLog int
}

// DefaultRegions are served when Options.Regions is empty.
var DefaultRegions = []string{
	"cn-zhangjiakou", "cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen",
	"cn-qingdao", "cn-huhehaote", "cn-chengdu", "cn-hongkong",
	"ap-southeast-1", "eu-central-1", "us-east-1", "us-west-1",
}

// DefaultInstances are the seed's two ECS instances in cn-zhangjiakou.
var DefaultInstances = []ECSInstance{
	{ID: "i-8vb0local01", PrivateIP: "192.168.0.11", Region: "cn-zhangjiakou"},
	{ID: "i-8vb0local02", PrivateIP: "192.168.0.12", Region: "cn-zhangjiakou"},
}

// DefaultAccounts returns the keys accepted when Options.Accounts is empty:
// a plain AccessKey pair and an STS triple. They are local test values.
func DefaultAccounts() []Account { return rpc.DefaultAccounts() }

// RequestRecord is one API call as the emulator saw it. PrivateKey,
// Signature and SecurityToken are redacted.
type RequestRecord = rpc.Record

// Server is the emulated SLB service. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	opts      Options
	now       func() time.Time
	rpc       *rpc.Service
	instances map[string]ECSInstance

	mu      sync.Mutex // guards state below
	regions map[string]*region
	lbs     map[string]*loadBalancer // by id, all regions
	seq     int
	addrs   *loopback.Pool
	closed  bool

	front *frontends
}

// New builds a server. It opens no socket until a listener is started.
func New(opts Options) (*Server, error) {
	if len(opts.Accounts) == 0 {
		opts.Accounts = DefaultAccounts()
	}
	if len(opts.Regions) == 0 {
		opts.Regions = DefaultRegions
	}
	if opts.Instances == nil {
		opts.Instances = DefaultInstances
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	addrs := loopback.Default
	if base := opts.AddressBase; base != nil {
		p, err := loopback.NewPool(base)
		if err != nil {
			return nil, fmt.Errorf("slb emulator: %w", err)
		}
		addrs = p
	}
	svc, err := rpc.New(rpc.Options{Product: "Slb", Host: "slb.aliyuncs.com", Version: APIVersion,
		Accounts: opts.Accounts, Faults: opts.Faults, Now: opts.Now, MaxRequestLog: opts.MaxRequestLog, RequestIDPrefix: "5E1A0C47", IsWrite: IsWrite})
	if err != nil {
		return nil, fmt.Errorf("slb emulator: %w", err)
	}
	s := &Server{
		opts:      opts,
		now:       opts.Now,
		rpc:       svc,
		instances: map[string]ECSInstance{},
		regions:   map[string]*region{},
		lbs:       map[string]*loadBalancer{},
		addrs:     addrs,
	}
	for _, r := range opts.Regions {
		s.regions[r] = newRegion(r)
	}
	for _, in := range opts.Instances {
		if _, ok := s.regions[in.Region]; !ok {
			return nil, fmt.Errorf("slb emulator: instance %s is in unknown region %q", in.ID, in.Region)
		}
		s.instances[in.ID] = in
	}
	s.front = newFrontends(s)
	return s, nil
}

// Faults returns the server's fault injector (never nil).
func (s *Server) Faults() *faults.Injector { return s.rpc.Faults() }

// Close stops every frontend and backend stand-in. The API keeps answering.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		for _, lb := range s.lbs {
			s.addrs.Release(lb.Address, lb.marker)
		}
	}
	s.closed = true
	s.mu.Unlock()
	return s.front.closeAll()
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []RequestRecord { return s.rpc.Requests() }

// ServeHTTP answers one RPC call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.rpc.Serve(w, r, s.handle) }

// handle dispatches an authenticated call to its action in its region.
func (s *Server) handle(_ string, p map[string]string) (obj, *apiError) {
	h, ok := actions[p["Action"]]
	if !ok {
		return nil, rpc.UnknownAction()
	}
	rid := p["RegionId"]
	if rid == "" {
		return nil, missing("RegionId")
	}
	c := &call{s: s, p: p, now: s.now()}
	s.mu.Lock()
	reg, ok := s.regions[rid]
	if !ok {
		s.mu.Unlock()
		return nil, errorf(404, "InvalidRegionId.NotFound", "The specified RegionId %q does not exist.", rid)
	}
	c.reg = reg
	resp, aerr := h(c)
	s.mu.Unlock()
	for _, f := range c.after {
		if e := f(); e != nil && aerr == nil {
			aerr = e
		}
	}
	if aerr != nil {
		return nil, aerr
	}
	if resp == nil {
		resp = obj{}
	}
	return resp, nil
}

// call is one dispatched action; handlers run with s.mu held.
type call struct {
	s     *Server
	reg   *region
	p     map[string]string
	now   time.Time
	after []func() *apiError // run after s.mu is released (frontend start/stop)
}

type obj = map[string]any

type handler func(c *call) (obj, *apiError)

var actions map[string]handler

func init() {
	actions = map[string]handler{
		"CreateLoadBalancer":                         createLoadBalancer,
		"DeleteLoadBalancer":                         deleteLoadBalancer,
		"DescribeLoadBalancers":                      describeLoadBalancers,
		"DescribeLoadBalancerAttribute":              describeLoadBalancerAttribute,
		"SetLoadBalancerName":                        setLoadBalancerName,
		"AddBackendServers":                          addBackendServers,
		"RemoveBackendServers":                       removeBackendServers,
		"SetBackendServers":                          setBackendServers,
		"DescribeHealthStatus":                       describeHealthStatus,
		"UploadServerCertificate":                    uploadServerCertificate,
		"DescribeServerCertificates":                 describeServerCertificates,
		"DeleteServerCertificate":                    deleteServerCertificate,
		"SetServerCertificateName":                   setServerCertificateName,
		"CreateLoadBalancerHTTPSListener":            createHTTPSListener,
		"SetLoadBalancerHTTPSListenerAttribute":      setHTTPSListenerAttribute,
		"DescribeLoadBalancerHTTPSListenerAttribute": describeHTTPSListenerAttribute,
		"StartLoadBalancerListener":                  startListener,
		"StopLoadBalancerListener":                   stopListener,
		"DeleteLoadBalancerListener":                 deleteListener,
		"DescribeLoadBalancerListeners":              describeListeners,
		"CreateDomainExtension":                      createDomainExtension,
		"SetDomainExtensionAttribute":                setDomainExtensionAttribute,
		"DescribeDomainExtensions":                   describeDomainExtensions,
		"DescribeDomainExtensionAttribute":           describeDomainExtensionAttribute,
		"DeleteDomainExtension":                      deleteDomainExtension,
		"TagResources":                               tagResources,
		"UntagResources":                             untagResources,
		"ListTagResources":                           listTagResources,
	}
}

// Actions lists the actions the emulator implements, sorted.
func Actions() []string {
	out := make([]string, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
