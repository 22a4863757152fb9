package emulator

import (
	"fmt"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/acmeca"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/alidns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
)

// startDNS starts the DNS server (with opts.DNSZones), the Alidns API over
// its store (signed with the local cloud's accounts) and the ACME CA
// validating against it. startLB then publishes the load balancers' names
// into the same store.
func (c *Cloud) startDNS(opts Options) error {
	store := dns.NewStore()
	zones := opts.DNSZones
	if zones == nil {
		zones = DefaultDNSZones
	}
	for _, z := range zones {
		store.AddZone(z)
	}
	var err error
	if c.DNS, err = dns.Listen(store, ""); err != nil {
		return fmt.Errorf("emulator: dns: %w", err)
	}
	if c.Alidns, err = alidns.New(alidns.Options{Store: store, Accounts: c.accounts, Faults: c.Faults, Now: opts.Now}); err != nil {
		c.DNS.Close()
		return fmt.Errorf("emulator: alidns: %w", err)
	}
	if c.ACME, err = acmeca.Start(acmeca.Options{DNSServer: c.DNS.Addr(), Faults: c.Faults, Validity: opts.CertValidity}); err != nil {
		c.DNS.Close()
		return fmt.Errorf("emulator: acme ca: %w", err)
	}
	return nil
}

// closeDNS stops the CA and the DNS server.
func (c *Cloud) closeDNS() {
	if c.ACME != nil {
		c.ACME.Close()
	}
	if c.DNS != nil {
		c.DNS.Close()
	}
}

// AlidnsEndpoint is the Alidns RPC endpoint, "http://127.0.0.1:PORT".
func (c *Cloud) AlidnsEndpoint() string { return c.alidnsURL }
