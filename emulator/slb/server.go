package slb

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
)

// APIVersion is the only SLB API version the emulator serves.
const APIVersion = "2014-05-15"

// Account is an access key the emulator accepts. A non-empty SecurityToken
// makes it an STS key: requests signed with it must carry that token.
type Account struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// String never shows the secret or the token.
func (a Account) String() string { return "Account{" + a.AccessKeyID + " [redacted]}" }

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
func DefaultAccounts() []Account {
	return []Account{
		{AccessKeyID: "LTAI5tLocalCloudKey01", AccessKeySecret: "local-cloud-secret-0001"},
		{AccessKeyID: "STS.LocalCloudSTSKey01", AccessKeySecret: "local-cloud-sts-secret-01", SecurityToken: "local-cloud-security-token-01"},
	}
}

// RequestRecord is one API call as the emulator saw it. PrivateKey,
// Signature and SecurityToken are redacted.
type RequestRecord struct {
	Time        time.Time         `json:"time"`
	RequestID   string            `json:"request_id"`
	Method      string            `json:"method"`
	Action      string            `json:"action"`
	Region      string            `json:"region"`
	AccessKeyID string            `json:"access_key_id"`
	Params      map[string]string `json:"params"`
	Status      int               `json:"status"`
	Code        string            `json:"code,omitempty"`
	Fault       string            `json:"fault,omitempty"`
}

// Server is the emulated SLB service. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	opts      Options
	now       func() time.Time
	faults    *faults.Injector
	accounts  map[string]Account
	instances map[string]ECSInstance

	mu      sync.Mutex // guards state below
	regions map[string]*region
	lbs     map[string]*loadBalancer // by id, all regions
	seq     int
	addrs   *addrPool
	closed  bool

	nonceMu    sync.Mutex
	nonces     map[string]time.Time
	noncePurge time.Time

	logMu sync.Mutex
	log   []RequestRecord
	reqN  int

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
	if opts.MaxRequestLog <= 0 {
		opts.MaxRequestLog = 100000
	}
	addrs := defaultPool
	if base := opts.AddressBase; base != nil {
		if b4 := base.To4(); b4 == nil || b4[0] != 127 {
			return nil, fmt.Errorf("slb emulator: address base %v is not an IPv4 loopback address", base)
		}
		addrs = newAddrPool(base)
	}
	s := &Server{
		opts:      opts,
		now:       opts.Now,
		faults:    opts.Faults,
		accounts:  map[string]Account{},
		instances: map[string]ECSInstance{},
		regions:   map[string]*region{},
		lbs:       map[string]*loadBalancer{},
		addrs:     addrs,
		nonces:    map[string]time.Time{},
	}
	if s.faults == nil {
		s.faults = faults.New(1)
	}
	for _, a := range opts.Accounts {
		if a.AccessKeyID == "" || a.AccessKeySecret == "" {
			return nil, errors.New("slb emulator: account with an empty AccessKeyId or secret")
		}
		s.accounts[a.AccessKeyID] = a
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
func (s *Server) Faults() *faults.Injector { return s.faults }

// Close stops every frontend and backend stand-in. The API keeps answering.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		for _, lb := range s.lbs {
			s.addrs.release(lb.Address, lb.marker)
		}
	}
	s.closed = true
	s.mu.Unlock()
	return s.front.closeAll()
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []RequestRecord {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]RequestRecord(nil), s.log...)
}

// apiError is an error answer of the service.
type apiError struct {
	Status  int
	Code    string
	Message string
}

// Error renders the code and message.
func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func missing(name string) *apiError {
	return errorf(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func invalid(name, why string) *apiError {
	return errorf(400, "InvalidParameter", "The specified parameter %s is not valid: %s", name, why)
}

// ServeHTTP answers one RPC call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := RequestRecord{Time: s.now(), Method: r.Method, RequestID: s.requestID()}
	defer func() { s.record(rec) }()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(405, "UnsupportedHTTPMethod", "This http method is not supported."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	if err := r.ParseForm(); err != nil {
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(400, "InvalidParameter", "The request could not be parsed."))
		return
	}
	params := make(map[string]string, len(r.Form))
	for k, v := range r.Form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	rec.Action, rec.Region, rec.AccessKeyID = params["Action"], params["RegionId"], params["AccessKeyId"]
	rec.Params = redact(params)

	if s.applyFault(w, r, &rec) {
		return
	}

	resp, aerr := s.handle(r.Method, params)
	if aerr != nil {
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, aerr)
		return
	}
	if s.applyLostAnswer(w, r, &rec) {
		return
	}
	resp["RequestId"] = rec.RequestID
	rec.Status = http.StatusOK
	writeJSON(w, http.StatusOK, resp)
}

// handle authenticates, validates the common parameters and dispatches.
func (s *Server) handle(method string, p map[string]string) (obj, *apiError) {
	if p["Action"] == "" {
		return nil, missing("Action")
	}
	if aerr := s.authenticate(method, p); aerr != nil {
		return nil, aerr
	}
	if v := p["Version"]; v == "" {
		return nil, missing("Version")
	} else if v != APIVersion {
		return nil, errorf(400, "InvalidVersion", "Specified parameter Version is not valid.")
	}
	if f := p["Format"]; f != "" && !strings.EqualFold(f, "JSON") {
		return nil, errorf(400, "InvalidParameter", "The emulator answers in JSON only (Format=%s).", f)
	}
	h, ok := actions[p["Action"]]
	if !ok {
		return nil, errorf(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
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
