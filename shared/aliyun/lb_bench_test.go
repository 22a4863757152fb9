package aliyun

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

// BenchmarkSetDefaultCertificate switches the default certificate of one
// listener with 20 ms per call and a 2 s Configuring time, with the default
// PollInterval, and reports the time against its bound: the dependent
// rounds (read the status, write, read the job) times the latency plus the
// job's 2 s.
//
//	go test -run '^$' -bench SetDefaultCertificate -benchtime 3x ./shared/aliyun
func BenchmarkSetDefaultCertificate(b *testing.B) {
	const latency, configuring = 20 * time.Millisecond, 2 * time.Second
	bound := 3*latency + configuring
	for _, p := range products {
		b.Run(p.name, func(b *testing.B) {
			c := newLBCloud(b, lbCloudOptions{Configuring: configuring})
			opts := lbTestOptions
			opts.PollInterval = 0
			a := p.api(c, opts)
			var ids []string
			for i := range b.N + 1 {
				pair := certstest.MustSelfSigned(certstest.Options{Domains: []string{"a.example.com"}, KeyType: certstest.ECDSA})
				id, err := c.cas.Seed(lbRegion, fmt.Sprint("c", i), string(pair.CertPEM), string(pair.KeyPEM))
				if err != nil {
					b.Fatal(err)
				}
				ids = append(ids, id)
			}
			lbID, err := p.seedLB(c, lbRegion, "web")
			if err != nil {
				b.Fatal(err)
			}
			lid, err := p.seedL(c, lbRegion, lbID, 443, p.protocol, ids[0])
			if err != nil {
				b.Fatal(err)
			}
			c.inj.Set(faults.Rule{Latency: latency})
			calls := len(p.requests(c))
			b.ResetTimer()
			for i := range b.N {
				if err := a.SetDefaultCertificate(context.Background(), lbRegion, lid, ids[i+1]); err != nil {
					b.Fatal(err)
				}
			}
			per := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(per)/float64(bound), "x_bound")
			b.ReportMetric(float64(len(p.requests(c))-calls)/float64(b.N), "calls/op")
		})
	}
}
