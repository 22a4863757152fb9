package emulator

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/alb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/cas"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/nlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
)

// startLB starts CAS, ALB and NLB on their own 127.0.0.1 ports and the DNS
// server that resolves the load balancers' names to their loopback
// addresses. On error everything it started is closed.
func (c *Cloud) startLB(opts Options, inj *faults.Injector) (err error) {
	c.JobFaults = faults.NewJobFaults(opts.Seed)
	if c.DNS == nil {
		if c.DNS, err = dns.Listen(dns.NewStore(), ""); err != nil {
			return fmt.Errorf("emulator: dns: %w", err)
		}
		c.ownDNS = true
	}
	defer func() {
		if err != nil {
			c.closeLB()
		}
	}()
	store := c.DNS.Store()
	regions := opts.Regions
	if len(regions) == 0 {
		regions = slb.DefaultRegions
	}
	accounts := make([]rpc.Account, len(c.accounts))
	copy(accounts, c.accounts)
	if c.CAS, err = cas.New(cas.Options{Accounts: accounts, Faults: inj, Now: opts.Now}); err != nil {
		return fmt.Errorf("emulator: cas: %w", err)
	}
	if c.ALB, err = alb.New(alb.Options{Accounts: accounts, Regions: regions, Faults: inj, JobFaults: c.JobFaults, Now: opts.Now,
		CAS: c.CAS, DNS: store, NoFrontends: opts.NoFrontends, ConfiguringDuration: opts.LBConfiguring}); err != nil {
		return fmt.Errorf("emulator: alb: %w", err)
	}
	if c.NLB, err = nlb.New(nlb.Options{Accounts: accounts, Regions: regions, Faults: inj, JobFaults: c.JobFaults, Now: opts.Now,
		CAS: c.CAS, DNS: store, NoFrontends: opts.NoFrontends, ConfiguringDuration: opts.LBConfiguring}); err != nil {
		return fmt.Errorf("emulator: nlb: %w", err)
	}
	for _, s := range []struct {
		h   http.Handler
		url *string
	}{{c.ALB, &c.albURL}, {c.NLB, &c.nlbURL}, {c.CAS, &c.casURL}} {
		if *s.url, err = c.serve(s.h); err != nil {
			return fmt.Errorf("emulator: listen: %w", err)
		}
	}
	return nil
}

// serve answers h on a new 127.0.0.1 port and returns its URL.
func (c *Cloud) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	c.servers = append(c.servers, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// closeLB stops the ALB and NLB frontends and the DNS server (the HTTP
// servers are shut down with the others).
func (c *Cloud) closeLB() error {
	var errs []error
	if c.ALB != nil {
		errs = append(errs, c.ALB.Close())
	}
	if c.NLB != nil {
		errs = append(errs, c.NLB.Close())
	}
	if c.ownDNS && c.DNS != nil {
		errs = append(errs, c.DNS.Close())
		c.ownDNS = false
	}
	return errors.Join(errs...)
}

// ALBEndpoint is the ALB RPC endpoint, "http://127.0.0.1:PORT".
func (c *Cloud) ALBEndpoint() string { return c.albURL }

// NLBEndpoint is the NLB RPC endpoint, "http://127.0.0.1:PORT".
func (c *Cloud) NLBEndpoint() string { return c.nlbURL }

// CASEndpoint is the CAS RPC endpoint, "http://127.0.0.1:PORT".
func (c *Cloud) CASEndpoint() string { return c.casURL }

// DNSAddr is the DNS server ("127.0.0.1:PORT", UDP and TCP) that resolves
// ALB and NLB instance names; PROBE_RESOLVER takes it.
func (c *Cloud) DNSAddr() string { return c.DNS.Addr() }

// LBRecords lists the DNS records of the ALB and NLB zones.
func (c *Cloud) LBRecords() []dns.Record {
	st := c.DNS.Store()
	return append(st.Records(alb.DNSZone), st.Records(nlb.DNSZone)...)
}
