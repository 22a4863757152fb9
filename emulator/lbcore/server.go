package lbcore

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

// DefaultConfiguringDuration is how long a write keeps a listener
// Configuring when Options.ConfiguringDuration is zero.
const DefaultConfiguringDuration = 2 * time.Second

// DefaultRegions are served when Options.Regions is empty.
var DefaultRegions = []string{"cn-zhangjiakou", "cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen", "ap-southeast-1"}

// Options configure a Server; alb.Options and nlb.Options are this type.
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
	// DNS receives an A record per instance (nil: none).
	DNS *dns.Store
	// NoFrontends: never open TLS listeners.
	NoFrontends bool
	// ConfiguringDuration is how long each write's job runs (0: default).
	ConfiguringDuration time.Duration
	// Quotas are the additional certificates allowed per instance, by
	// edition (ALB: they override alb.DefaultQuotas); Quota is the quota of
	// an instance whose edition has none there (NLB: 0 means
	// nlb.DefaultQuota).
	Quotas        map[string]int
	Quota         int
	MaxRequestLog int
}

// Server is the state and the RPC front of one emulated product. It is an
// http.Handler and safe for concurrent use.
type Server struct {
	product *Product
	opts    Options
	rpc     *rpc.Service
	core    *lbcert.Core // its Mu guards the fields below

	regions   map[string]bool
	lbs       map[string]*Instance
	lbOrder   []*Instance
	listeners map[string]*Listener
	closed    bool
}

// New builds the server of product.
func New(product *Product, opts Options) (*Server, error) {
	if opts.CAS == nil {
		return nil, errors.New(product.Name + " emulator: Options.CAS is required")
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
	svc, err := rpc.New(rpc.Options{Product: product.API, Host: product.Host, Version: product.Version, Accounts: opts.Accounts,
		Faults: opts.Faults, Now: opts.Now, MaxRequestLog: opts.MaxRequestLog, RequestIDPrefix: product.RequestIDPrefix,
		IsWrite: product.IsWrite})
	if err != nil {
		return nil, fmt.Errorf("%s emulator: %w", product.Name, err)
	}
	s := &Server{product: product, opts: opts, rpc: svc, core: lbcert.NewCore(opts.CAS, opts.Now), regions: map[string]bool{},
		lbs: map[string]*Instance{}, listeners: map[string]*Listener{}}
	for _, r := range opts.Regions {
		s.regions[r] = true
	}
	if opts.DNS != nil {
		opts.DNS.AddZone(product.DNSZone)
	}
	return s, nil
}

// Faults returns the fault injector (never nil).
func (s *Server) Faults() *faults.Injector { return s.rpc.Faults() }

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []rpc.Record { return s.rpc.Requests() }

// ServeHTTP answers one RPC call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.rpc.Serve(w, r, s.handle) }

// FrontendAddrs lists the "127.0.0.x:port" addresses listening now.
func (s *Server) FrontendAddrs() []string { return s.core.Front.Addrs() }

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

// Handler answers one action; it runs with the server's lock held.
type Handler func(c *Call) (map[string]any, *rpc.Error)

// Call is one dispatched action: its region, parameters and the
// emulator's clock at its start.
type Call struct {
	s      *Server
	Region string
	P      map[string]string
	Now    time.Time
	after  []func() *rpc.Error // run after the lock is released (frontends)
}

func (s *Server) handle(_ string, p map[string]string) (map[string]any, *rpc.Error) {
	h, ok := s.product.Actions[p["Action"]]
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
	resp, aerr := s.run(rid, p, h)
	if aerr != nil || len(s.product.Envelope) == 0 {
		return resp, aerr
	}
	if resp == nil {
		resp = map[string]any{}
	}
	for k, v := range s.product.Envelope {
		resp[k] = v
	}
	return resp, nil
}

// run settles due jobs and runs h under the lock, then its frontend work.
func (s *Server) run(region string, p map[string]string, h Handler) (map[string]any, *rpc.Error) {
	return s.core.Run(func(now time.Time) (map[string]any, []func() *rpc.Error, *rpc.Error) {
		c := &Call{s: s, Region: region, P: p, Now: now}
		resp, aerr := h(c)
		return resp, c.after, aerr
	})
}

// openFrontend opens l's frontend after the lock is released, when its
// protocol serves TLS.
func (c *Call) openFrontend(l *Listener) {
	s := c.s
	if s.opts.NoFrontends || l.Protocol != s.product.TLSProtocol {
		return
	}
	id, addr := l.ID, net.JoinHostPort(l.LB.Address, fmt.Sprint(l.Port))
	banner := s.product.Name + " " + l.LB.ID + " " + l.ID
	c.after = append(c.after, func() *rpc.Error { return s.core.OpenFrontend(id, addr, banner) })
}

// Actions is a product's request table: the actions the core answers the
// same way for every product (ListLoadBalancers, ListListeners,
// UpdateListenerAttribute, AssociateAdditionalCertificatesWithListener)
// and own, the product's.
func Actions(own map[string]Handler) map[string]Handler {
	all := map[string]Handler{
		"ListLoadBalancers":                           listLoadBalancers,
		"ListListeners":                               listListeners,
		"UpdateListenerAttribute":                     updateListenerAttribute,
		"AssociateAdditionalCertificatesWithListener": associate,
	}
	for name, h := range own {
		all[name] = h
	}
	return all
}

// Names lists the actions of a request table, sorted.
func Names(actions map[string]Handler) []string {
	out := make([]string, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}
