package lbcore

import (
	"slices"
	"strconv"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// Product is what one emulated load balancer does differently.
type Product struct {
	// Name is the short name of error prefixes and frontend banners ("alb").
	Name string
	// API, Host, Version and RequestIDPrefix configure the RPC front (see
	// rpc.Options: Product, Host, Version, RequestIDPrefix).
	API, Host, Version, RequestIDPrefix string
	// IDPrefix starts every instance id ("alb-").
	IDPrefix string
	// DNSZone holds the instances' DNS names, <id>.<region>.<zone>.
	DNSZone string
	// Actions is the request table.
	Actions map[string]Handler
	// InstanceNotFound and ListenerNotFound are the error codes of an
	// unknown instance or listener id.
	InstanceNotFound, ListenerNotFound string
	// UDPProtocol is the protocol listening on UDP: a port is taken by a
	// listener of it or by one of the others, not both (ALB QUIC, NLB UDP);
	// PortTaken is the refusal of a port in use.
	UDPProtocol string
	PortTaken   func(port int) *rpc.Error
	// TLSProtocol is the protocol whose listeners serve TLS frontends.
	TLSProtocol string
	// CertProtocols are the protocols whose listeners carry certificates,
	// CertProtocolsText the same for error messages ("HTTPS and QUIC").
	CertProtocols     []string
	CertProtocolsText string
	// DefaultCerts is UpdateListenerAttribute's certificate parameter,
	// DefaultNoun what it holds ("default certificate").
	DefaultCerts Param
	DefaultNoun  string
	// AdditionalCerts is the parameter of the associate and dissociate actions.
	AdditionalCerts Param
	// QuotaKind names an instance in a quota refusal ("Standard edition").
	QuotaKind func(lb *Instance) string
	// InstanceView and ListenerView are an instance and a listener in
	// listings.
	InstanceView func(lb *Instance) map[string]any
	ListenerView func(l *Listener) map[string]any
	// ListenerStatusFilter: ListListeners filters by Status.
	ListenerStatusFilter bool
	// Envelope is added to every successful answer.
	Envelope map[string]any
}

// IsWrite reports whether action is in the request table and changes
// state (all but Get*/List*).
func (p *Product) IsWrite(action string) bool { return lbcert.IsWrite(p.Actions, action) }

// carriesCerts reports whether listeners of protocol carry certificates.
func (p *Product) carriesCerts(protocol string) bool {
	return slices.Contains(p.CertProtocols, protocol)
}

// noCerts is the refusal of certificates on a listener that carries none.
func (p *Product) noCerts(param string) *rpc.Error {
	return rpc.Invalid(param, "only "+p.CertProtocolsText+" listeners have certificates")
}

// Param names a repeated request parameter of certificate ids:
// Name.N.Field (ALB's Certificates.N.CertificateId) or, without a Field,
// Name.N (NLB's CertificateIds.N).
type Param struct{ Name, Field string }

// Values reads the parameter from a request.
func (p Param) Values(params map[string]string) []string {
	if p.Field == "" {
		return rpc.Repeated(params, p.Name)
	}
	return rpc.Repeated(params, p.Name, p.Field)
}

// First is the full name of the first value.
func (p Param) First() string { return p.Nth(1) }

// Nth is the full name of the n-th value (from 1).
func (p Param) Nth(n int) string {
	if p.Field == "" {
		return p.Name + "." + strconv.Itoa(n)
	}
	return p.Name + "." + strconv.Itoa(n) + "." + p.Field
}
