package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/issuance"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
)

// Bucket prefixes of the issuance's own objects (outside CERT_PREFIX, so
// the OSS trigger never sees them).
const (
	AccountPrefix = "acme/accounts/"
	StatePrefix   = "acme/state/"
)

// lockMargin is the time kept for the order after waiting for the lock.
const lockMargin = 3 * time.Minute

// RenewerFactory builds the renewal of one invocation from the
// configuration and the invocation's credentials.
func RenewerFactory(cfg config.Config, getenv func(string) string) func(ctx context.Context) (Renewer, error) {
	return func(ctx context.Context) (Renewer, error) {
		creds, err := aliyun.CredentialsFromContext(ctx, getenv)
		if err != nil {
			return nil, err
		}
		ossRegion := cfg.OSSRegion
		if ossRegion == "" {
			ossRegion = cfg.FunctionRegion
		}
		o, err := aliyun.NewOSS(creds, aliyun.OSSOptions{Endpoint: cfg.OSSEndpoint, Region: ossRegion, V4: cfg.OSSV4()})
		if err != nil {
			return nil, fmt.Errorf("oss adapter: %w", err)
		}
		notifier, err := notify.New(cfg.NotifyKind, cfg.NotifyURL, cfg.NotifySecret, nil, nil)
		if err != nil {
			return nil, err
		}
		client, err := acmeHTTPClient(cfg.ACMECARoots)
		if err != nil {
			return nil, err
		}
		requestID := ""
		if fctx, ok := fccontext.FromContext(ctx); ok && fctx != nil {
			requestID = fctx.RequestID
		}
		return &issuance.Renewer{
			Objects:     o,
			DNS:         alidnsPort{aliyun.NewAlidns(creds, aliyun.AlidnsOptions{Endpoint: cfg.AlidnsEndpoint})},
			CA:          &issuance.ACME{Objects: o, Bucket: cfg.CertBucket, AccountPrefix: AccountPrefix, HTTPClient: client, UserAgent: "slb-cert-rotator"},
			Locker:      leaseLocker{store: aliyun.LockStore(o), bucket: cfg.CertBucket, owner: lease.NewOwner(requestID)},
			Notifier:    notifier,
			Bucket:      cfg.CertBucket,
			Prefix:      cfg.CertPrefix,
			StatePrefix: StatePrefix,
			Nameservers: cfg.ACMENameservers,
		}, nil
	}
}

// acmeHTTPClient trusts the system roots plus extra PEM roots.
func acmeHTTPClient(extraPEM string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if extraPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(extraPEM)) {
			return nil, errors.New("ACME_CA_ROOTS holds no usable certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: tr}, nil
}

// alidnsPort fits the Alidns adapter to issuance.DNS.
type alidnsPort struct{ a *aliyun.Alidns }

func (p alidnsPort) ListZones(ctx context.Context) ([]issuance.Zone, error) {
	zs, err := p.a.ListZones(ctx)
	out := make([]issuance.Zone, len(zs))
	for i, z := range zs {
		out[i] = issuance.Zone{Name: z.Name, Nameservers: z.Nameservers}
	}
	return out, err
}

func (p alidnsPort) FindRecords(ctx context.Context, zone, rr, typ string) ([]issuance.Record, error) {
	rs, err := p.a.FindRecords(ctx, zone, rr, typ)
	out := make([]issuance.Record, len(rs))
	for i, r := range rs {
		out[i] = issuance.Record{ID: r.ID, Zone: r.Zone, RR: r.RR, Type: r.Type, Value: r.Value}
	}
	return out, err
}

func (p alidnsPort) AddRecord(ctx context.Context, zone, rr, typ, value string, ttl int) (string, error) {
	return p.a.AddRecord(ctx, zone, rr, typ, value, ttl)
}

func (p alidnsPort) DeleteRecord(ctx context.Context, id string) error {
	return p.a.DeleteRecord(ctx, id)
}

// leaseLocker is the pair's cross-instance lease lock (the rotation's
// own: issuing and rotating a pair never overlap). This is the one place
// that names the lock's implementation.
type leaseLocker struct {
	store  lease.Store
	bucket string
	owner  string
}

func (l leaseLocker) Lock(ctx context.Context, name string) (func(context.Context) error, error) {
	lk, err := lease.Acquire(ctx, l.store, l.bucket, name, l.owner, lease.Options{Margin: lockMargin})
	if errors.Is(err, lease.ErrLocked) {
		return nil, fmt.Errorf("%w: %w", issuance.ErrBusy, err)
	}
	if err != nil {
		return nil, err
	}
	return lk.Release, nil
}
