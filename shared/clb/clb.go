// Package clb is the domain model of the Classic Load Balancer (API name SLB,
// version 2014-05-15) as the rest of the product sees it: plain value types
// with no SDK dependency. The adapters in package aliyun convert the SDK's
// response structs into these types; the use cases (rotation, expiry,
// provisioning) consume them through small interfaces of their own.
package clb

import (
	"fmt"
	"time"
)

// Ownership marks on server certificates the product uploads. Cleanup only
// ever deletes a certificate that carries the tag (or, where tags are not
// returned, the name suffix pattern <name>-<yyyymmdd>-<fp8>).
const (
	OwnerTagKey   = "managed-by"
	OwnerTagValue = "slb-cert-rotator"
	// PairTagKey names the certificate pair a certificate was uploaded for
	// (value PairTagValue(name)). Two pairs whose names differ only in
	// characters SLB forbids in certificate names ("my site", "my-site")
	// share a name base; the tag keeps their cleanups apart.
	PairTagKey = "slb-cert-rotator-pair"
)

// PairTagValue is the PairTagKey value of pair name, or "" when the name
// does not fit a tag value (longer than 128 characters with the prefix).
// The "pair:" prefix keeps values clear of the forbidden "aliyun"/"acs:"
// starts; a pair name never holds "/", so never "http://" either.
func PairTagValue(name string) string {
	v := "pair:" + name
	if len(v) > 128 {
		return ""
	}
	return v
}

// ServerCertificate is a server certificate stored in one region.
type ServerCertificate struct {
	ID     string
	Name   string
	Region string
	// Fingerprint is the SHA-1 of the leaf's DER as SLB shows it: 20
	// lower-case hex bytes separated by colons.
	Fingerprint string
	CommonName  string
	// SANs are the subject alternative names SLB reports (DNS names).
	SANs       []string
	ExpireTime time.Time
	CreateTime time.Time
	Tags       map[string]string
}

// Domains returns the certificate's DNS names: the SANs, or the common name
// when there are none (the same rule browsers apply).
func (c ServerCertificate) Domains() []string {
	if len(c.SANs) > 0 {
		return c.SANs
	}
	if c.CommonName != "" {
		return []string{c.CommonName}
	}
	return nil
}

// Ours reports whether the product created the certificate.
func (c ServerCertificate) Ours() bool { return c.Tags[OwnerTagKey] == OwnerTagValue }

// LoadBalancer is one CLB instance.
type LoadBalancer struct {
	ID          string
	Name        string
	Region      string
	Address     string // the VIP; the TLS probe dials Address:ListenerPort
	AddressType string // internet | intranet
	Status      string // active | inactive | locked
	Spec        string // e.g. slb.s1.small
	PayType     string // PayOnDemand | PrePay
	MasterZone  string
	SlaveZone   string
	Bandwidth   int
	Tags        map[string]string
}

// LoadBalancerSpec is a load balancer to create: what CreateLoadBalancer
// sends (the service chooses ID, address and status).
type LoadBalancerSpec struct {
	Name        string
	AddressType string // internet | intranet
	Spec        string // e.g. slb.s1.small
	PayType     string // PayOnDemand
	MasterZone  string
	SlaveZone   string
	Bandwidth   int // 0 = not sent
	Tags        map[string]string
}

// Backend is one backend server attached to a load balancer.
type Backend struct {
	ServerID string
	Weight   int
	Type     string // ecs (default) | eni
}

// Listener is an HTTPS listener (other protocols are not the product's
// business and are filtered out by the adapters).
type Listener struct {
	Region              string
	LoadBalancerID      string
	Port                int
	Protocol            string // https
	Status              string // running | stopped | starting | configuring
	BackendPort         int
	Bandwidth           int
	ServerCertificateID string
	HealthCheck         string // on | off
	StickySession       string // on | off
	Description         string
}

// DomainExtension is an SNI certificate on an HTTPS listener.
type DomainExtension struct {
	ID                  string
	Region              string
	LoadBalancerID      string
	ListenerPort        int
	Domain              string
	ServerCertificateID string
}

// The values of Target.Type: the load-balancer products ("" is ProductCLB).
const (
	ProductCLB = "clb"
	ProductALB = "alb"
	ProductNLB = "nlb"
)

// Target names one place that serves a certificate: a listener's default
// certificate (Domain empty) or one of its domain extensions. Type, when
// set to "alb" or "nlb", names a listener of that product (deploy.yaml's
// type; "" and "clb" are a Classic Load Balancer), ListenerID such a
// listener by id, and Additional an SNI (additional) certificate.
type Target struct {
	Type           string `json:"type,omitempty" yaml:"type,omitempty"`
	Region         string `json:"region" yaml:"region"`
	LoadBalancerID string `json:"loadBalancerId" yaml:"loadBalancerId"`
	ListenerPort   int    `json:"listenerPort,omitempty" yaml:"listenerPort,omitempty"`
	ListenerID     string `json:"listenerId,omitempty" yaml:"listenerId,omitempty"`
	Domain         string `json:"domain,omitempty" yaml:"domain,omitempty"`
	Additional     bool   `json:"additional,omitempty" yaml:"additional,omitempty"`
}

// String renders the target the way error messages and logs name it.
func (t Target) String() string {
	s := fmt.Sprintf("%s/%s:%d", t.Region, t.LoadBalancerID, t.ListenerPort)
	if t.ListenerID != "" {
		s = fmt.Sprintf("%s/%s/%s", t.Region, t.LoadBalancerID, t.ListenerID)
		if t.ListenerPort != 0 {
			s += fmt.Sprintf(":%d", t.ListenerPort)
		}
	}
	if t.Type != "" && t.Type != ProductCLB {
		s = t.Type + " " + s
	}
	if t.Domain != "" {
		s += " (SNI " + t.Domain + ")"
	}
	return s
}
