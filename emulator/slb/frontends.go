package slb

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

type frontendKey struct {
	lbID string
	port int
}

type frontend struct {
	addr string
	srv  *http.Server
}

type standIn struct {
	url *url.URL
	srv *http.Server
}

// frontends owns the live TLS listeners and the backend stand-ins. Lock
// order: frontends.mu before Server.mu, never the other way round.
type frontends struct {
	s        *Server
	mu       sync.Mutex
	open     map[frontendKey]*frontend
	backends map[string]*standIn
	closed   bool
	rr       map[string]int
	tr       *http.Transport
	errLog   *log.Logger
}

func newFrontends(s *Server) *frontends {
	return &frontends{s: s, open: map[frontendKey]*frontend{}, backends: map[string]*standIn{},
		rr: map[string]int{}, tr: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4},
		errLog: log.New(io.Discard, "", 0)}
}

// scheduleFrontend asks for the frontend of l to be reconciled with the
// state once the API lock is released.
func (s *Server) scheduleFrontend(c *call, lb *loadBalancer, l *listener, _ bool) {
	if s.opts.NoFrontends {
		return
	}
	key := frontendKey{lb.ID, l.Port}
	c.after = append(c.after, func() *apiError { return s.front.reconcile(key) })
}

// reconcile opens or closes the frontend of key to match the API state.
func (f *frontends) reconcile(key frontendKey) *apiError {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.s.mu.Lock()
	want, addr := false, ""
	if lb, ok := f.s.lbs[key.lbID]; ok && !f.s.closed {
		if l, ok := lb.listeners[key.port]; ok && l.Status == "running" {
			want, addr = true, net.JoinHostPort(lb.Address, strconv.Itoa(key.port))
		}
	}
	f.s.mu.Unlock()
	fe, have := f.open[key]
	switch {
	case want && !have:
		fe, err := f.listen(key, addr)
		if err != nil {
			f.s.mu.Lock()
			if lb, ok := f.s.lbs[key.lbID]; ok {
				if l, ok := lb.listeners[key.port]; ok {
					l.Status = "stopped"
				}
			}
			f.s.mu.Unlock()
			return errorf(500, "InternalError", "The listener could not start: %v", err)
		}
		f.open[key] = fe
	case !want && have:
		_ = fe.srv.Close()
		delete(f.open, key)
	}
	return nil
}

func (f *frontends) listen(key frontendKey, addr string) (*frontend, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return f.s.serving(key, h.ServerName)
		},
	}
	srv := &http.Server{Handler: f.proxy(key), TLSConfig: cfg, ErrorLog: f.errLog}
	go func() { _ = srv.Serve(tls.NewListener(ln, cfg)) }()
	return &frontend{addr: addr, srv: srv}, nil
}

// serving picks the certificate for one handshake from the current state
// (or the frozen set of a stale frontend): exact SNI, then wildcard, then
// the listener's default certificate.
func (s *Server) serving(key frontendKey, sni string) (*tls.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, ok := s.lbs[key.lbID]
	if !ok {
		return nil, errors.New("load balancer gone")
	}
	l, ok := lb.listeners[key.port]
	if !ok {
		return nil, errors.New("listener gone")
	}
	set := l.stale
	if set == nil {
		set = s.currentSet(l)
	}
	if cert := set.match(sni); cert != nil {
		return cert, nil
	}
	return nil, errors.New("no certificate")
}

func (s *Server) currentSet(l *listener) *servingSet {
	reg := s.regions[l.Region]
	set := &servingSet{}
	if c, ok := reg.certs[l.ServerCertificateID]; ok {
		set.def = c.tls
	}
	for _, e := range l.exts {
		if c, ok := reg.certs[e.ServerCertificateID]; ok {
			set.sni = append(set.sni, sniCert{domain: e.Domain, cert: c.tls})
		}
	}
	return set
}

