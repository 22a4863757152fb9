// Package acmeca is the local cloud's ACME certificate authority: Pebble
// (the ACME test server of Let's Encrypt) running in-process, over plain
// HTTP on loopback, with its validation authority resolving DNS-01
// challenges against the local cloud's authoritative DNS server
// (emulator/dns). Validation is real: a TXT record that is not served fails
// the challenge. Faults from emulator/faults apply to its endpoints (by
// action "acme:newOrder", "acme:newAccount", "acme:finalize", ...), and
// tests can make it refuse orders with a chosen ACME problem.
package acmeca

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
)

// Options configure Start.
type Options struct {
	// DNSServer is the "host:port" Pebble's validation authority queries
	// (over TCP) for DNS-01 TXT records; required.
	DNSServer string
	// Validity of issued certificates; default 90 days.
	Validity time.Duration
	// Logs receives Pebble's log (default io.Discard).
	Logs io.Writer
	// Faults to inject; nil = none.
	Faults *faults.Injector
	// EAB, when set, makes external account binding mandatory with these
	// key ids and base64url HMAC keys.
	EAB map[string]string
	// Addr to listen on; default 127.0.0.1:0.
	Addr string
}

// Problem is an ACME problem document the CA answers with instead of
// handling a request (RFC 8555 section 6.7).
type Problem struct {
	Type       string `json:"type"`   // e.g. "urn:ietf:params:acme:error:rejectedIdentifier"
	Detail     string `json:"detail"` // human-readable
	Status     int    `json:"status"`
	RetryAfter int    `json:"-"` // seconds, sent as Retry-After when > 0
}

// CA is a running local ACME CA.
type CA struct {
	ca     *ca.CAImpl
	wfe    wfe.WebFrontEndImpl
	inj    *faults.Injector
	srv    *http.Server
	url    string
	mgmt   http.Handler
	tlsPEM []byte
	client *http.Client
	mu     sync.Mutex
	orders int
	refuse map[string][]Problem // action -> queued refusals
}

// The VA reads these once, at construction: no random sleep before a
// validation, and every nonce accepted (lego retries bad nonces, but the
// local CA should not add noise). Validation itself stays on.
var envOnce sync.Once

func setPebbleEnv() {
	envOnce.Do(func() {
		for k, v := range map[string]string{"PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"} {
			if os.Getenv(k) == "" {
				os.Setenv(k, v)
			}
		}
	})
}

