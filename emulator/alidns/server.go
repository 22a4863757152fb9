// Package alidns emulates the subset of Alibaba Cloud DNS's RPC API
// (version 2015-01-09) the product uses: DescribeDomains, AddDomain,
// AddDomainRecord, DeleteDomainRecord, DescribeDomainRecords and
// DescribeSubDomainRecords. Domains are the zones of an emulator/dns Store
// and records are that store's records, so what the API writes is what the
// loopback DNS server answers. Requests go through emulator/rpc like every
// emulated RPC service: the local cloud's accounts, faults from
// emulator/faults, and errors in the shape the SDK decodes.
package alidns

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// APIVersion is the only Alidns API version served.
const APIVersion = "2015-01-09"

// Options configure a Server.
type Options struct {
	// Store holds the zones (domains) and records; required.
	Store *dns.Store
	// Accounts accepted; default rpc.DefaultAccounts() (the local cloud's keys).
	Accounts []rpc.Account
	// Faults to inject (by action name); nil = none.
	Faults *faults.Injector
	// Now is the clock of the request log; default time.Now.
	Now func() time.Time
}

// Server is the emulated Alidns API, an http.Handler safe for concurrent use.
type Server struct {
	store *dns.Store
	rpc   *rpc.Service

	mu sync.Mutex // serialises the actions (duplicate checks and adds are atomic)
}

// New returns a server over opts.Store.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("alidns emulator: Options.Store is required")
	}
	svc, err := rpc.New(rpc.Options{Product: "Alidns", Host: "alidns.aliyuncs.com", Version: APIVersion,
		Accounts: opts.Accounts, Faults: opts.Faults, Now: opts.Now, RequestIDPrefix: "A11D0C47", IsWrite: IsWrite})
	if err != nil {
		return nil, fmt.Errorf("alidns emulator: %w", err)
	}
	return &Server{store: opts.Store, rpc: svc}, nil
}

// IsWrite reports whether action changes state (all but Describe*): a
// fault rule's LostRate loses the answer of such a call after it took
// effect.
func IsWrite(action string) bool { return !strings.HasPrefix(action, "Describe") }

// Store is the record store behind the API.
func (s *Server) Store() *dns.Store { return s.store }

// AddDomain registers a domain (a zone of the store), bypassing the API.
func (s *Server) AddDomain(name string) { s.store.AddZone(name) }

// LoseAnswers makes the next n successful calls of action take effect and
// then reset the connection instead of answering: the client cannot tell
// whether the call happened (a lost answer).
func (s *Server) LoseAnswers(action string, n int) { s.rpc.LoseAnswers(action, n) }

// Requests returns a copy of the request log, oldest first (Signature and
// SecurityToken redacted).
func (s *Server) Requests() []rpc.Record { return s.rpc.Requests() }

// apiError is an error answer.
type apiError = rpc.Error

// ServeHTTP answers one RPC call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.rpc.Serve(w, r, s.handle) }
