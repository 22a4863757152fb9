package alb

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkalb "github.com/aliyun/alibaba-cloud-sdk-go/services/alb"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/lbcert/lbcerttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/loopback"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

const hz = "cn-hangzhou"

var (
	wantCode = lbcerttest.WantCode
	must     = lbcerttest.Must
	served   = lbcerttest.Served
)

type env struct {
	t     *testing.T
	cas   *cas.Server
	alb   *Server
	clock *lbcerttest.Clock
	jobs  *faults.JobFaults
	inj   *faults.Injector
	host  string
}

func newEnv(t *testing.T, frontends bool) *env {
	t.Helper()
	clk := lbcerttest.NewClock()
	cs, err := cas.New(cas.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := loopback.NewPool(loopback.RandomBase())
	if err != nil {
		t.Fatal(err)
	}
	jf, inj := faults.NewJobFaults(1), faults.New(1)
	s, err := New(Options{CAS: cs, Now: clk.Now, Addresses: pool, NoFrontends: !frontends, JobFaults: jf, Faults: inj,
		ConfiguringDuration: 5 * time.Second})
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
	return &env{t: t, cas: cs, alb: s, clock: clk, jobs: jf, inj: inj, host: strings.TrimPrefix(hs.URL, "http://")}
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

// cert uploads a certificate for domains to CAS (China site) and returns its
// identity and the SHA-1 of its leaf.
func (e *env) cert(name string, domains ...string) (string, string) {
	e.t.Helper()
	return lbcerttest.Cert(e.t, e.cas, hz, name, domains...)
}
