package alb

import (
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcore"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// APIVersion is the only ALB API version the emulator serves.
const APIVersion = "2020-06-16"

// DNSZone holds every instance's DNS name, <id>.<region>.alb.aliyuncs.com.
const DNSZone = "alb.aliyuncs.com"

// DefaultConfiguringDuration is how long a write keeps a listener
// Configuring when Options.ConfiguringDuration is zero.
const DefaultConfiguringDuration = lbcore.DefaultConfiguringDuration

// Editions and their default quotas of additional certificates per
// instance (adjustable up to 150 and 300 in the console).
var DefaultQuotas = map[string]int{"Basic": 10, "Standard": 25, "StandardWithWaf": 25}

// DefaultRegions are served when Options.Regions is empty.
var DefaultRegions = lbcore.DefaultRegions

// Options configure a Server; Quotas override DefaultQuotas by edition
// (Quota is not used: every edition has a quota).
type Options = lbcore.Options

// Server is the emulated ALB: the load-balancer core of emulator/lbcore
// with ALB's request table. It is an http.Handler and safe for concurrent
// use.
type Server struct{ *lbcore.Server }

// State is the JSON-able snapshot of the emulator.
type State = lbcert.State

type obj = map[string]any

// actions is ALB's request table: the core's actions and these.
var actions = lbcore.Actions(map[string]lbcore.Handler{
	"CreateLoadBalancer":                           createLoadBalancer,
	"CreateListener":                               createListener,
	"GetListenerAttribute":                         getListenerAttribute,
	"DissociateAdditionalCertificatesFromListener": lbcore.Dissociate("DissociateAdditionalCertificatesFromListener", "Dissociate"),
	"ListListenerCertificates":                     listListenerCertificates,
	"ListAsynJobs":                                 listAsynJobs,
})

// product is what ALB does differently from NLB.
var product = &lbcore.Product{
	Name: "alb", API: "Alb", Host: "alb.aliyuncs.com", Version: APIVersion, RequestIDPrefix: "A1B0C047",
	IDPrefix: "alb-", DNSZone: DNSZone, Actions: actions,
	InstanceNotFound: "ResourceNotFound.LoadBalancer", ListenerNotFound: "ResourceNotFound.Listener",
	UDPProtocol: "QUIC", PortTaken: func(port int) *rpc.Error {
		return rpc.Errorf(400, "ResourceAlreadyExist.Listener", "The listener port %d already exists.", port)
	},
	TLSProtocol: "HTTPS", CertProtocols: []string{"HTTPS", "QUIC"}, CertProtocolsText: "HTTPS and QUIC",
	DefaultCerts: lbcore.Param{Name: "Certificates", Field: "CertificateId"}, DefaultNoun: "default certificate",
	AdditionalCerts: lbcore.Param{Name: "Certificates", Field: "CertificateId"},
	QuotaKind:       func(lb *lbcore.Instance) string { return lb.Edition + " edition" },
	InstanceView:    instanceView, ListenerView: listenerView, ListenerStatusFilter: true,
}

// New builds a server.
func New(opts Options) (*Server, error) {
	q := map[string]int{}
	for k, v := range DefaultQuotas {
		q[k] = v
	}
	for k, v := range opts.Quotas {
		q[k] = v
	}
	opts.Quotas = q
	s, err := lbcore.New(product, opts)
	if err != nil {
		return nil, err
	}
	return &Server{s}, nil
}

// Actions lists the actions the emulator implements, sorted.
func Actions() []string { return lbcore.Names(actions) }

// IsWrite reports whether action changes state (all but Get*/List*).
func IsWrite(action string) bool { return product.IsWrite(action) }