// Start runs a CA on loopback.
func Start(opts Options) (*CA, error) {
	if opts.DNSServer == "" {
		return nil, errors.New("acmeca: Options.DNSServer is required (the DNS server validating challenges)")
	}
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	if opts.Validity <= 0 {
		opts.Validity = 90 * 24 * time.Hour
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Faults == nil {
		opts.Faults = faults.New(1)
	}
	setPebbleEnv()
	logger := log.New(opts.Logs, "pebble ", log.LstdFlags)
	store := db.NewMemoryStore()
	profiles := map[string]ca.Profile{"default": {Description: "local cloud", ValidityPeriod: uint64(opts.Validity / time.Second)}}
	authority := ca.New(logger, store, "", "rsa", 0, 1, profiles)
	validator := va.New(logger, 0, 0, false, opts.DNSServer, store)
	for kid, key := range opts.EAB {
		if err := store.AddExternalAccountKeyByID(kid, key); err != nil {
			return nil, fmt.Errorf("acmeca: external account key %s: %w", kid, err)
		}
	}
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, len(opts.EAB) > 0, 1, 1)
	cert, certPEM, err := serverCert()
	if err != nil {
		return nil, fmt.Errorf("acmeca: server certificate: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("acmeca: listen: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	c := &CA{ca: authority, wfe: front, inj: opts.Faults, url: "https://" + ln.Addr().String(), mgmt: front.ManagementHandler(),
		refuse: map[string][]Problem{}, tlsPEM: certPEM,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	mux := http.NewServeMux()
	mux.Handle("/local/", http.StripPrefix("/local", c.mgmt))
	mux.Handle("/", c.intercept(front.Handler()))
	c.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go c.srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	return c, nil
}

// TLSCertPEM is the self-signed certificate of the ACME API's HTTPS
// server: what an ACME client must trust to talk to this CA.
func (c *CA) TLSCertPEM() []byte { return c.tlsPEM }

// HTTPClient is a client that trusts the ACME API's HTTPS server.
func (c *CA) HTTPClient() *http.Client { return c.client }

// DirectoryURL is the ACME directory, "https://127.0.0.1:PORT/dir".
func (c *CA) DirectoryURL() string { return c.url + wfe.DirectoryPath }

// RootPEM is the root certificate issued certificates chain to. It changes
// on every Start.
func (c *CA) RootPEM() []byte { return c.ca.GetRootCert(0).PEM() }

// Orders is how many new orders the CA accepted.
func (c *CA) Orders() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.orders
}

// Refuse queues a problem answer for the next request of action ("newOrder",
// "newAccount", "finalize", "challenge", ...). Several calls queue several
// refusals.
func (c *CA) Refuse(action string, p Problem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse[action] = append(c.refuse[action], p)
}

// SetRenewalInfo makes the CA's ARI answer for certPEM be ariJSON (RFC 9773
// renewalInfo object).
func (c *CA) SetRenewalInfo(ctx context.Context, certPEM []byte, ariJSON string) error {
	body, _ := json.Marshal(map[string]string{"Certificate": string(certPEM), "ARIResponse": ariJSON})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/local/set-renewal-info/", strings.NewReader(string(body)))
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("acmeca: set renewal info: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("acmeca: set renewal info: HTTP %d: %s", resp.StatusCode, msg)
	}
	return nil
}

// Close stops the server.
func (c *CA) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.srv.Shutdown(ctx); err != nil {
		return c.srv.Close()
	}
	return nil
}

// action names a request by its endpoint ("" for the directory and nonces).
func action(path string) string {
	for prefix, name := range map[string]string{
		"/sign-me-up": "newAccount", "/my-account/": "account", "/order-plz": "newOrder", "/my-order/": "order",
		"/finalize-order/": "finalize", "/authZ/": "authorization", "/chalZ/": "challenge", "/certZ/": "certificate",
		"/draft-ietf-acme-ari-03/renewalInfo/": "renewalInfo", "/revoke-cert": "revoke",
	} {
		if strings.HasPrefix(path, prefix) {
			return name
		}
	}
	return ""
}

// intercept applies refusals and faults, then counts accepted new orders.
func (c *CA) intercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		act := action(r.URL.Path)
		if act != "" && r.Method == http.MethodPost {
			if p, ok := c.takeRefusal(act); ok {
				writeProblem(w, p)
				return
			}
			if c.applyFault(w, r, act) {
				return
			}
		}
		if act == "challenge" {
			answerChallenge(next, w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if act == "newOrder" && rec.status == http.StatusCreated {
			c.mu.Lock()
			c.orders++
			c.mu.Unlock()
		}
	})
}

func (c *CA) takeRefusal(act string) (Problem, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := c.refuse[act]
	if len(q) == 0 {
		return Problem{}, false
	}
	c.refuse[act] = q[1:]
	return q[0], true
}

func (c *CA) applyFault(w http.ResponseWriter, r *http.Request, act string) bool {
	d := c.inj.Decide("acme:" + act)
	if !faults.Sleep(r.Context(), d.Delay) {
		return true
	}
	switch {
	case d.Throttle:
		writeProblem(w, Problem{Type: "urn:ietf:params:acme:error:rateLimited", Detail: "too many requests (local fault)", Status: 429, RetryAfter: 1})
	case d.ServerError:
		writeProblem(w, Problem{Type: "urn:ietf:params:acme:error:serverInternal", Detail: "internal error (local fault)", Status: 500})
	case d.Timeout:
		faults.Hold(r.Context(), 0)
		writeProblem(w, Problem{Type: "urn:ietf:params:acme:error:serverInternal", Detail: "timed out (local fault)", Status: 503})
	case d.Reset:
		if !faults.Reset(w, nil) {
			writeProblem(w, Problem{Type: "urn:ietf:params:acme:error:serverInternal", Detail: "reset (local fault)", Status: 503})
		}
	default:
		return false
	}
	return true
}

func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Status == 0 {
		p.Status = http.StatusForbidden
	}
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(p.RetryAfter))
	}
	w.WriteHeader(p.Status)
	w.Write(body)
}

// statusRecorder keeps the status of an answer.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}
