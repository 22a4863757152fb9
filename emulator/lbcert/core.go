package lbcert

import (
	"crypto/tls"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// Error codes shared by ALB and NLB. IncorrectStatus.Listener is the
// documented refusal of a write while a job runs; the others are chosen
// (see the product packages' doc).
const (
	CodeListenerBusy  = "IncorrectStatus.Listener"
	CodeCertNotFound  = "ResourceNotFound.Certificate"
	CodeCertBareID    = "ResourceNotAssociated.Certificate"
	CodeAlreadyAssoc  = "ResourceAlreadyAssociated.Certificate"
	CodeNotAssociated = "ResourceNotAssociated.AdditionalCertificate"
	CodeQuota         = "QuotaExceeded.LoadBalancerCertificatesNum"
)

// Core is the state ALB and NLB share: the lock every handler runs under,
// the job table, the frontends and the listeners by id.
type Core struct {
	// Mu guards Jobs, the listeners and the product's own state.
	Mu    sync.Mutex
	Jobs  *Jobs
	Front *Frontends
	CAS   *cas.Server
	Now   func() time.Time

	listeners map[string]*Listener
}

// NewCore returns a Core resolving certificates in cs and registers it as a
// user of cs (deletes of certificates in use are refused).
func NewCore(cs *cas.Server, now func() time.Time) *Core {
	c := &Core{Jobs: NewJobs(""), Front: NewFrontends(), CAS: cs, Now: now, listeners: map[string]*Listener{}}
	cs.AddUser(c.usersOf)
	return c
}

// Register adds l (Mu held).
func (c *Core) Register(l *Listener) { c.listeners[l.ID] = l }

// usersOf lists the listeners that use a CAS identity.
func (c *Core) usersOf(identity string) []string {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	c.Jobs.Settle(c.Now())
	var out []string
	for id, l := range c.listeners {
		if l.Has(identity) {
			out = append(out, id)
		}
	}
	return out
}

// CheckCerts resolves every identity in CAS, refusing bare and unknown ids.
func (c *Core) CheckCerts(ids []string) *rpc.Error {
	for _, id := range ids {
		switch _, r := c.CAS.Resolve(id); r {
		case cas.Found:
		case cas.BareID:
			return rpc.Errorf(400, CodeCertBareID, "The certificate %s is not associated: reference a CAS certificate as <CertId>-<casRegion>, e.g. %s-%s.", id, id, cas.ChinaRegion)
		default:
			return rpc.Errorf(404, CodeCertNotFound, "The specified certificate %s is not found.", id)
		}
	}
	return nil
}

// Busy refuses a write on l while its job runs.
func Busy(l *Listener) *rpc.Error {
	if l.Busy() {
		return rpc.Errorf(400, CodeListenerBusy, "The status of %s [%s] is incorrect.", l.ID, l.Status)
	}
	return nil
}

// pick serves one handshake on the frontend of listener id.
func (c *Core) pick(id, sni string) (*tls.Certificate, error) {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	c.Jobs.Settle(c.Now())
	l, ok := c.listeners[id]
	if !ok {
		return nil, errors.New("listener gone")
	}
	defID, extraIDs := l.Serving()
	var def *tls.Certificate
	if cert, r := c.CAS.Resolve(defID); r == cas.Found {
		def = cert.TLS
	}
	var extra []*tls.Certificate
	for _, x := range extraIDs {
		if cert, r := c.CAS.Resolve(x); r == cas.Found {
			extra = append(extra, cert.TLS)
		}
	}
	if got := Select(sni, def, extra); got != nil {
		return got, nil
	}
	return nil, errors.New("no certificate")
}

// OpenFrontend serves listener id's certificates on addr (Mu not held).
func (c *Core) OpenFrontend(id, addr, banner string) *rpc.Error {
	if err := c.Front.Open(id, addr, banner, func(sni string) (*tls.Certificate, error) { return c.pick(id, sni) }); err != nil {
		return rpc.Errorf(500, "InternalError", "The listener could not start: %v", err)
	}
	return nil
}

// Run settles due jobs, runs h under Mu, then the work h left for after
// the lock (frontends).
func (c *Core) Run(h func(now time.Time) (map[string]any, []func() *rpc.Error, *rpc.Error)) (map[string]any, *rpc.Error) {
	now := c.Now()
	c.Mu.Lock()
	c.Jobs.Settle(now)
	resp, after, aerr := h(now)
	c.Mu.Unlock()
	for _, f := range after {
		if e := f(); e != nil && aerr == nil {
			aerr = e
		}
	}
	return resp, aerr
}

// DryRun is the answer to a valid request with DryRun=true (aerr: the
// DryRun parameter was not a boolean).
func DryRun(aerr *rpc.Error) *rpc.Error {
	if aerr != nil {
		return aerr
	}
	return rpc.Errorf(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.")
}

// Quota refuses adding n additional certificates to an instance holding
// have when its quota is max.
func Quota(lbID, kind string, have, n, max int) *rpc.Error {
	if have+n > max {
		return rpc.Errorf(400, CodeQuota, "The number of additional certificates of %s (%s) would exceed the quota %d.", lbID, kind, max)
	}
	return nil
}

// Allocate hands out a loopback address for an instance and, with a DNS
// store, publishes host's A record pointing at it.
func Allocate(pool *loopback.Pool, store *dns.Store, host string, claim bool) (string, net.Listener, *rpc.Error) {
	addr, marker := pool.Alloc(claim)
	if store != nil {
		if _, err := store.Add(dns.Record{Name: host, Type: dns.TypeA, Value: addr, TTL: 60}); err != nil {
			pool.Release(addr, marker)
			return "", nil, rpc.Errorf(500, "InternalError", "The DNS name %s could not be published: %v", host, err)
		}
	}
	return addr, marker, nil
}

// IsWrite reports whether action is one of actions and changes state
// (everything but Get*, List* and Describe*).
func IsWrite[H any](actions map[string]H, action string) bool {
	_, known := actions[action]
	return known && !strings.HasPrefix(action, "Get") && !strings.HasPrefix(action, "List") && !strings.HasPrefix(action, "Describe")
}

// MaxCertificatesPerCall bounds the certificates of one associate or
// dissociate call.
const MaxCertificatesPerCall = 15

// RandomID returns prefix + 20 lower-case letters and digits, as ALB and
// NLB ids look.
func RandomID(prefix string) string {
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 20)
	for i := range b {
		b[i] = alnum[rand.IntN(len(alnum))]
	}
	return prefix + string(b)
}
