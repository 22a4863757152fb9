// Package inventory is the one inventory of a region: what a load-balancer
// product serves there (its certificate store, its instances, their TLS
// listeners with the default certificate, and each listener's SNI
// certificates), read through the small Reader port (and, for a product
// whose one read of a listener tells all it holds, ListenerReader) and
// collected by one Collector that bounds and counts the calls and streams
// what it learns to its consumer as each listing answers.
//
// Two use cases consume it: the rotation (planning, cleanup's reference
// check, and the listings it re-reads under its lock) and the expiry sweep
// (the report and the probes of CLB, ALB and NLB); the sweep hands its snapshots to the
// auto-rotations it runs (see package rotation, Request.Snapshots).
package inventory

import (
	"context"
	"sort"
	"strconv"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Instance is one load balancer.
type Instance struct {
	ID string
	// Address is what a TLS handshake dials (a VIP or a DNS name).
	Address string
}

// TLSListener is one TLS-terminating listener and its default certificate.
type TLSListener struct {
	LoadBalancerID string
	Port           int
	// ID names the listener where the product does (ALB, NLB); "" on CLB,
	// whose listeners are named by load balancer and port.
	ID     string
	Status string
	// Protocol is the listener's protocol where the product names several
	// TLS ones (ALB HTTPS and QUIC, NLB TCPSSL); "" on CLB.
	Protocol string
	// CertificateID is the default certificate's id in the product's store.
	CertificateID string
}

// Key names l within its region: load balancer, port and (ALB, NLB) id.
func (l TLSListener) Key() string {
	return l.LoadBalancerID + "/" + strconv.Itoa(l.Port) + "/" + l.ID
}

// Running reports whether the listener serves (an unknown status counts).
func (l TLSListener) Running() bool { return l.Status == "" || l.Status == "running" }

// SNICertificate is one SNI certificate of a listener: a CLB domain
// extension, an ALB or NLB additional certificate.
type SNICertificate struct {
	// ID names the SNI place (a CLB domain extension id).
	ID            string
	Domain        string
	CertificateID string
	// Default marks a domain answered by the listener's default certificate
	// because no SNI certificate holds it (an ALB or NLB SNI certificate
	// superseded by a default that covers its domains): it is read back,
	// never a target.
	Default bool
}

// Statuses ALB and NLB report for a listener and for a certificate it
// holds. A Configuring listener still serves (a job runs on it).
const (
	ListenerRunning     = "Running"
	ListenerConfiguring = "Configuring"
	CertAssociated      = "Associated"
)

// HeldCertificate is one certificate a listener holds, as a product that
// attaches certificates to listeners lists them (ALB, NLB: the default and
// every additional certificate, whatever its domains).
type HeldCertificate struct {
	CertificateID string
	Default       bool
	// Status is the association's state as the product reports it
	// ("Associated", "Associating", "Dissociating"; "" when not given).
	Status string
}

// ListenerRead is what one read of a listener gave: the listener with its
// default certificate, every certificate it holds, and its SNI places.
type ListenerRead struct {
	Listener TLSListener
	Held     []HeldCertificate
	SNI      []SNICertificate
}

// ListenerReader is implemented by a Reader whose one read of a listener
// tells everything it holds (ALB, NLB: ListListenerCertificates gives the
// default and the additional certificates), while its listing may not name
// the default certificate (ALB's does not). The Collector then lists the
// listeners bare and reads each one once (ReadListener) instead of calling
// Listeners and SNI: Listeners would read each listener for its default,
// and SNI read it again.
type ListenerReader interface {
	// BareListeners lists the TLS listeners of lbIDs without reading them
	// (CertificateID set only where the listing gives it).
	BareListeners(ctx context.Context, region string, lbIDs []string) ([]TLSListener, error)
	// ReadListener reads l once. cert resolves a certificate id in the
	// product's store (the SNI places are one per domain of a certificate).
	ReadListener(ctx context.Context, region string, l TLSListener, cert func(id string) (clb.ServerCertificate, bool)) (ListenerRead, error)
}

// Reader is the read side of one load-balancer product in a region. Errors
// answer apierr. rotation.TargetPort embeds it.
type Reader interface {
	// Certificates lists the certificates of the store the product's
	// listeners reference in region.
	Certificates(ctx context.Context, region string) ([]clb.ServerCertificate, error)
	// Instances lists the region's load balancers.
	Instances(ctx context.Context, region string) ([]Instance, error)
	// Listeners lists the TLS listeners of the load balancers lbIDs; the
	// Collector asks for at most ReadBatch of them per call.
	Listeners(ctx context.Context, region string, lbIDs []string) ([]TLSListener, error)
	// SNI lists the SNI certificates of listener l.
	SNI(ctx context.Context, region string, l TLSListener) ([]SNICertificate, error)
	// ReadBatch is how many load balancers one Listeners call covers: the
	// one definition of the listing's chunking (0: any number, one call).
	ReadBatch() int
}

// Batches cuts ids into the chunks one Listeners call of r covers.
func Batches(r Reader, ids []string) [][]string {
	n := r.ReadBatch()
	if n <= 0 {
		n = len(ids)
	}
	var out [][]string
	for start := 0; start < len(ids); start += n {
		out = append(out, ids[start:min(start+n, len(ids))])
	}
	return out
}

// Parts of an inventory, as failures name them.
const (
	PartCertificates = "certificates"
	PartInstances    = "instances"
	PartListeners    = "listeners"
	PartSNI          = "sni"
)

// Failure is one listing that failed.
type Failure struct {
	Part string
	// LoadBalancerIDs are the load balancers of a failed listener batch.
	LoadBalancerIDs []string
	// Listener is the listener of a failed SNI listing.
	Listener TLSListener
	Err      error
}

// Snapshot is what one collection saw of a product in a region.
type Snapshot struct {
	Region       string
	Certificates []clb.ServerCertificate
	Instances    []Instance
	// Listeners are sorted by load balancer, port and id.
	Listeners []TLSListener
	// SNI holds, by TLSListener.Key, the SNI certificates of every listener
	// whose listing answered (a failed one is a Failure instead).
	SNI map[string][]SNICertificate
	// Held holds, by TLSListener.Key, every certificate a listener read by
	// a ListenerReader holds (nil for other readers).
	Held     map[string][]HeldCertificate
	Failures []Failure
	// UnlistedBatches and UnlistedSNI count the listings the context ended
	// before they were made.
	UnlistedBatches, UnlistedSNI int
	// Partial is set when the collection left some listeners' SNI out on
	// purpose (Handlers.WantSNI) or listed some load balancers only.
	Partial bool
}

// Failed reports whether the region could not be inventoried at all (its
// certificates or its instances could not be listed).
func (s *Snapshot) Failed() bool {
	for _, f := range s.Failures {
		if f.Part == PartCertificates || f.Part == PartInstances {
			return true
		}
	}
	return false
}

// Complete reports whether every listing of the region answered.
func (s *Snapshot) Complete() bool {
	return s != nil && len(s.Failures) == 0 && s.UnlistedBatches == 0 && s.UnlistedSNI == 0 && !s.Partial
}

// Instance finds a load balancer by id.
func (s *Snapshot) Instance(id string) (Instance, bool) {
	for _, in := range s.Instances {
		if in.ID == id {
			return in, true
		}
	}
	return Instance{}, false
}

// Certificate finds a certificate by id.
func (s *Snapshot) Certificate(id string) (clb.ServerCertificate, bool) {
	for _, c := range s.Certificates {
		if c.ID == id {
			return c, true
		}
	}
	return clb.ServerCertificate{}, false
}

// Places maps every place the snapshot saw (PlaceOfListener,
// PlaceOfSNI) to the certificate it referenced.
func (s *Snapshot) Places() map[string]string {
	out := map[string]string{}
	for _, l := range s.Listeners {
		out[PlaceOfListener(l.LoadBalancerID, l.Port)] = l.CertificateID
		for _, e := range s.SNI[l.Key()] {
			out[PlaceOfSNI(e.ID)] = e.CertificateID
		}
	}
	return out
}

// PlaceOfListener names a listener's default certificate place.
func PlaceOfListener(lbID string, port int) string { return "l/" + lbID + "/" + strconv.Itoa(port) }

// PlaceOfSNI names an SNI place.
func PlaceOfSNI(id string) string { return "e/" + id }

func sortListeners(ls []TLSListener) {
	sort.Slice(ls, func(i, j int) bool {
		a, b := ls[i], ls[j]
		if a.LoadBalancerID != b.LoadBalancerID {
			return a.LoadBalancerID < b.LoadBalancerID
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.ID < b.ID
	})
}
