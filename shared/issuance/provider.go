package issuance

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// TXTRecord is a challenge record this product created (the only kind it
// ever deletes): its zone, host record, value and the provider's id (empty
// while the API has not answered yet).
type TXTRecord struct {
	Zone  string `json:"zone"`
	RR    string `json:"rr"`
	Value string `json:"value"`
	ID    string `json:"id"`
}

// Provider solves DNS-01 challenges over the DNS port: Present adds the TXT
// record (journalled before and after), PreCheck waits until every
// authoritative server answers it, CleanUp deletes it by id. It implements
// lego's challenge.Provider and challenge.ProviderTimeout.
type Provider struct {
	DNS DNS
	// Zone overrides the zone lookup (acme.yaml zone).
	Zone string
	// Nameservers, when set ("host:port"), are queried instead of the
	// zone's own authoritative servers (a local DNS server).
	Nameservers []string
	// Journal persists the records created so far (the run's state), so a
	// run that dies leaves a list for the next one to clean up.
	Journal func(ctx context.Context, recs []TXTRecord) error
	// PropagationTimeout bounds the propagation wait; Interval is the time
	// between checks (defaults 2 min and 2 s).
	PropagationTimeout, Interval time.Duration

	mu      sync.Mutex
	zones   []Zone
	created []TXTRecord
	dnsTime time.Duration
}

// ChallengeValue is the TXT value of a DNS-01 key authorization.
func ChallengeValue(keyAuth string) string {
	sum := sha256.Sum256([]byte(keyAuth))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Timeout is what lego waits for PreCheck (which does the polling itself,
// so lego's own pause before its first check stays short and the whole wait
// is counted as DNS time).
func (p *Provider) Timeout() (time.Duration, time.Duration) {
	t, _ := p.propagation()
	return t + 30*time.Second, 10 * time.Millisecond
}

func (p *Provider) propagation() (timeout, interval time.Duration) {
	timeout, interval = p.PropagationTimeout, p.Interval
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	if interval <= 0 {
		interval = 2 * time.Second
	}
	return timeout, interval
}

// Present adds the TXT record for domain's challenge.
func (p *Provider) Present(ctx context.Context, domain, _, keyAuth string) error {
	start := time.Now()
	defer p.addTime(start)
	zone, err := p.zoneFor(ctx, domain)
	if err != nil {
		return err
	}
	fqdn := "_acme-challenge." + strings.TrimSuffix(strings.TrimPrefix(domain, "*."), ".")
	rr := strings.TrimSuffix(fqdn, "."+zone.Name)
	value := ChallengeValue(keyAuth)
	// Journal the intent first: a run killed right after the API created
	// the record still leaves the next run its host record and value (the
	// value, a digest of this order's key authorization, is ours alone).
	intent := TXTRecord{Zone: zone.Name, RR: rr, Value: value}
	p.mu.Lock()
	p.created = append(p.created, intent)
	recs := slices.Clone(p.created)
	p.mu.Unlock()
	if err := p.journal(ctx, recs); err != nil {
		return err
	}
	id, err := p.DNS.AddRecord(ctx, zone.Name, rr, "TXT", value, 600)
	if err != nil {
		return fmt.Errorf("dns-01: add TXT %s in zone %s: %w", fqdn, zone.Name, err)
	}
	p.mu.Lock()
	if i := slices.Index(p.created, intent); i >= 0 {
		p.created[i].ID = id
	}
	recs = slices.Clone(p.created)
	p.mu.Unlock()
	return p.journal(ctx, recs)
}

// CleanUp deletes the TXT record Present added for domain's challenge.
func (p *Provider) CleanUp(ctx context.Context, domain, _, keyAuth string) error {
	start := time.Now()
	defer p.addTime(start)
	value := ChallengeValue(keyAuth)
	fqdn := "_acme-challenge." + strings.TrimPrefix(domain, "*.")
	p.mu.Lock()
	var mine []TXTRecord
	for _, r := range p.created {
		if r.Value == value && r.RR+"."+r.Zone == fqdn {
			mine = append(mine, r)
		}
	}
	p.mu.Unlock()
	return p.remove(ctx, mine)
}

// CleanUpAll deletes every record this provider created and still tracks
// (after an order, whatever its end).
func (p *Provider) CleanUpAll(ctx context.Context) error {
	p.mu.Lock()
	recs := slices.Clone(p.created)
	p.mu.Unlock()
	return p.remove(ctx, recs)
}

// Adopt makes the provider track records an earlier run created and did not
// delete, so that CleanUpAll removes them.
func (p *Provider) Adopt(recs []TXTRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.created = append(p.created, recs...)
}

// Remaining lists the records still tracked (not yet deleted).
func (p *Provider) Remaining() []TXTRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.created)
}

// DNSTime is the time spent in DNS API calls and propagation checks.
func (p *Provider) DNSTime() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dnsTime
}

func (p *Provider) addTime(start time.Time) {
	p.mu.Lock()
	p.dnsTime += time.Since(start)
	p.mu.Unlock()
}

// remove deletes recs, each only if the provider's record with that id
// still has the value this product wrote (never someone else's record).
func (p *Provider) remove(ctx context.Context, recs []TXTRecord) error {
	var errs []error
	for _, r := range recs {
		if err := p.deleteIfOurs(ctx, r); err != nil {
			errs = append(errs, err)
			continue
		}
		p.mu.Lock()
		p.created = slices.DeleteFunc(p.created, func(c TXTRecord) bool { return c == r })
		p.mu.Unlock()
	}
	p.mu.Lock()
	left := slices.Clone(p.created)
	p.mu.Unlock()
	return errors.Join(append(errs, p.journal(ctx, left))...)
}

