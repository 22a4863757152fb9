package slb

import (
	"crypto/tls"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Limits enforced by the emulator (documented CLB quotas).
const (
	MaxCertificatesPerRegion     = 100
	MaxDomainExtensionsPerListen = 3
	MaxListenersPerLoadBalancer  = 50
	MaxBackendsPerCall           = 20
	MaxTagsPerResource           = 20
)

type region struct {
	id      string
	lbs     map[string]*loadBalancer
	lbOrder []*loadBalancer
	certs   map[string]*certificate
	cOrder  []*certificate
	exts    map[string]*domainExtension
	tokens  map[string]clientToken
}

type clientToken struct {
	hash string
	lbID string
}

func newRegion(id string) *region {
	return &region{id: id, lbs: map[string]*loadBalancer{}, certs: map[string]*certificate{},
		exts: map[string]*domainExtension{}, tokens: map[string]clientToken{}}
}

type certificate struct {
	clb.ServerCertificate
	keyBits int
	tls     *tls.Certificate // chain + private key; never dumped or logged
}

type loadBalancer struct {
	clb.LoadBalancer
	seq                int
	networkType        string
	vpcID, vSwitchID   string
	internetChargeType string
	created            time.Time
	marker             net.Listener // address claim (see claimPort)
	backends           []*backend
	listeners          map[int]*listener
}

type backend struct {
	clb.Backend
	Description string
}

type listener struct {
	clb.Listener
	params map[string]string // other settings as last set, echoed by Describe
	exts   []*domainExtension
	stale  *servingSet // non-nil: frozen certificates (SetStaleFrontend)
}

type domainExtension struct {
	clb.DomainExtension
}

// servingSet is what a frontend serves: default plus per-domain certificates.
type servingSet struct {
	def *tls.Certificate
	sni []sniCert
}

type sniCert struct {
	domain string
	cert   *tls.Certificate
}

func (lb *loadBalancer) ports() []int {
	out := make([]int, 0, len(lb.listeners))
	for p := range lb.listeners {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}

// regionCode gives ids a realistic regional prefix.
func regionCode(r string) string {
	switch r {
	case "cn-zhangjiakou":
		return "8vb"
	case "cn-hangzhou":
		return "bp1"
	case "cn-shanghai":
		return "uf6"
	case "cn-beijing":
		return "2ze"
	case "cn-shenzhen":
		return "wz9"
	case "ap-southeast-1":
		return "t4n"
	}
	return "0xl"
}

func (s *Server) nextSeq() int { s.seq++; return s.seq }

// RandomAddressBase returns a random base 127.a.b.2 (tests that run in
// parallel processes use it so their frontends never collide).
func RandomAddressBase() net.IP { return loopback.RandomBase() }

func (c *call) lb(id string) (*loadBalancer, *apiError) {
	if id == "" {
		return nil, missing("LoadBalancerId")
	}
	lb, ok := c.reg.lbs[id]
	if !ok {
		return nil, errorf(400, "InvalidLoadBalancerId.NotFound", "The specified LoadBalancerId does not exist.")
	}
	return lb, nil
}

func (c *call) cert(id string) (*certificate, *apiError) {
	if id == "" {
		return nil, missing("ServerCertificateId")
	}
	cert, ok := c.reg.certs[id]
	if !ok {
		return nil, errorf(400, "ServerCertificateId.NotFound", "The specified ServerCertificateId does not exist.")
	}
	return cert, nil
}

func listenerNotFound() *apiError {
	return errorf(404, "ListenerNotFound", "The specified resource does not exist. You have not created a listener for the specified port of the load balancer.")
}

// listener finds LoadBalancerId + ListenerPort.
func (c *call) listener() (*loadBalancer, *listener, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, nil, aerr
	}
	port, aerr := c.port("ListenerPort", true)
	if aerr != nil {
		return nil, nil, aerr
	}
	l, ok := lb.listeners[port]
	if !ok {
		return nil, nil, listenerNotFound()
	}
	if pr := c.p["ListenerProtocol"]; pr != "" && !strings.EqualFold(pr, l.Protocol) {
		return nil, nil, listenerNotFound()
	}
	return lb, l, nil
}

func (c *call) port(name string, required bool) (int, *apiError) {
	v, ok := c.p[name]
	if !ok || v == "" {
		if required {
			return 0, missing(name)
		}
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return 0, errorf(400, "InvalidParameter", "The specified port is not valid (%s=%s).", name, v)
	}
	return n, nil
}

// intParam parses an optional integer within [lo,hi]; def when absent.
func (c *call) intParam(name string, def, lo, hi int) (int, *apiError) {
	v := c.p[name]
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name, fmt.Sprintf("must be an integer in [%d, %d]", lo, hi))
	}
	return n, nil
}

// tagParams reads Tag.N.Key/Tag.N.Value (N from 1, gaps allowed up to 20).
func (c *call) tagParams() (map[string]string, *apiError) {
	tags := map[string]string{}
	for k, v := range c.p {
		if !strings.HasPrefix(k, "Tag.") || !strings.HasSuffix(k, ".Key") {
			continue
		}
		n := strings.TrimSuffix(strings.TrimPrefix(k, "Tag."), ".Key")
		i, err := strconv.Atoi(n)
		if err != nil || i < 1 || i > MaxTagsPerResource {
			return nil, invalid(k, "tag index must be 1-20")
		}
		if v == "" || len(v) > 128 || strings.HasPrefix(v, "aliyun") || strings.HasPrefix(v, "acs:") {
			return nil, invalid(k, "tag key must be 1-128 characters and not start with aliyun or acs:")
		}
		tags[v] = c.p["Tag."+n+".Value"]
	}
	return tags, nil
}

func tagsMatch(have, want map[string]string) bool {
	for k, v := range want {
		hv, ok := have[k]
		if !ok || (v != "" && hv != v) {
			return false
		}
	}
	return true
}

func tagList(tags map[string]string) []obj {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]obj, 0, len(keys))
	for _, k := range keys {
		out = append(out, obj{"TagKey": k, "TagValue": tags[k]})
	}
	return out
}

func copyTags(t map[string]string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func millis(t time.Time) int64 { return t.UnixMilli() }
