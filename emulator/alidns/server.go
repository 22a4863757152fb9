// Package alidns emulates the subset of Alibaba Cloud DNS's RPC API
// (version 2015-01-09) the product uses: DescribeDomains, AddDomain,
// AddDomainRecord, DeleteDomainRecord, DescribeDomainRecords and
// DescribeSubDomainRecords. Domains are the zones of an emulator/dns Store
// and records are that store's records, so what the API writes is what the
// loopback DNS server answers. Requests are authenticated by the SLB
// emulator's accounts (one set of keys for the local cloud), faults come
// from emulator/faults, and errors have the shape the SDK decodes.
package alidns

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
)

// APIVersion is the only Alidns API version served.
const APIVersion = "2015-01-09"

// Authenticator checks an RPC request's signature (the SLB emulator is one).
type Authenticator interface {
	Authenticate(method string, params map[string]string) *slb.RPCError
}

// Options configure a Server.
type Options struct {
	// Store holds the zones (domains) and records; required.
	Store *dns.Store
	// Auth checks signatures; required.
	Auth Authenticator
	// Faults to inject (by action name); nil = none.
	Faults *faults.Injector
	// Now is the clock of the request log; default time.Now.
	Now func() time.Time
}

// RequestRecord is one call as the emulator saw it (Signature and
// SecurityToken redacted).
type RequestRecord struct {
	Time      time.Time         `json:"time"`
	RequestID string            `json:"request_id"`
	Action    string            `json:"action"`
	Params    map[string]string `json:"params"`
	Status    int               `json:"status"`
	Code      string            `json:"code,omitempty"`
	Fault     string            `json:"fault,omitempty"`
}

// Server is the emulated Alidns API, an http.Handler safe for concurrent use.
type Server struct {
	store  *dns.Store
	auth   Authenticator
	faults *faults.Injector
	now    func() time.Time

	mu      sync.Mutex // serialises writes (duplicate checks) and guards below
	log     []RequestRecord
	reqN    int
	loseFor map[string]int // action -> answers still to lose after success
}

// New returns a server over opts.Store.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Auth == nil {
		return nil, fmt.Errorf("alidns emulator: Store and Auth are required")
	}
	if opts.Faults == nil {
		opts.Faults = faults.New(1)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{store: opts.Store, auth: opts.Auth, faults: opts.Faults, now: opts.Now, loseFor: map[string]int{}}, nil
}

// Store is the record store behind the API.
func (s *Server) Store() *dns.Store { return s.store }

// AddDomain registers a domain (a zone of the store), bypassing the API.
func (s *Server) AddDomain(name string) { s.store.AddZone(name) }

// LoseAnswers makes the next n successful calls of action take effect and
// then reset the connection instead of answering: the client cannot tell
// whether the call happened (a lost answer).
func (s *Server) LoseAnswers(action string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseFor[action] = n
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.log...)
}

// apiError is an error answer.
type apiError = slb.RPCError

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeHTTP answers one RPC call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := RequestRecord{Time: s.now(), RequestID: s.requestID()}
	defer func() { s.record(rec) }()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		rec.Status, rec.Code = writeError(w, rec.RequestID, errorf(405, "UnsupportedHTTPMethod", "This http method is not supported."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		rec.Status, rec.Code = writeError(w, rec.RequestID, errorf(400, "InvalidParameter", "The request could not be parsed."))
		return
	}
	params := make(map[string]string, len(r.Form))
	for k, v := range r.Form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	rec.Action, rec.Params = params["Action"], redact(params)
	if s.applyFault(w, r, &rec) {
		return
	}
	resp, aerr := s.handle(r.Method, params)
	if aerr != nil {
		rec.Status, rec.Code = writeError(w, rec.RequestID, aerr)
		return
	}
	if s.takeLoss(rec.Action) && faults.Reset(w) {
		rec.Fault = "answer lost"
		return
	}
	resp["RequestId"] = rec.RequestID
	rec.Status = http.StatusOK
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) takeLoss(action string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loseFor[action] > 0 {
		s.loseFor[action]--
		return true
	}
	return false
}

// applyFault answers the request with the fault the injector decides, if
// any, before the action takes effect.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, rec *RequestRecord) bool {
	d := s.faults.Decide(rec.Action)
	if !faults.Sleep(r.Context(), d.Delay) {
		rec.Status, rec.Fault = 499, "client gone during latency"
		return true
	}
	var e *apiError
	switch {
	case d.Throttle:
		rec.Fault, e = "throttle", errorf(400, "Throttling.User", "Request was denied due to user flow control.")
	case d.ServerError && d.Status == 500:
		rec.Fault, e = "5xx", errorf(500, "InternalError", "The request processing has failed due to some unknown error.")
	case d.ServerError:
		rec.Fault, e = "5xx", errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	case d.Timeout:
		faults.Hold(r.Context(), 0)
		rec.Fault, e = "timeout", errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	case d.Reset:
		rec.Fault = "reset"
		if faults.Reset(w) {
			return true
		}
		e = errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	default:
		return false
	}
	rec.Status, rec.Code = writeError(w, rec.RequestID, e)
	return true
}

func writeError(w http.ResponseWriter, requestID string, e *apiError) (int, string) {
	writeJSON(w, e.Status, map[string]any{
		"RequestId": requestID,
		"HostId":    "alidns.aliyuncs.com",
		"Code":      e.Code,
		"Message":   e.Message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + e.Code + "&product=Alidns",
	})
	return e.Status, e.Code
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = 500, []byte(`{"Code":"InternalError","Message":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) requestID() string {
	s.mu.Lock()
	s.reqN++
	n := s.reqN
	s.mu.Unlock()
	return fmt.Sprintf("A11D0C47-%04X-4%03X-8000-%012X", (n>>24)&0xffff, (n>>12)&0xfff, n)
}

func (s *Server) record(rec RequestRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) >= 100000 {
		s.log = append(s.log[:0], s.log[len(s.log)/2:]...)
	}
	s.log = append(s.log, rec)
}

func redact(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		if k == "Signature" || k == "SecurityToken" {
			v = "[redacted]"
		}
		out[k] = v
	}
	return out
}
