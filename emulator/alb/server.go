package alb

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// APIVersion is the only ALB API version the emulator serves.
const APIVersion = "2020-06-16"

// DNSZone holds every instance's DNS name, <id>.<region>.alb.aliyuncs.com.
const DNSZone = "alb.aliyuncs.com"

// DefaultConfiguringDuration is how long a write keeps a listener
// Configuring when Options.ConfiguringDuration is zero.
const DefaultConfiguringDuration = 2 * time.Second

// Editions and their default quotas of additional certificates per
// instance (adjustable up to 150 and 300 in the console).
var DefaultQuotas = map[string]int{"Basic": 10, "Standard": 25, "StandardWithWaf": 25}

// DefaultRegions are served when Options.Regions is empty.
var DefaultRegions = []string{"cn-zhangjiakou", "cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1"}

// Options configure a Server.
type Options struct {
	Accounts []rpc.Account
	Regions  []string
	Faults   *faults.Injector
	// JobFaults decides which jobs end Failed (nil: none).
	JobFaults *faults.JobFaults
	Now       func() time.Time
	// CAS resolves certificate identities; required.
	CAS *cas.Server
	// Addresses hands out loopback addresses (nil: loopback.Default).
	Addresses *loopback.Pool
	// DNS receives an A record per instance, DNS name to its address
	// (nil: none).
	DNS *dns.Store
	// NoFrontends: never open TLS listeners.
	NoFrontends bool
	// ConfiguringDuration is how long each write's job runs (0: default).
	ConfiguringDuration time.Duration
	// Quotas override DefaultQuotas by edition.
	Quotas        map[string]int
	MaxRequestLog int
}

// Server is the emulated ALB. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	opts Options
	rpc  *rpc.Service
	core *lbcert.Core // its Mu guards the fields below

	regions   map[string]bool
	lbs       map[string]*loadBalancer
	lbOrder   []*loadBalancer
	listeners map[string]*listener
	closed    bool
}

// New builds a server.
func New(opts Options) (*Server, error) {
	if opts.CAS == nil {
		return nil, errors.New("alb emulator: Options.CAS is required")
	}
	if len(opts.Regions) == 0 {
		opts.Regions = DefaultRegions
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Addresses == nil {
		opts.Addresses = loopback.Default
	}
	if opts.ConfiguringDuration <= 0 {
		opts.ConfiguringDuration = DefaultConfiguringDuration
	}
	q := map[string]int{}
	for k, v := range DefaultQuotas {
		q[k] = v
	}
	for k, v := range opts.Quotas {
		q[k] = v
	}
	opts.Quotas = q
	svc, err := rpc.New(rpc.Options{Product: "Alb", Host: "alb.aliyuncs.com", Version: APIVersion, Accounts: opts.Accounts,
		Faults: opts.Faults, Now: opts.Now, MaxRequestLog: opts.MaxRequestLog, RequestIDPrefix: "A1B0C047", IsWrite: IsWrite})
	if err != nil {
		return nil, fmt.Errorf("alb emulator: %w", err)
	}
	s := &Server{opts: opts, rpc: svc, core: lbcert.NewCore(opts.CAS, opts.Now), regions: map[string]bool{},
		lbs: map[string]*loadBalancer{}, listeners: map[string]*listener{}}
	for _, r := range opts.Regions {
		s.regions[r] = true
	}
	if opts.DNS != nil {
		opts.DNS.AddZone(DNSZone)
	}
	return s, nil
}

// Faults returns the fault injector (never nil).
func (s *Server) Faults() *faults.Injector { return s.rpc.Faults() }

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []rpc.Record { return s.rpc.Requests() }

// ServeHTTP answers one RPC call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.rpc.Serve(w, r, s.handle) }

// Close stops every frontend and releases the addresses.
func (s *Server) Close() error {
	s.core.Mu.Lock()
	if !s.closed {
		for _, lb := range s.lbOrder {
			s.opts.Addresses.Release(lb.Address, lb.marker)
		}
	}
	s.closed = true
	s.core.Mu.Unlock()
	return s.core.Front.CloseAll()
}

// call is one dispatched action; handlers run with s.core.Mu held.
type call struct {
	s      *Server
	region string
	p      map[string]string
	now    time.Time
	after  []func() *rpc.Error // run after the lock is released (frontends)
}

type obj = map[string]any

type handler func(c *call) (obj, *rpc.Error)

var actions map[string]handler

func init() {
	actions = map[string]handler{
		"CreateLoadBalancer":                           createLoadBalancer,
		"ListLoadBalancers":                            listLoadBalancers,
		"CreateListener":                               createListener,
		"ListListeners":                                listListeners,
		"GetListenerAttribute":                         getListenerAttribute,
		"UpdateListenerAttribute":                      updateListenerAttribute,
		"AssociateAdditionalCertificatesWithListener":  associateAdditional,
		"DissociateAdditionalCertificatesFromListener": dissociateAdditional,
		"ListListenerCertificates":                     listListenerCertificates,
		"ListAsynJobs":                                 listAsynJobs,
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

// IsWrite reports whether action changes state (all but Get*/List*).
func IsWrite(action string) bool { return lbcert.IsWrite(actions, action) }

func (s *Server) handle(_ string, p map[string]string) (obj, *rpc.Error) {
	h, ok := actions[p["Action"]]
	if !ok {
		return nil, rpc.UnknownAction()
	}
	rid := p["RegionId"]
	if rid == "" {
		return nil, rpc.Missing("RegionId")
	}
	if !s.regions[rid] {
		return nil, rpc.Errorf(404, "InvalidRegionId.NotFound", "The specified RegionId %q does not exist.", rid)
	}
	return s.run(rid, p, h)
}

// run settles due jobs and runs h under the lock, then its frontend work.
func (s *Server) run(region string, p map[string]string, h handler) (obj, *rpc.Error) {
	return s.core.Run(func(now time.Time) (obj, []func() *rpc.Error, *rpc.Error) {
		c := &call{s: s, region: region, p: p, now: now}
		resp, aerr := h(c)
		return resp, c.after, aerr
	})
}

// scheduleFrontend opens (or closes) l's frontend after the lock is released.
func (c *call) scheduleFrontend(l *listener, open bool) {
	s := c.s
	if s.opts.NoFrontends || l.Protocol != "HTTPS" {
		return
	}
	id, addr := l.ID, net.JoinHostPort(l.lb.Address, fmt.Sprint(l.Port))
	banner := "alb " + l.lb.ID + " " + l.ID
	c.after = append(c.after, func() *rpc.Error {
		if !open {
			s.core.Front.Close(id)
			return nil
		}
		return s.core.OpenFrontend(id, addr, banner)
	})
}

// FrontendAddrs lists the "127.0.0.x:port" addresses listening now.
func (s *Server) FrontendAddrs() []string { return s.core.Front.Addrs() }
