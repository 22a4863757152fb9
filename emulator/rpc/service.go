package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
)

// Error is an error answer of a service.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error renders the code and message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Missing is the answer to a mandatory parameter left out.
func Missing(name string) *Error {
	return Errorf(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

// Invalid is the answer to a parameter with a bad value.
func Invalid(name, why string) *Error {
	return Errorf(400, "InvalidParameter", "The specified parameter %s is not valid: %s", name, why)
}

// Record is one API call as a service saw it. PrivateKey, Key, Signature and
// SecurityToken are redacted.
type Record struct {
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

// Dispatcher answers one authenticated call whose Action, Version and
// Format are checked: a body for the SDK's response struct (RequestId is
// added), or an error.
type Dispatcher func(method string, params map[string]string) (map[string]any, *Error)

// Options configure a Service.
type Options struct {
	// Product names the service in error bodies ("Slb", "Alb", "Nlb", "cas").
	Product string
	// Host is the HostId of error bodies ("slb.aliyuncs.com").
	Host string
	// Version is the only API version served.
	Version string
	// Accounts accepted; default DefaultAccounts().
	Accounts []Account
	// Faults to inject; nil = an empty injector.
	Faults *faults.Injector
	// Now stamps the request log; default time.Now.
	Now func() time.Time
	// MaxRequestLog bounds Requests() (oldest half dropped); default 100000.
	MaxRequestLog int
	// RequestIDPrefix is the first group of request ids (8 hex digits), so
	// two services never hand out the same id.
	RequestIDPrefix string
	// IsWrite names the actions that change state: once one has succeeded,
	// the injector's DecideAfter may lose its answer (nil: none).
	IsWrite func(action string) bool
}

// Service is the shared front of an RPC API. It is safe for concurrent use.
type Service struct {
	opts     Options
	faults   *faults.Injector
	accounts map[string]Account

	nonceMu    sync.Mutex
	nonces     map[string]time.Time
	noncePurge time.Time

	logMu   sync.Mutex
	log     []Record
	reqN    int
	loseFor map[string]int // action -> answers still to lose after success
}

// New checks the options and builds a Service.
func New(opts Options) (*Service, error) {
	if len(opts.Accounts) == 0 {
		opts.Accounts = DefaultAccounts()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxRequestLog <= 0 {
		opts.MaxRequestLog = 100000
	}
	if opts.RequestIDPrefix == "" {
		opts.RequestIDPrefix = "5E1A0C47"
	}
	if opts.Version == "" {
		return nil, errors.New("rpc: Options.Version is required")
	}
	s := &Service{opts: opts, faults: opts.Faults, accounts: map[string]Account{}, nonces: map[string]time.Time{}, loseFor: map[string]int{}}
	if s.faults == nil {
		s.faults = faults.New(1)
	}
	for _, a := range opts.Accounts {
		if a.AccessKeyID == "" || a.AccessKeySecret == "" {
			return nil, errors.New("rpc: account with an empty AccessKeyId or secret")
		}
		s.accounts[a.AccessKeyID] = a
	}
	return s, nil
}

// Faults returns the injector (never nil).
func (s *Service) Faults() *faults.Injector { return s.faults }

// Requests returns a copy of the request log, oldest first.
func (s *Service) Requests() []Record {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Record(nil), s.log...)
}

// LoseAnswers makes the next n successful calls of action take effect and
// then reset the connection instead of answering: the client cannot tell
// whether the call happened (a lost answer).
func (s *Service) LoseAnswers(action string, n int) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.loseFor[action] = n
}

func (s *Service) takeLoss(action string) bool {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if s.loseFor[action] > 0 {
		s.loseFor[action]--
		return true
	}
	return false
}

// Serve answers one RPC call: parse, log, faults, authentication, version,
// then d.
func (s *Service) Serve(w http.ResponseWriter, r *http.Request, d Dispatcher) {
	rec := &entry{Record: Record{Time: s.opts.Now(), Method: r.Method, RequestID: s.requestID()}}
	defer s.logOnce(rec)
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		rec.Status, rec.Code = s.WriteError(w, rec.RequestID, Errorf(405, "UnsupportedHTTPMethod", "This http method is not supported."))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	if err := r.ParseForm(); err != nil {
		rec.Status, rec.Code = s.WriteError(w, rec.RequestID, Errorf(400, "InvalidParameter", "The request could not be parsed."))
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

	if s.applyFault(w, r, rec) {
		return
	}
	resp, aerr := s.check(r.Method, params)
	if aerr == nil {
		resp, aerr = d(r.Method, params)
	}
	if aerr != nil {
		rec.Status, rec.Code = s.WriteError(w, rec.RequestID, aerr)
		return
	}
	if s.takeLoss(rec.Action) && faults.Reset(w, func() { rec.Fault = "answer lost"; s.logOnce(rec) }) {
		return
	}
	if s.opts.IsWrite != nil && s.opts.IsWrite(rec.Action) &&
		s.answerFault(w, r, rec, s.faults.DecideAfter(rec.Action), "lost ") {
		return
	}
	if resp == nil {
		resp = map[string]any{}
	}
	resp["RequestId"] = rec.RequestID
	rec.Status = http.StatusOK
	WriteJSON(w, http.StatusOK, resp)
}

// check validates Action, the signature, Version and Format.
func (s *Service) check(method string, p map[string]string) (map[string]any, *Error) {
	if p["Action"] == "" {
		return nil, Missing("Action")
	}
	if aerr := s.authenticate(method, p); aerr != nil {
		return nil, aerr
	}
	if v := p["Version"]; v == "" {
		return nil, Missing("Version")
	} else if v != s.opts.Version {
		return nil, Errorf(400, "InvalidVersion", "Specified parameter Version is not valid.")
	}
	if f := p["Format"]; f != "" && !strings.EqualFold(f, "JSON") {
		return nil, Errorf(400, "InvalidParameter", "The emulator answers in JSON only (Format=%s).", f)
	}
	return nil, nil
}

// UnknownAction is the answer to an action the service does not implement.
func UnknownAction() *Error {
	return Errorf(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
}

// WriteError writes e as the service's error body and returns its status
// and code for the log.
func (s *Service) WriteError(w http.ResponseWriter, requestID string, e *Error) (int, string) {
	WriteJSON(w, e.Status, map[string]any{
		"RequestId": requestID,
		"HostId":    s.opts.Host,
		"Code":      e.Code,
		"Message":   e.Message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + e.Code + "&product=" + s.opts.Product,
	})
	return e.Status, e.Code
}

// WriteJSON writes v as a JSON body with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = 500
		body = []byte(`{"Code":"InternalError","Message":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Service) requestID() string {
	s.logMu.Lock()
	s.reqN++
	n := s.reqN
	s.logMu.Unlock()
	return fmt.Sprintf("%s-%04X-4%03X-8000-%012X", s.opts.RequestIDPrefix, (n>>24)&0xffff, (n>>12)&0xfff, n)
}

// entry is the record of one call being served; logged says it is in the
// log already (a reset logs it before the connection closes).
type entry struct {
	Record
	logged bool
}

// logOnce appends e to the log unless it is there already.
func (s *Service) logOnce(e *entry) {
	if e.logged {
		return
	}
	e.logged = true
	s.record(e.Record)
}

func (s *Service) record(rec Record) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(s.log) >= s.opts.MaxRequestLog {
		s.log = append(s.log[:0], s.log[len(s.log)/2:]...)
	}
	s.log = append(s.log, rec)
}

var redactedParams = map[string]bool{"PrivateKey": true, "Key": true, "Signature": true, "SecurityToken": true,
	"EncryptPrivateKey": true, "SignPrivateKey": true}

func redact(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		if redactedParams[k] {
			v = "[redacted]"
		}
		out[k] = v
	}
	return out
}
