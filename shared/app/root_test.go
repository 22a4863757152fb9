package app

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/albnlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
)

const (
	testKeyID  = "LTAI-root-test"
	testSecret = "root-test-secret-never-shown"
	testToken  = "root-test-sts-token-never-shown"
)

// localEnv is an environment pointing every adapter at local-cloud style
// endpoints (nothing listens: building a use case makes no call).
func localEnv(extra map[string]string) map[string]string {
	env := map[string]string{
		config.EnvCertBucket: "certs-local", config.EnvRegions: "cn-zhangjiakou",
		config.EnvSLBEndpoint: "http://127.0.0.1:1", config.EnvOSSEndpoint: "http://127.0.0.1:2",
		config.EnvALBEndpoint: "http://127.0.0.1:3", config.EnvNLBEndpoint: "http://127.0.0.1:4",
		config.EnvCASEndpoint: "http://127.0.0.1:5", config.EnvAlidnsEndpoint: "http://127.0.0.1:6",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func load(t *testing.T, env map[string]string) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// invocation is a context carrying the STS triple, as Function Compute
// passes it.
func invocation(requestID string) context.Context {
	return fccontext.NewContext(context.Background(), &fccontext.FcContext{RequestID: requestID,
		Credentials: fccontext.Credentials{AccessKeyId: testKeyID, AccessKeySecret: testSecret, SecurityToken: testToken}})
}

// TestRotator: the rotation gets the configuration as config.Load
// defaulted it (the probe timeout included: one default, in config), the
// products LB_PRODUCTS names, the TLS probe and the bucket's lock.
func TestRotator(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		timeout  time.Duration
		products []string
	}{
		{"defaults", nil, config.DefaultProbeTimeout, []string{"clb", "alb", "nlb"}},
		{"probe timeout and CLB only", map[string]string{config.EnvProbeTimeout: "1500ms", config.EnvProducts: "clb"}, 1500 * time.Millisecond, nil},
		{"ALB and NLB", map[string]string{config.EnvProbeTimeout: "3s", config.EnvProducts: "nlb,alb"}, 3 * time.Second, []string{"alb", "nlb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := load(t, localEnv(tc.env))
			r, err := New(cfg, nil).Rotator(invocation("req-rotator"))
			if err != nil {
				t.Fatal(err)
			}
			if r.Config.ProbeTimeout != tc.timeout || !reflect.DeepEqual(r.Config, RotationConfig(cfg)) {
				t.Errorf("rotation config %+v, want probe timeout %s and RotationConfig(cfg)", r.Config, tc.timeout)
			}
			if got := names(r.Products); !reflect.DeepEqual(got, tc.products) {
				t.Errorf("products %v, want %v", got, tc.products)
			}
			if r.Objects == nil || r.SLB == nil || r.Prober == nil || r.Locks == nil {
				t.Errorf("rotator not fully wired: %+v", r)
			}
		})
	}
}

// TestSweeper: the sweep gets CONCURRENCY, PROBE_CONCURRENCY and
// PROBE_TIMEOUT (defaulted by config.Load only), every inventory, the
// notifier, and for auto-rotation the rotator the root builds for
// rotate-on-upload.
func TestSweeper(t *testing.T) {
	for _, tc := range []struct {
		name                string
		env                 map[string]string
		conc, probeConc     int
		timeout             time.Duration
		notifies            bool
		autoRotatesProducts []string
	}{
		{"defaults", nil, config.DefaultConcurrency, config.DefaultProbeConcurrency, config.DefaultProbeTimeout, false, []string{"clb", "alb", "nlb"}},
		{"set", map[string]string{config.EnvConcurrency: "7", config.EnvProbeConc: "48", config.EnvProbeTimeout: "2s",
			config.EnvNotifyKind: "slack", config.EnvNotifyURL: "http://127.0.0.1:7/hook", config.EnvProducts: "clb,alb"},
			7, 48, 2 * time.Second, true, []string{"clb", "alb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(load(t, localEnv(tc.env)), nil).Sweeper(invocation("req-sweep"))
			if err != nil {
				t.Fatal(err)
			}
			if s.Bucket != "certs-local" || s.Concurrency != tc.conc || s.ProbeConcurrency != tc.probeConc || s.ProbeTimeout != tc.timeout {
				t.Errorf("sweeper settings %q %d %d %s, want certs-local %d %d %s", s.Bucket, s.Concurrency, s.ProbeConcurrency, s.ProbeTimeout, tc.conc, tc.probeConc, tc.timeout)
			}
			if s.Inventory == nil || s.ALB == nil || s.NLB == nil || s.CAS == nil || s.Objects == nil || s.Pairs == nil || s.Prober == nil || s.Notifier == nil {
				t.Errorf("sweeper not fully wired: %+v", s)
			}
			if _, nop := s.Notifier.(notify.Nop); nop == tc.notifies {
				t.Errorf("notifier %T, want a webhook %v", s.Notifier, tc.notifies)
			}
			pr, ok := s.Rotator.(expiry.PairRotator)
			if !ok {
				t.Fatalf("auto-rotation %T, want expiry.PairRotator", s.Rotator)
			}
			rot := pr.Rotator
			if got := names(rot.Products); !reflect.DeepEqual(got, tc.autoRotatesProducts) || rot.Config.ProbeTimeout != tc.timeout || rot.Locks == nil {
				t.Errorf("auto-rotation products %v timeout %s locks %v, want %v %s and the lock", got, rot.Config.ProbeTimeout, rot.Locks, tc.autoRotatesProducts, tc.timeout)
			}
			sweptALB, _ := s.ALB.(*albnlb.Port)
			store, _ := s.CAS.(albnlb.Store)
			for _, p := range rot.Products {
				port, ok := p.Port.(*albnlb.Port)
				if !ok {
					continue
				}
				// One set of adapters (clients, pacer, connections) per invocation.
				if sweptALB == nil || port.CAS != store.CAS || (p.Name == clb.ProductALB && port.LB != sweptALB.LB) {
					t.Errorf("auto-rotation's %s port builds its own adapters: the sweep's ALB/CAS are not shared", p.Name)
				}
			}
		})
	}
}

// TestProvisioner: every port of the provisioning is SLB, the pairs come
// from CERT_BUCKET/CERT_PREFIX with MIN_VALID_DAYS, and the lock is the
// bucket's.
func TestProvisioner(t *testing.T) {
	p, err := New(load(t, localEnv(map[string]string{config.EnvCertPrefix: "tls/", config.EnvMinValidDays: "10"})), nil).Provisioner(invocation("req-prov"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Instances == nil || p.Backends == nil || p.Listeners == nil || p.Extensions == nil || p.Certificates == nil || p.Locks == nil {
		t.Fatalf("provisioner not fully wired: %+v", p)
	}
	pl, ok := p.Pairs.(pairLoader)
	if !ok || pl.bucket != "certs-local" || pl.prefix != "tls/" || pl.opts.MinValidDays != 10 || pl.objects == nil {
		t.Errorf("pairs %+v, want certs-local, tls/, 10 days", p.Pairs)
	}
	if bl, ok := p.Locks.(bucketLocks); !ok || bl.bucket != "certs-local" || bl.store == nil {
		t.Errorf("locks %+v, want the bucket's lease store", p.Locks)
	}
}

// TestRenewer: the renewal gets the bucket and prefixes, the nameservers,
// the lock owned by the invocation, and an ACME client trusting
// ACME_CA_ROOTS; unusable roots refuse the build (permanent).
func TestRenewer(t *testing.T) {
	ca := certstest.NewCA(t, "Root Test ACME CA")
	env := localEnv(map[string]string{config.EnvACMENameservers: "127.0.0.1:53", config.EnvACMECARoots: string(ca.CertPEM)})
	r, err := New(load(t, env), nil).Renewer(invocation("req-renew"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Bucket != "certs-local" || r.Prefix != config.DefaultCertPrefix || r.StatePrefix != StatePrefix ||
		!reflect.DeepEqual(r.Nameservers, []string{"127.0.0.1:53"}) || r.Objects == nil || r.DNS == nil || r.CA == nil || r.Notifier == nil {
		t.Errorf("renewer not fully wired: %+v", r)
	}
	if l, ok := r.Locker.(leaseLocker); !ok || l.bucket != "certs-local" || !strings.Contains(l.owner, "req-renew") {
		t.Errorf("locker %+v, want the bucket's lease owned by the request", r.Locker)
	}

	cfg := load(t, env)
	cfg.ACMECARoots = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
	if _, err := New(cfg, nil).Renewer(invocation("req-renew")); err == nil || !apierr.Permanent(err) || !strings.Contains(err.Error(), "ACME_CA_ROOTS") {
		t.Errorf("unusable ACME_CA_ROOTS: err = %v, want a permanent error naming the variable", err)
	}
}

// TestBuildErrors: every builder refuses, permanently and without any
// credential in the message, an invocation without credentials or with a
// configuration no adapter can use.
func TestBuildErrors(t *testing.T) {
	builders := map[string]func(*Root, context.Context) error{
		"rotator":     func(r *Root, ctx context.Context) error { _, err := r.Rotator(ctx); return err },
		"sweeper":     func(r *Root, ctx context.Context) error { _, err := r.Sweeper(ctx); return err },
		"provisioner": func(r *Root, ctx context.Context) error { _, err := r.Provisioner(ctx); return err },
		"renewer":     func(r *Root, ctx context.Context) error { _, err := r.Renewer(ctx); return err },
	}
	noRegion := config.Config{CertBucket: "certs-local", OSSSignature: "v4"} // built by hand: V4 without a region
	for name, build := range builders {
		for _, tc := range []struct {
			what string
			root *Root
			ctx  context.Context
			kind error
			says string
		}{
			{"no credentials", New(load(t, localEnv(nil)), nil), context.Background(), apierr.ErrAccessDenied, aliyun.EnvAccessKeyID},
			{"no credentials in the environment either", New(load(t, localEnv(nil)), func(string) string { return "" }), context.Background(), apierr.ErrAccessDenied, aliyun.EnvAccessKeyID},
			{"OSS without a region", New(noRegion, nil), invocation("req-bad"), apierr.ErrInvalid, "OSS adapter"},
		} {
			t.Run(name+"/"+tc.what, func(t *testing.T) {
				err := build(tc.root, tc.ctx)
				if !errors.Is(err, tc.kind) || !apierr.Permanent(err) || !strings.Contains(err.Error(), tc.says) {
					t.Fatalf("err = %v, want a permanent %v naming %s", err, tc.kind, tc.says)
				}
				for _, secret := range []string{testSecret, testToken} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows a credential: %v", err)
					}
				}
			})
		}
	}
}

// TestCredentialsFromEnvironment: outside Function Compute the root falls
// back to Getenv (the process environment in main).
func TestCredentialsFromEnvironment(t *testing.T) {
	env := localEnv(map[string]string{aliyun.EnvAccessKeyID: testKeyID, aliyun.EnvAccessKeySecret: testSecret})
	if _, err := New(load(t, env), func(k string) string { return env[k] }).Rotator(context.Background()); err != nil {
		t.Fatalf("environment credentials: %v", err)
	}
}

// TestOSSOptions: the one mapping of the configuration onto the OSS
// adapter. config.Load defaults OSS_REGION to the first of REGIONS; a
// Config built by hand without it uses the function's region.
func TestOSSOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  config.Config
		want aliyun.OSSOptions
	}{
		{"loaded, OSS_REGION unset", load(t, localEnv(map[string]string{config.EnvRegions: "cn-shanghai,cn-beijing"})),
			aliyun.OSSOptions{Endpoint: "http://127.0.0.1:2", Region: "cn-shanghai", V4: true}},
		{"loaded, OSS_REGION and v1", load(t, localEnv(map[string]string{config.EnvOSSRegion: "cn-hangzhou", config.EnvOSSSignature: "v1"})),
			aliyun.OSSOptions{Endpoint: "http://127.0.0.1:2", Region: "cn-hangzhou"}},
		{"by hand, function region", config.Config{FunctionRegion: "cn-zhangjiakou", OSSSignature: "v4"},
			aliyun.OSSOptions{Region: "cn-zhangjiakou", V4: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := New(tc.cfg, nil).ossOptions(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ossOptions = %+v, want %+v", got, tc.want)
			}
		})
	}
}
