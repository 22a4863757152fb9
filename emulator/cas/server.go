package cas

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// APIVersion is the only CAS API version the emulator serves.
const APIVersion = "2020-04-07"

// Store regions: the China site keeps every mainland certificate in
// cn-hangzhou, the international site in ap-southeast-1.
const (
	ChinaRegion = "cn-hangzhou"
	IntlRegion  = "ap-southeast-1"
)

// MaxNameLength is the longest certificate name accepted.
const MaxNameLength = 63

// StoreRegion is the CAS region a request for regionID lands in: cn-* on
// the China site (cn-hangzhou), anything else on the international site.
func StoreRegion(regionID string) string {
	if strings.HasPrefix(regionID, "cn-") {
		return ChinaRegion
	}
	return IntlRegion
}

// Options configure a Server. The zero value is usable.
type Options struct {
	Accounts      []rpc.Account
	Faults        *faults.Injector
	Now           func() time.Time
	MaxRequestLog int
	// FirstCertID is the first CertId handed out (default 24664588).
	FirstCertID int64
}

// UsageFunc lists the listeners (ids) that use a certificate identity
// "<CertId>-<region>"; ALB and NLB register one each.
type UsageFunc func(identity string) []string

// Server is the emulated CAS. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	rpc *rpc.Service
	now func() time.Time

	mu     sync.Mutex
	certs  map[int64]*Certificate
	order  []*Certificate
	names  map[string]int64 // store region + "\x00" + name
	nextID int64

	usersMu sync.Mutex
	users   []UsageFunc
}

// New builds a server.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FirstCertID <= 0 {
		opts.FirstCertID = 24664588
	}
	svc, err := rpc.New(rpc.Options{Product: "cas", Host: "cas.aliyuncs.com", Version: APIVersion, Accounts: opts.Accounts,
		Faults: opts.Faults, Now: opts.Now, MaxRequestLog: opts.MaxRequestLog, RequestIDPrefix: "CA5E0C47", IsWrite: IsWrite})
	if err != nil {
		return nil, fmt.Errorf("cas emulator: %w", err)
	}
	return &Server{rpc: svc, now: opts.Now, certs: map[int64]*Certificate{}, names: map[string]int64{}, nextID: opts.FirstCertID}, nil
}

// Faults returns the fault injector (never nil).
func (s *Server) Faults() *faults.Injector { return s.rpc.Faults() }

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []rpc.Record { return s.rpc.Requests() }

// AddUser registers a usage check consulted by DeleteUserCertificate.
func (s *Server) AddUser(f UsageFunc) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	s.users = append(s.users, f)
}

// ServeHTTP answers one RPC call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.rpc.Serve(w, r, s.handle) }

type handler func(s *Server, region string, p map[string]string, now time.Time) (map[string]any, *rpc.Error)

var actions = map[string]handler{
	"UploadUserCertificate":    uploadUserCertificate,
	"DeleteUserCertificate":    deleteUserCertificate,
	"GetUserCertificateDetail": getUserCertificateDetail,
	"ListUserCertificateOrder": listUserCertificateOrder,
}

// IsWrite reports whether action changes state (upload and delete).
func IsWrite(action string) bool {
	return action == "UploadUserCertificate" || action == "DeleteUserCertificate"
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

func (s *Server) handle(_ string, p map[string]string) (map[string]any, *rpc.Error) {
	h, ok := actions[p["Action"]]
	if !ok {
		return nil, rpc.UnknownAction()
	}
	if p["RegionId"] == "" {
		return nil, rpc.Missing("RegionId")
	}
	return h(s, StoreRegion(p["RegionId"]), p, s.now())
}

// Reason says why an identity does not resolve.
type Reason int

// Reasons of Resolve.
const (
	Found     Reason = iota
	BareID           // a numeric CertId without its -<region> suffix
	Malformed        // not <CertId>-<region>
	NotFound         // well formed, no such certificate in that region
)

// Resolve looks up a certificate the way a load balancer references it,
// "<CertId>-<casRegion>".
func (s *Server) Resolve(identity string) (*Certificate, Reason) {
	id, region, ok := strings.Cut(identity, "-")
	n, err := strconv.ParseInt(id, 10, 64)
	switch {
	case err == nil && !ok:
		return nil, BareID
	case err != nil || region == "":
		return nil, Malformed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, found := s.certs[n]
	if !found || c.Region != region {
		return nil, NotFound
	}
	return c, Found
}

// Certificate is one uploaded certificate. Its fields are read-only after
// upload; TLS holds the private key and is never dumped.
type Certificate struct {
	ID          int64     `json:"id"`
	Identifier  string    `json:"identifier"`
	Name        string    `json:"name"`
	Region      string    `json:"region"`
	CommonName  string    `json:"common_name"`
	SANs        []string  `json:"sans"`
	Issuer      string    `json:"issuer"`
	SerialNo    string    `json:"serial_no"`
	Fingerprint string    `json:"fingerprint"` // SHA-1, upper-case hex
	Sha2        string    `json:"sha2"`        // SHA-256, upper-case hex
	Algorithm   string    `json:"algorithm"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	Uploaded    time.Time `json:"uploaded"`

	TLS     *tls.Certificate `json:"-"`
	certPEM string
	keyPEM  string
}

// Dump returns a copy of every certificate, oldest first (no keys).
func (s *Server) Dump() []Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Certificate, 0, len(s.order))
	for _, c := range s.order {
		cc := *c
		cc.SANs = append([]string(nil), c.SANs...)
		cc.TLS, cc.certPEM, cc.keyPEM = nil, "", ""
		out = append(out, cc)
	}
	return out
}

// Seed uploads a certificate without the API (same rules) and returns its
// identity "<CertId>-<casRegion>". regionID is a request region.
func (s *Server) Seed(regionID, name, certPEM, keyPEM string) (string, error) {
	c, aerr := s.upload(StoreRegion(regionID), name, certPEM, keyPEM, s.now())
	if aerr != nil {
		return "", fmt.Errorf("cas emulator: seed %q: %w", name, aerr)
	}
	return c.Identifier, nil
}
