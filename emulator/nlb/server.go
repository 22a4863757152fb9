package nlb

import (
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcore"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// APIVersion is the only NLB API version the emulator serves.
const APIVersion = "2022-04-30"

// DNSZone holds every instance's DNS name, <id>.<region>.nlb.aliyuncsslb.com.
const DNSZone = "nlb.aliyuncsslb.com"

// DefaultConfiguringDuration is how long a write keeps a listener
// Configuring when Options.ConfiguringDuration is zero.
const DefaultConfiguringDuration = lbcore.DefaultConfiguringDuration

// DefaultQuota is the number of additional certificates per instance (the
// default certificates not counted).
const DefaultQuota = 25

// DefaultRegions are served when Options.Regions is empty.
var DefaultRegions = lbcore.DefaultRegions

// Options configure a Server; Quota overrides DefaultQuota (Quotas is not
// used: NLB has no editions).
type Options = lbcore.Options

// Server is the emulated NLB: the load-balancer core of emulator/lbcore
// with NLB's request table. It is an http.Handler and safe for concurrent
// use.
type Server struct{ *lbcore.Server }

// State is the JSON-able snapshot of the emulator.
type State = lbcert.State

type obj = map[string]any

// actions is NLB's request table: the core's actions and these.
var actions = lbcore.Actions(map[string]lbcore.Handler{
	"CreateLoadBalancer":   createLoadBalancer,
	"CreateListener":       createListener,
	"GetListenerAttribute": getListenerAttribute,
	"DisassociateAdditionalCertificatesWithListener": lbcore.Dissociate("DisassociateAdditionalCertificatesWithListener", "Disassociate"),
	"ListListenerCertificates":                       listListenerCertificates,
	"GetJobStatus":                                   getJobStatus,
})

// product is what NLB does differently from ALB.
var product = &lbcore.Product{
	Name: "nlb", API: "Nlb", Host: "nlb.aliyuncs.com", Version: APIVersion, RequestIDPrefix: "0E1B0C47",
	IDPrefix: "nlb-", DNSZone: DNSZone, Actions: actions,
	InstanceNotFound: "ResourceNotFound.loadBalancer", ListenerNotFound: "ResourceNotFound.listener",
	UDPProtocol: "UDP", PortTaken: func(port int) *rpc.Error {
		return rpc.Errorf(400, "Conflict.Port", "The listener port %d is already used.", port)
	},
	TLSProtocol: "TCPSSL", CertProtocols: []string{"TCPSSL"}, CertProtocolsText: "TCPSSL",
	DefaultCerts: lbcore.Param{Name: "CertificateIds"}, DefaultNoun: "server certificate",
	AdditionalCerts: lbcore.Param{Name: "AdditionalCertificateIds"},
	QuotaKind:       func(*lbcore.Instance) string { return "NLB instance" },
	InstanceView:    instanceView, ListenerView: listenerView,
	// NLB answers carry the gateway's success envelope.
	Envelope: map[string]any{"Success": true, "HttpStatusCode": 200, "Code": "200"},
}

// New builds a server.
func New(opts Options) (*Server, error) {
	if opts.Quota <= 0 {
		opts.Quota = DefaultQuota
	}
	opts.Quotas = nil
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