func (p *Provider) deleteIfOurs(ctx context.Context, r TXTRecord) error {
	found, err := p.DNS.FindRecords(ctx, r.Zone, r.RR, "TXT")
	if err != nil {
		return fmt.Errorf("dns-01: look up TXT %s.%s before deleting it: %w", r.RR, r.Zone, err)
	}
	for _, f := range found {
		// by id and value; an intent journalled before the API answered
		// (no id) by its value, which only this order could have written
		if f.Value == r.Value && (r.ID == "" || f.ID == r.ID) {
			if err := p.DNS.DeleteRecord(ctx, f.ID); err != nil {
				return fmt.Errorf("dns-01: delete TXT %s.%s (record %s): %w", r.RR, r.Zone, f.ID, err)
			}
		}
	}
	return nil // deleted, gone already, or no longer the record we wrote: left alone
}

func (p *Provider) journal(ctx context.Context, recs []TXTRecord) error {
	if p.Journal == nil {
		return nil
	}
	if err := p.Journal(ctx, recs); err != nil {
		return fmt.Errorf("dns-01: record the challenge records in the state: %w", err)
	}
	return nil
}

// zoneFor finds the hosted zone of domain: the configured one, else the
// longest hosted zone that is a suffix of it.
func (p *Provider) zoneFor(ctx context.Context, domain string) (Zone, error) {
	base := strings.TrimSuffix(strings.ToLower(strings.TrimPrefix(domain, "*.")), ".")
	p.mu.Lock()
	zones := p.zones
	p.mu.Unlock()
	if zones == nil {
		z, err := p.DNS.ListZones(ctx)
		if err != nil {
			return Zone{}, fmt.Errorf("dns-01: list the account's DNS zones: %w", err)
		}
		zones = z
		p.mu.Lock()
		p.zones = z
		p.mu.Unlock()
	}
	var best Zone
	for _, z := range zones {
		name := strings.ToLower(z.Name)
		if p.Zone != "" && name != p.Zone {
			continue
		}
		if (base == name || strings.HasSuffix(base, "."+name)) && len(name) > len(best.Name) {
			best = z
		}
	}
	if best.Name == "" {
		if p.Zone != "" {
			return Zone{}, fmt.Errorf("%w: dns-01: zone %q (acme.yaml zone) is not a domain of this Alibaba Cloud DNS account: add it there or fix acme.yaml", ErrZone, p.Zone)
		}
		return Zone{}, fmt.Errorf("%w: dns-01: no Alibaba Cloud DNS domain of this account contains %s: add the domain to Alibaba Cloud DNS, or set zone in acme.yaml", ErrZone, base)
	}
	return best, nil
}

// CheckZones finds the zone of every domain before an order is placed, so
// a name outside the account's zones costs no order at the CA.
func (p *Provider) CheckZones(ctx context.Context, domains []string) error {
	var errs []error
	for _, d := range domains {
		if _, err := p.zoneFor(ctx, d); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ErrZone: the DNS zone for a name does not exist in the account.
var ErrZone = errors.New("dns zone not found")

// PreCheck waits until every authoritative server of fqdn's zone answers
// value (checked at once, then every Interval, for PropagationTimeout);
// lego's dns01.WrapPreCheck calls it before telling the CA to validate. The
// recursive check is not used: the CA asks the authoritative servers.
func (p *Provider) PreCheck(ctx context.Context, domain, fqdn, value string) (bool, error) {
	start := time.Now()
	defer p.addTime(start)
	zone, err := p.zoneFor(ctx, domain)
	if err != nil {
		return false, err
	}
	servers := p.Nameservers
	if len(servers) == 0 {
		for _, ns := range zone.Nameservers {
			servers = append(servers, net.JoinHostPort(strings.TrimSuffix(ns, "."), "53"))
		}
	}
	if len(servers) == 0 {
		return false, fmt.Errorf("dns-01: zone %s has no authoritative servers to check", zone.Name)
	}
	timeout, interval := p.propagation()
	deadline := start.Add(timeout)
	for {
		missing := missingAt(ctx, servers, fqdn, value)
		if len(missing) == 0 {
			return true, nil
		}
		if time.Now().Add(interval).After(deadline) {
			return false, fmt.Errorf("dns-01: TXT %s not answered by %s after %s: check that the zone's NS records point at Alibaba Cloud DNS",
				strings.TrimSuffix(fqdn, "."), strings.Join(missing, ", "), timeout)
		}
		if !pause.For(ctx, interval) {
			return false, ctx.Err()
		}
	}
}

// missingAt lists the servers that do not answer value for fqdn yet.
func missingAt(ctx context.Context, servers []string, fqdn, value string) []string {
	var missing []string
	for _, s := range servers {
		vals, err := queryTXT(ctx, s, fqdn)
		if err != nil || !slices.Contains(vals, value) {
			missing = append(missing, s)
		}
	}
	return missing
}

// queryTXT asks server for the TXT strings of name (UDP, TCP when
// truncated).
func queryTXT(ctx context.Context, server, name string) ([]string, error) {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), mdns.TypeTXT)
	m.RecursionDesired = false
	c := &mdns.Client{Timeout: 3 * time.Second}
	in, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, m, server)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range in.Answer {
		if t, ok := rr.(*mdns.TXT); ok {
			out = append(out, strings.Join(t.Txt, ""))
		}
	}
	return out, nil
}
