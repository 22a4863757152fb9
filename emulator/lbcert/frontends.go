package lbcert

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Pick returns the certificate for one handshake's SNI.
type Pick func(sni string) (*tls.Certificate, error)

// Frontends owns live TLS listeners, one per key. Safe for concurrent use.
type Frontends struct {
	mu     sync.Mutex
	open   map[string]*frontend
	closed bool
	errLog *log.Logger
}

type frontend struct {
	addr string
	srv  *http.Server
}

// NewFrontends returns an empty set.
func NewFrontends() *Frontends {
	return &Frontends{open: map[string]*frontend{}, errLog: log.New(io.Discard, "", 0)}
}

// Open starts serving TLS on addr for key (a no-op when key is open),
// answering every HTTP request with banner.
func (f *Frontends) Open(key, addr, banner string, pick Pick) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errors.New("local cloud closed")
	}
	if _, ok := f.open[key]; ok {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"},
		GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) { return pick(h.ServerName) }}
	srv := &http.Server{TLSConfig: cfg, ErrorLog: f.errLog, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, banner+"\n")
	})}
	go func() { _ = srv.Serve(tls.NewListener(ln, cfg)) }()
	f.open[key] = &frontend{addr: addr, srv: srv}
	return nil
}

// Close stops the frontend of key, if open.
func (f *Frontends) Close(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fe, ok := f.open[key]; ok {
		_ = fe.srv.Close()
		delete(f.open, key)
	}
}

// Addrs lists the addresses listening now, sorted.
func (f *Frontends) Addrs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.open))
	for _, fe := range f.open {
		out = append(out, fe.addr)
	}
	sort.Strings(out)
	return out
}

// CloseAll stops every frontend; later Opens fail.
func (f *Frontends) CloseAll() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	var errs []error
	for k, fe := range f.open {
		errs = append(errs, fe.srv.Close())
		delete(f.open, k)
	}
	return errors.Join(errs...)
}

// Select chooses by SNI among additional certificates (exact DNS name, then
// a wildcard covering it), falling back to def.
func Select(sni string, def *tls.Certificate, extra []*tls.Certificate) *tls.Certificate {
	sni = strings.ToLower(strings.TrimSuffix(sni, "."))
	if sni == "" {
		return def
	}
	wild := ""
	if i := strings.IndexByte(sni, '.'); i > 0 {
		wild = "*" + sni[i:]
	}
	for _, want := range []string{sni, wild} {
		if want == "" {
			continue
		}
		for _, c := range extra {
			if c != nil && c.Leaf != nil && coversExactly(c.Leaf.DNSNames, want) {
				return c
			}
		}
	}
	return def
}

func coversExactly(names []string, want string) bool {
	for _, n := range names {
		if strings.EqualFold(n, want) {
			return true
		}
	}
	return false
}