func (set *servingSet) match(sni string) *tls.Certificate {
	sni = strings.ToLower(strings.TrimSuffix(sni, "."))
	if sni != "" {
		for _, e := range set.sni {
			if e.domain == sni {
				return e.cert
			}
		}
		if i := strings.IndexByte(sni, '.'); i > 0 {
			wild := "*" + sni[i:]
			for _, e := range set.sni {
				if e.domain == wild {
					return e.cert
				}
			}
		}
	}
	return set.def
}

// SetStaleFrontend freezes (stale=true) or releases the certificates the
// frontend of lbID:port serves: while frozen it keeps serving what it served
// at the call, whatever the API switches (to prove rollback). Unknown
// listeners are ignored.
func (s *Server) SetStaleFrontend(lbID string, port int, stale bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, ok := s.lbs[lbID]
	if !ok {
		return
	}
	l, ok := lb.listeners[port]
	if !ok {
		return
	}
	if !stale {
		l.stale = nil
	} else if l.stale == nil {
		l.stale = s.currentSet(l)
	}
}

// proxy forwards plain HTTP to the stand-ins of the weighted backends.
func (f *frontends) proxy(key frontendKey) http.Handler {
	rp := &httputil.ReverseProxy{
		Transport: f.tr,
		ErrorLog:  f.errLog,
		Rewrite: func(pr *httputil.ProxyRequest) {
			target := pr.In.Context().Value(targetKey{}).(*url.URL)
			pr.SetURL(target)
			pr.SetXForwarded()
			pr.Out.Header.Set("X-Forwarded-Proto", "https")
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := f.pickBackend(key.lbID)
		if id == "" {
			http.Error(w, "503 no healthy backend", http.StatusServiceUnavailable)
			return
		}
		u, err := f.standIn(id)
		if err != nil {
			http.Error(w, "502 backend stand-in: "+err.Error(), http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r.WithContext(contextWithTarget(r, u)))
	})
}

func (f *frontends) pickBackend(lbID string) string {
	f.s.mu.Lock()
	var ids []string
	if lb, ok := f.s.lbs[lbID]; ok {
		for _, b := range lb.backends {
			if b.Weight > 0 {
				ids = append(ids, b.ServerID)
			}
		}
	}
	f.s.mu.Unlock()
	if len(ids) == 0 {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.rr[lbID]
	f.rr[lbID] = n + 1
	return ids[n%len(ids)]
}

// standIn returns (starting on first use) the backend stand-in of an ECS
// instance: a plain HTTP server on 127.0.0.1 answering "backend <id>".
func (f *frontends) standIn(id string) (*url.URL, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.backends[id]; ok {
		return b.url, nil
	}
	if f.closed {
		return nil, errors.New("local cloud closed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{ErrorLog: f.errLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "backend %s\n", id)
	})}
	go func() { _ = srv.Serve(ln) }()
	b := &standIn{url: &url.URL{Scheme: "http", Host: ln.Addr().String()}, srv: srv}
	f.backends[id] = b
	return b.url, nil
}

// BackendAddr returns the address of an ECS instance's backend stand-in,
// starting it if needed.
func (s *Server) BackendAddr(instanceID string) (string, error) {
	if _, ok := s.instances[instanceID]; !ok {
		return "", fmt.Errorf("slb emulator: unknown instance %s", instanceID)
	}
	u, err := s.front.standIn(instanceID)
	if err != nil {
		return "", err
	}
	return u.Host, nil
}

// FrontendAddrs lists the addresses ("127.0.0.x:port") that are listening now.
func (s *Server) FrontendAddrs() []string {
	s.front.mu.Lock()
	defer s.front.mu.Unlock()
	out := make([]string, 0, len(s.front.open))
	for _, fe := range s.front.open {
		out = append(out, fe.addr)
	}
	return out
}

func (f *frontends) closeAll() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	var errs []error
	for k, fe := range f.open {
		errs = append(errs, fe.srv.Close())
		delete(f.open, k)
	}
	for k, b := range f.backends {
		errs = append(errs, b.srv.Close())
		delete(f.backends, k)
	}
	f.tr.CloseIdleConnections()
	return errors.Join(errs...)
}
