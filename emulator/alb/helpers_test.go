package alb

import (
	"crypto/sha1"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	sdkalb "github.com/aliyun/alibaba-cloud-sdk-go/services/alb"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

const hz = "cn-hangzhou"

// clock is a fake clock tests advance by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	t     *testing.T
	cas   *cas.Server
	alb   *Server
	clock *clock
	jobs  *faults.JobFaults
	host  string
}

func newEnv(t *testing.T, frontends bool) *env {
	t.Helper()
	clk := &clock{t: time.Now()}
	cs, err := cas.New(cas.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := loopback.NewPool(loopback.RandomBase())
	if err != nil {
		t.Fatal(err)
	}
	jf := faults.NewJobFaults(1)
	s, err := New(Options{CAS: cs, Now: clk.Now, Addresses: pool, NoFrontends: !frontends, JobFaults: jf, ConfiguringDuration: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &env{t: t, cas: cs, alb: s, clock: clk, jobs: jf, host: strings.TrimPrefix(hs.URL, "http://")}
}

func (e *env) client(region string) *sdkalb.Client {
	e.t.Helper()
	a := rpc.DefaultAccounts()[1]
	c, err := sdkalb.NewClientWithOptions(region, sdk.NewConfig(),
		credentials.NewStaticSTSCredentialsProvider(a.AccessKeyID, a.AccessKeySecret, a.SecurityToken))
	if err != nil {
		e.t.Fatal(err)
	}
	c.Domain = e.host
	return c
}

// cert uploads a certificate for domains to CAS and returns its identity
// and the SHA-1 of its leaf.
func (e *env) cert(name string, domains ...string) (string, string) {
	e.t.Helper()
	p := certstest.SelfSigned(e.t, certstest.Options{Domains: domains, KeyType: certstest.ECDSA})
	id, err := e.cas.Seed(hz, name, string(p.CertPEM), string(p.KeyPEM))
	if err != nil {
		e.t.Fatal(err)
	}
	sum := sha1.Sum(p.Leaf.Raw)
	return id, fmt.Sprintf("%x", sum)
}

func code(err error) string {
	if err == nil {
		return ""
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return "!other: " + err.Error()
}

func wantCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := code(err); got != want {
		t.Fatalf("code %q, want %q", got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// served dials addr with SNI and returns the SHA-1 of the leaf served.
func served(t *testing.T, addr, sni string) string {
	t.Helper()
	d := &net.Dialer{Timeout: 3 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: sni})
	if err != nil {
		t.Fatalf("handshake %s (%s): %v", addr, sni, err)
	}
	defer conn.Close()
	sum := sha1.Sum(conn.ConnectionState().PeerCertificates[0].Raw)
	return fmt.Sprintf("%x", sum)
}
