package alb

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// APIVersion is the only ALB API version the emulator serves.
const APIVersion = "2020-06-16"

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
	opts  Options
	rpc   *rpc.Service
	now   func() time.Time
	front *lbcert.Frontends

	mu        sync.Mutex
	regions   map[string]bool
	lbs       map[string]*loadBalancer
	lbOrder   []*loadBalancer
	listeners map[string]*listener
	jobs      *lbcert.Jobs
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
		Faults: opts.Faults, Now: opts.Now, MaxRequestLog: opts.MaxRequestLog, RequestIDPrefix: "A1B0C047"})
	if err != nil {
		return nil, fmt.Errorf("alb emulator: %w", err)
	}
	s := &Server{opts: opts, rpc: svc, now: opts.Now, front: lbcert.NewFrontends(), regions: map[string]bool{},
		lbs: map[string]*loadBalancer{}, listeners: map[string]*listener{}, jobs: lbcert.NewJobs("")}
	for _, r := range opts.Regions {
		s.regions[r] = true
	}
	opts.CAS.AddUser(s.usersOf)
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
	s.mu.Lock()
	if !s.closed {
		for _, lb := range s.lbOrder {
			s.opts.Addresses.Release(lb.Address, lb.marker)
		}
	}
	s.closed = true
	s.mu.Unlock()
	return s.front.CloseAll()
}

// call is one dispatched action; handlers run with s.mu held.
type call struct {
	s      *Server
	region string
	p      map[string]string
	now    time.Time
	after  []func() *rpc.Error // run after s.mu is released (frontends)
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
	c := &call{s: s, region: region, p: p, now: s.now()}
	s.mu.Lock()
	s.jobs.Settle(c.now)
	resp, aerr := h(c)
	s.mu.Unlock()
	for _, f := range c.after {
		if e := f(); e != nil && aerr == nil {
			aerr = e
		}
	}
	return resp, aerr
}

// usersOf lists the listeners that use a CAS identity (for CAS deletes).
func (s *Server) usersOf(identity string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs.Settle(s.now())
	var out []string
	for _, lb := range s.lbOrder {
		for _, l := range lb.listeners {
			if l.Has(identity) {
				out = append(out, l.ID)
			}
		}
	}
	return out
}

// pick serves one handshake on the frontend of listener id.
func (s *Server) pick(id, sni string) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs.Settle(s.now())
	l, ok := s.listeners[id]
	if !ok {
		return nil, errors.New("listener gone")
	}
	defID, extraIDs := l.Serving()
	def, _ := s.opts.CAS.Resolve(defID)
	var extra []*tls.Certificate
	for _, x := range extraIDs {
		if c, r := s.opts.CAS.Resolve(x); r == cas.Found {
			extra = append(extra, c.TLS)
		}
	}
	var defTLS *tls.Certificate
	if def != nil {
		defTLS = def.TLS
	}
	if got := lbcert.Select(sni, defTLS, extra); got != nil {
		return got, nil
	}
	return nil, errors.New("no certificate")
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
			s.front.Close(id)
			return nil
		}
		if err := s.front.Open(id, addr, banner, func(sni string) (*tls.Certificate, error) { return s.pick(id, sni) }); err != nil {
			return rpc.Errorf(500, "InternalError", "The listener could not start: %v", err)
		}
		return nil
	})
}

// FrontendAddrs lists the "127.0.0.x:port" addresses listening now.
func (s *Server) FrontendAddrs() []string { return s.front.Addrs() }
