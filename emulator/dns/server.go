package dns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
)

// NameserverLabel is the first label of the one nameserver each zone
// names in its NS and SOA answers ("ns1.<zone>"); its A record is the
// server's own address.
const NameserverLabel = "ns1"

// Server answers queries from a Store over UDP and TCP on one loopback
// port.
type Server struct {
	store *Store
	addr  string
	ip    netip.Addr
	udp   *mdns.Server
	tcp   *mdns.Server
	once  sync.Once
}

// Listen starts a server for store on addr ("" = 127.0.0.1 on a free
// port), UDP and TCP on the same port. It returns once both listen.
func Listen(store *Store, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var lastErr error
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, fmt.Errorf("dns: listen udp %s: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil { // the port is taken for TCP: try another free one
			pc.Close()
			lastErr = err
			continue
		}
		return serve(store, pc, ln)
	}
	return nil, fmt.Errorf("dns: listen tcp %s: %w", addr, lastErr)
}

func serve(store *Store, pc net.PacketConn, ln net.Listener) (*Server, error) {
	ap, err := netip.ParseAddrPort(pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		ln.Close()
		return nil, fmt.Errorf("dns: local address: %w", err)
	}
	s := &Server{store: store, addr: ap.String(), ip: ap.Addr().Unmap()}
	h := mdns.HandlerFunc(s.serveDNS)
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	s.udp = &mdns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: notify}
	s.tcp = &mdns.Server{Listener: ln, Handler: h, NotifyStartedFunc: notify, ReadTimeout: 10 * time.Second}
	go s.udp.ActivateAndServe()
	go s.tcp.ActivateAndServe()
	<-started
	<-started
	return s, nil
}

// Addr is "127.0.0.1:PORT", the same port for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Store is the store the server answers from.
func (s *Server) Store() *Store { return s.store }

// Close stops both listeners.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() { err = errors.Join(s.udp.Shutdown(), s.tcp.Shutdown()) })
	return err
}

func (s *Server) serveDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	m := s.answer(req)
	if w.LocalAddr().Network() == "udp" {
		m.Truncate(udpSize(req))
	}
	w.WriteMsg(m)
}

func udpSize(req *mdns.Msg) int {
	if o := req.IsEdns0(); o != nil {
		return int(o.UDPSize())
	}
	return mdns.MinMsgSize
}

// answer builds the reply to req (pure apart from reading the store).
func (s *Server) answer(req *mdns.Msg) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(req)
	if req.Opcode != mdns.OpcodeQuery {
		m.SetRcode(req, mdns.RcodeNotImplemented)
		return m
	}
	if len(req.Question) != 1 {
		m.SetRcode(req, mdns.RcodeFormatError)
		return m
	}
	q := req.Question[0]
	name := Canonical(q.Name)
	zone := s.store.ZoneOf(name)
	if zone == "" || q.Qclass != mdns.ClassINET {
		m.SetRcode(req, mdns.RcodeRefused)
		return m
	}
	m.Authoritative = true
	ns := NameserverLabel + "." + zone
	exists, serial := s.store.exists(name, zone)
	if name == ns {
		exists = true
	}
	if !exists {
		m.SetRcode(req, mdns.RcodeNameError)
		m.Ns = []mdns.RR{s.soa(zone, serial)}
		return m
	}
	m.Answer = s.records(name, zone, serial, q.Qtype)
	if len(m.Answer) == 0 {
		m.Ns = []mdns.RR{s.soa(zone, serial)}
	}
	return m
}

func (s *Server) records(name, zone string, serial uint32, qtype uint16) []mdns.RR {
	var out []mdns.RR
	switch qtype {
	case mdns.TypeSOA:
		if name == zone {
			out = append(out, s.soa(zone, serial))
		}
	case mdns.TypeNS:
		if name == zone {
			out = append(out, &mdns.NS{Hdr: header(zone, mdns.TypeNS, DefaultTTL), Ns: mdns.Fqdn(NameserverLabel + "." + zone)})
		}
	case mdns.TypeA:
		if name == NameserverLabel+"."+zone && s.ip.Is4() {
			out = append(out, &mdns.A{Hdr: header(name, mdns.TypeA, DefaultTTL), A: net.IP(s.ip.AsSlice())})
		}
		for _, r := range s.store.Lookup(name, TypeA) {
			out = append(out, &mdns.A{Hdr: header(name, mdns.TypeA, r.TTL), A: net.ParseIP(r.Value).To4()})
		}
	case mdns.TypeTXT:
		for _, r := range s.store.Lookup(name, TypeTXT) {
			out = append(out, &mdns.TXT{Hdr: header(name, mdns.TypeTXT, r.TTL), Txt: split255(r.Value)})
		}
	}
	return out
}

func (s *Server) soa(zone string, serial uint32) mdns.RR {
	return &mdns.SOA{
		Hdr: header(zone, mdns.TypeSOA, DefaultTTL), Ns: mdns.Fqdn(NameserverLabel + "." + zone),
		Mbox: mdns.Fqdn("hostmaster." + zone), Serial: serial,
		Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60,
	}
}

func header(name string, t uint16, ttl uint32) mdns.RR_Header {
	return mdns.RR_Header{Name: mdns.Fqdn(name), Rrtype: t, Class: mdns.ClassINET, Ttl: ttl}
}

// split255 cuts a TXT value into character-strings of at most 255 bytes.
func split255(v string) []string {
	if v == "" {
		return []string{""}
	}
	var out []string
	for len(v) > 255 {
		out = append(out, v[:255])
		v = v[255:]
	}
	return append(out, v)
}
