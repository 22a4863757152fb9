package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/issuance"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
)

// Bucket prefixes of the issuance's own objects (outside CERT_PREFIX, so
// the OSS trigger never sees them).
const (
	AccountPrefix = "acme/accounts/"
	StatePrefix   = "acme/state/"
)

const (
	// lockMargin is the time kept for the order after waiting for the lock.
	lockMargin = 3 * time.Minute
	// acmeTimeout bounds each request to the ACME directory.
	acmeTimeout = 60 * time.Second
)

// Renewer is the ACME renewal of one invocation: the bucket over OSS,
// DNS-01 over Alidns, the ACME client (trusting ACME_CA_ROOTS besides the
// system's roots), the pair's lease lock (the rotation's own: issuing and
// rotating a pair never overlap) and the notifier.
func (r *Root) Renewer(ctx context.Context) (*issuance.Renewer, error) {
	c, err := r.cloud(ctx)
	if err != nil {
		return nil, err
	}
	notifier, err := r.Notifier()
	if err != nil {
		return nil, err
	}
	client, err := acmeHTTPClient(r.Config.ACMECARoots)
	if err != nil {
		return nil, err
	}
	cfg := r.Config
	return &issuance.Renewer{
		Objects:     c.oss,
		DNS:         alidnsPort{aliyun.NewAlidns(c.creds, aliyun.AlidnsOptions{Endpoint: cfg.AlidnsEndpoint, Retry: r.Retry})},
		CA:          &issuance.ACME{Objects: c.oss, Bucket: cfg.CertBucket, AccountPrefix: AccountPrefix, HTTPClient: client, UserAgent: "slb-cert-rotator"},
		Locker:      leaseLocker{store: aliyun.LockStore(c.oss), bucket: cfg.CertBucket, owner: lease.NewOwner(RequestID(ctx))},
		Notifier:    notifier,
		Bucket:      cfg.CertBucket,
		Prefix:      cfg.CertPrefix,
		StatePrefix: StatePrefix,
		Nameservers: cfg.ACMENameservers,
	}, nil
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
			return nil, fmt.Errorf("ACME_CA_ROOTS holds no usable certificate: give PEM certificates or unset it: %w", apierr.ErrInvalid)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Timeout: acmeTimeout, Transport: tr}, nil
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

// leaseLocker is the pair's cross-instance lease lock (issuance.Locker).
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
