package localcloudtest

import (
	"context"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/albnlb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
)

func (e *Env) rpc(endpoint string) aliyun.RPCOptions {
	return aliyun.RPCOptions{Endpoint: endpoint, Retry: e.opts.Retry, Timeout: e.opts.Timeout, PollInterval: e.opts.PollInterval}
}

// ALB is an ALB adapter over the cloud with the options' retry policy,
// timeout and poll interval.
func (e *Env) ALB() *aliyun.ALB { return aliyun.NewALB(e.Creds, e.rpc(e.Cloud.ALBEndpoint())) }

// NLB is an NLB adapter over the cloud, like ALB.
func (e *Env) NLB() *aliyun.NLB { return aliyun.NewNLB(e.Creds, e.rpc(e.Cloud.NLBEndpoint())) }

// CAS is a certificate service adapter over the cloud, like ALB.
func (e *Env) CAS() *aliyun.CAS { return aliyun.NewCAS(e.Creds, e.rpc(e.Cloud.CASEndpoint())) }

// Configure points cfg at the cloud as a function deployed on it sees it
// (SLB, OSS, ALB, NLB and CAS endpoints, the bucket's region, the DNS
// server the probes resolve through); the rest of cfg is kept.
func (e *Env) Configure(cfg config.Config) config.Config {
	cfg.SLBEndpoint, cfg.OSSEndpoint, cfg.OSSRegion = e.Cloud.SLBEndpoint(), e.Cloud.OSSEndpoint(), e.Region
	cfg.ALBEndpoint, cfg.NLBEndpoint, cfg.CASEndpoint = e.Cloud.ALBEndpoint(), e.Cloud.NLBEndpoint(), e.Cloud.CASEndpoint()
	cfg.ProbeResolver = e.Cloud.DNSAddr()
	return cfg
}

// Getenv answers the cloud's access key as the process environment
// would (ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET), for app.New.
func (e *Env) Getenv(key string) string {
	switch key {
	case "ALIBABA_CLOUD_ACCESS_KEY_ID":
		return e.Creds.AccessKeyID
	case "ALIBABA_CLOUD_ACCESS_KEY_SECRET":
		return e.Creds.AccessKeySecret
	}
	return ""
}

// Member is the first member of kind ("alb" or "nlb") of a seeded fleet;
// the test ends when there is none.
func Member(tb testing.TB, fleet []emulator.FleetMember, kind string) emulator.FleetMember {
	tb.Helper()
	for _, m := range fleet {
		if m.Kind == kind {
			return m
		}
	}
	tb.Fatalf("the fleet has no %s member", kind)
	return emulator.FleetMember{}
}

// ListenerCerts reads an ALB or NLB listener's certificates through the
// adapter: the default's id and the additional ones'.
func ListenerCerts(tb testing.TB, l albnlb.Listeners, region, listenerID string) (def string, extra []string) {
	tb.Helper()
	cs, err := l.ListListenerCertificates(context.Background(), region, listenerID)
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range cs {
		if c.Default {
			def = c.ID
		} else {
			extra = append(extra, c.ID)
		}
	}
	return def, extra
}
