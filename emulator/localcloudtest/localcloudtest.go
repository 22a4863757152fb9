// Package localcloudtest starts the local cloud for a test or a benchmark
// with the product's adapters pointed at it, and wires the rotation the way
// rotate-on-upload does (objects and lock in the bucket, TLS probes against
// the emulated frontends, the CLB, ALB and NLB ports). The benchmarks under
// bench/ and the reliability suite share it.
package localcloudtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/albnlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// Options of Start. The zero value runs a default local cloud with the
// adapters' defaults.
type Options struct {
	// Cloud configures the local cloud.
	Cloud emulator.Options
	// Retry is every adapter's retry policy (zero: the adapters' default).
	Retry aliyun.RetryPolicy
	// Timeout is the per-request timeout of the SLB, ALB, NLB and CAS
	// adapters, OSSTimeout the OSS adapter's (0: the adapters' default).
	Timeout, OSSTimeout time.Duration
	// QPS is the SLB adapter's configured per-action ceiling (0: adaptive
	// pacing only).
	QPS float64
	// PollInterval is the ALB and NLB adapters' job poll interval (0: the
	// adapters' default).
	PollInterval time.Duration
}

// Env is a running local cloud and the adapters pointed at it.
type Env struct {
	Cloud  *emulator.Cloud
	Bucket string // the cloud's bucket
	Region string // the bucket's region
	Creds  aliyun.Credentials
	SLB    *aliyun.SLB
	OSS    *aliyun.OSS
	opts   Options
}

// Start starts a local cloud, closed when the test ends, and the SLB and
// OSS adapters over it. The adapters need no priming or per-process setup
// (shared/aliyun fills the SDK's endpoint maps at init, builds a fresh SDK
// client per attempt and paces and retries Throttling itself).
func Start(tb testing.TB, opts Options) *Env {
	tb.Helper()
	cloud, err := emulator.Start(opts.Cloud)
	if err != nil {
		tb.Fatalf("start local cloud: %v", err)
	}
	tb.Cleanup(func() { _ = cloud.Close() })
	ak, secret := cloud.Credentials()
	creds := aliyun.Credentials{AccessKeyID: ak, AccessKeySecret: secret}
	bucket, region := cloud.Bucket()
	o, err := aliyun.NewOSS(creds, aliyun.OSSOptions{Endpoint: cloud.OSSEndpoint(), Region: region, Retry: opts.Retry, Timeout: opts.OSSTimeout})
	if err != nil {
		tb.Fatalf("oss adapter: %v", err)
	}
	s := aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: cloud.SLBEndpoint(), Retry: opts.Retry, Timeout: opts.Timeout, QPS: opts.QPS})
	return &Env{Cloud: cloud, Bucket: bucket, Region: region, Creds: creds, SLB: s, OSS: o, opts: opts}
}

// Rotator is the rotation over the environment as rotate-on-upload wires
// it: the bucket's objects, the lease lock in the bucket, real TLS probes.
// cfg.Bucket "" is the cloud's bucket; slb nil is e.SLB (a test may wrap
// it).
func (e *Env) Rotator(cfg rotation.Config, slb rotation.SLB) *rotation.Rotator {
	if cfg.Bucket == "" {
		cfg.Bucket = e.Bucket
	}
	if slb == nil {
		slb = e.SLB
	}
	return &rotation.Rotator{
		Config:  cfg,
		Objects: e.OSS,
		SLB:     slb,
		Locks:   aliyun.LockStore(e.OSS),
		Prober:  Prober(""),
	}
}

// WithProducts sets r's products as rotate-on-upload builds them from
// LB_PRODUCTS (CLB over r.SLB; ALB and NLB sharing one CAS adapter, with
// the options' retry policy and timeout) and its prober to resolve the
// instances' DNS names through the cloud's DNS server (PROBE_RESOLVER).
func (e *Env) WithProducts(r *rotation.Rotator, products ...string) *rotation.Rotator {
	cas := e.CAS()
	r.Products = nil
	for _, p := range products {
		switch p {
		case clb.ProductCLB:
			r.Products = append(r.Products, rotation.Product{Name: p, Port: rotation.CLBPort{SLB: r.SLB}})
		case clb.ProductALB:
			r.Products = append(r.Products, rotation.Product{Name: p, Port: albnlb.New(p, e.ALB(), cas)})
		case clb.ProductNLB:
			r.Products = append(r.Products, rotation.Product{Name: p, Port: albnlb.New(p, e.NLB(), cas)})
		default:
			panic(fmt.Sprintf("localcloudtest: unknown product %q", p))
		}
	}
	r.Prober = Prober(e.Cloud.DNSAddr())
	return r
}

// Prober is the TLS probe rotate-on-upload uses (app.TLSProber); resolver
// "host:port" resolves names through that DNS server ("" = the system's).
func Prober(resolver string) rotation.Prober { return app.TLSProber(resolver) }

// PutPair writes a pair as certs/<name>/fullchain.pem and privkey.pem
// straight into the cloud's bucket (OSS triggers fire if functions are
// deployed).
func (e *Env) PutPair(tb testing.TB, name string, p certstest.Pair) {
	tb.Helper()
	if err := e.Cloud.OSS.PutObject(e.Bucket, "certs/"+name+"/fullchain.pem", p.CertPEM); err != nil {
		tb.Fatal(err)
	}
	if err := e.Cloud.OSS.PutObject(e.Bucket, "certs/"+name+"/privkey.pem", p.KeyPEM); err != nil {
		tb.Fatal(err)
	}
}

// SeedListeners seeds, without API calls, the certificate c named certName
// in region and nLB load balancers ("<lbPrefix>-<i>") with nL running HTTPS
// listeners each (ports 443, 444, ...) serving it; it returns the load
// balancers' ids.
func (e *Env) SeedListeners(tb testing.TB, region, certName, lbPrefix string, nLB, nL int, c certstest.Pair) []string {
	tb.Helper()
	id, err := e.Cloud.SLB.SeedServerCertificate(region, certName, string(c.CertPEM), string(c.KeyPEM), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var lbs []string
	for i := range nLB {
		lb, err := e.Cloud.SLB.SeedLoadBalancer(region, fmt.Sprintf("%s-%d", lbPrefix, i))
		if err != nil {
			tb.Fatal(err)
		}
		for p := range nL {
			if err := e.Cloud.SLB.SeedHTTPSListener(region, lb, 443+p, id, true); err != nil {
				tb.Fatal(err)
			}
		}
		lbs = append(lbs, lb)
	}
	return lbs
}

// SeedListener seeds, without API calls, the certificate c named certName
// in region and a load balancer lbName with a running HTTPS listener on
// port serving it; it returns the certificate's and the load balancer's
// ids.
func (e *Env) SeedListener(tb testing.TB, region, certName, lbName string, port int, c certstest.Pair) (certID, lbID string) {
	tb.Helper()
	certID, err := e.Cloud.SLB.SeedServerCertificate(region, certName, string(c.CertPEM), string(c.KeyPEM), nil)
	if err != nil {
		tb.Fatal(err)
	}
	if lbID, err = e.Cloud.SLB.SeedLoadBalancer(region, lbName); err != nil {
		tb.Fatal(err)
	}
	if err := e.Cloud.SLB.SeedHTTPSListener(region, lbID, port, certID, true); err != nil {
		tb.Fatal(err)
	}
	return certID, lbID
}
