package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/tlsprobe"
)

// listenersCmd lists every HTTPS listener of the region with the
// certificate the API says it has and what a TLS handshake with it serves.
func listenersCmd(ctx context.Context, e cloudEnv, region string, stdout io.Writer) error {
	s := aliyun.NewSLB(aliyun.Credentials{AccessKeyID: e.AccessKeyID, AccessKeySecret: e.AccessKeySecret}, aliyun.SLBOptions{Endpoint: e.SLB})
	lbs, err := s.ListLoadBalancers(ctx, region)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOAD BALANCER\tADDRESS:PORT\tCERTIFICATE (API)\tSERVED (TLS HANDSHAKE)")
	n := 0
	for _, lb := range lbs {
		ls, err := s.ListHTTPSListeners(ctx, region, []string{lb.ID})
		if err != nil {
			return err
		}
		for _, l := range ls {
			n++
			fmt.Fprintf(tw, "%s (%s)\t%s:%d\t%s\t%s\n", lb.ID, lb.Name, lb.Address, l.Port, l.ServerCertificateID, served(ctx, lb.Address, l.Port, ""))
			exts, err := s.ListDomainExtensions(ctx, region, lb.ID, l.Port)
			if err != nil {
				return err
			}
			for _, x := range exts {
				fmt.Fprintf(tw, "  SNI %s\t%s:%d\t%s\t%s\n", x.Domain, lb.Address, l.Port, x.ServerCertificateID, served(ctx, lb.Address, l.Port, x.Domain))
			}
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintf(stdout, "no HTTPS listener in %s yet (create one: localcloud invoke provision events/provision.json)\n", region)
	}
	return nil
}

// served describes the leaf a handshake gets: CN, expiry, SHA-1.
func served(ctx context.Context, addr string, port int, sni string) string {
	r := tlsprobe.Probe(ctx, addr, port, sni, 3*time.Second)
	if !r.Reachable || r.Leaf == nil {
		return "unreachable: " + r.Err
	}
	return fmt.Sprintf("CN=%s notAfter=%s sha1=%s", r.Leaf.Subject.CommonName, r.Leaf.NotAfter.UTC().Format("2006-01-02"), r.FingerprintSHA1)
}
