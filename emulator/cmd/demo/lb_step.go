package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// lbPairName is the pair of the every-load-balancer step.
const lbPairName = "every-lb"

// lbStep: an ALB (default alb-1, additional shop-1) and an NLB (default
// nlb-1) are seeded; one pair covering them and the CLB listener's domains
// is dropped; the one rotation it triggers switches the CLB listener, the
// ALB listener's default and additional certificates and the NLB
// listener, each shown served by a TLS handshake (ALB and NLB through
// their DNS names, resolved by the local cloud's DNS).
func lbStep(ctx context.Context, p *printer, cloud *cloudHandle, oss *aliyun.OSS, fc *fcClient, fn string, clbAddr string, clbPort int) error {
	p.title("drop one pair (certs/%s/): a CLB, an ALB and an NLB listener switch to it", lbPairName)
	fleet, err := cloud.SeedLB(region)
	if err != nil {
		return fmt.Errorf("demo: seed ALB and NLB: %w", err)
	}
	var alb, nlb emulator.FleetMember
	for _, m := range fleet {
		p.line("seeded %s %s listener %s (%s), serving %s with %s", strings.ToUpper(m.Kind), m.ID, m.ListenerID, m.DNSName, m.Domain, m.CertID)
		if m.Kind == "alb" {
			alb = m
		} else {
			nlb = m
		}
	}
	shop := strings.Replace(alb.Domain, "alb-", "shop-", 1)
	lbDomains := append(append([]string{}, acmeDomains...), alb.Domain, shop, nlb.Domain)
	now := time.Now()
	ca, caKey, err := newCA(now)
	if err != nil {
		return fmt.Errorf("demo: CA: %w", err)
	}
	c, err := issue(ca, caKey, now, 1003, "certificate C", 120, lbDomains...)
	if err != nil {
		return err
	}
	p.line("put certs/%s/privkey.pem and fullchain.pem (certificate C for %s)", lbPairName, strings.Join(lbDomains, ", "))
	if err := oss.Put(ctx, bucket, "certs/"+lbPairName+"/privkey.pem", c.Key, "application/x-pem-file"); err != nil {
		return err
	}
	if err := oss.Put(ctx, bucket, "certs/"+lbPairName+"/fullchain.pem", c.Chain, "application/x-pem-file"); err != nil {
		return err
	}
	want := fingerprint(c.Leaf.Raw)
	probe := tlsprobe.Prober{Resolver: cloud.DNSAddr}
	for _, t := range []struct{ label, addr, sni string }{
		{"CLB listener", clbAddr, acmeDomains[0]},
		{"ALB default", alb.DNSName, alb.Domain},
		{"ALB additional", alb.DNSName, shop},
		{"NLB listener", nlb.DNSName, nlb.Domain},
	} {
		if err := waitProbe(ctx, probe, t.addr, clbPortOr(t.addr, clbAddr, clbPort), t.sni, want); err != nil {
			return fmt.Errorf("demo: %s: %w", t.label, err)
		}
		p.line("%-15s %s:%d SNI %-28s serves certificate C (%s)", t.label, t.addr, clbPortOr(t.addr, clbAddr, clbPort), t.sni, want)
	}
	state, err := waitAsync(ctx, fc.State, fn, 200*time.Millisecond)
	if err != nil {
		return err
	}
	printAsync(p, lastAsync(state, fn), fn)
	return nil
}

// clbPortOr is the CLB listener's port for its address, 443 for the others.
func clbPortOr(addr, clbAddr string, clbPort int) int {
	if addr == clbAddr {
		return clbPort
	}
	return 443
}

// waitProbe handshakes until addr:port with SNI sni serves fingerprint fp.
func waitProbe(ctx context.Context, probe tlsprobe.Prober, addr string, port int, sni, fp string) error {
	var last tlsprobe.Result
	for {
		last = probe.Probe(ctx, addr, port, sni, 3*time.Second)
		if last.Reachable && strings.EqualFold(last.FingerprintSHA1, fp) {
			return nil
		}
		if !pause.For(ctx, 200*time.Millisecond) {
			return fmt.Errorf("never served %s (last %q %s): %w", fp, last.FingerprintSHA1, last.Err, ctx.Err())
		}
	}
}

// lastAsync keeps only the last asynchronous invocation of fn in state
// (the one of this step's upload) for printing.
func lastAsync(state []byte, fn string) []byte {
	recs := asyncRecords(state, fn)
	if len(recs) == 0 {
		return state
	}
	return []byte(fmt.Sprintf(`{"async":[%s]}`, recs[len(recs)-1]))
}

// everyLB runs lbStep on the provisioned CLB listener.
func (d *demo) everyLB(ctx context.Context) error {
	return lbStep(ctx, d.p, d.cloud, d.oss, d.fc, d.names["rotate-on-upload"], d.lb.Address, d.listener.Port)
}
