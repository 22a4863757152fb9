package issuance

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	legolog "github.com/go-acme/lego/v5/log"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/acmeca"
	alidnsemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/alidns"
	dnsemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	slbemu "github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify/notifytest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation/rotationtest"
)

func TestMain(m *testing.M) {
	if os.Getenv("LEGO_DEBUG_LOG") != "" {
		legolog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))
	} else {
		legolog.SetDefault(slog.New(slog.DiscardHandler))
	}
	os.Exit(m.Run())
}

const bucket = "certs-bucket"

// bucketStore is the rotation's in-memory bucket plus the writes issuance
// needs; it remembers which objects were written encrypted.
type bucketStore struct {
	*rotationtest.Objects
	mu        sync.Mutex
	encrypted map[string]bool
}

func newBucket() *bucketStore {
	return &bucketStore{Objects: &rotationtest.Objects{}, encrypted: map[string]bool{}}
}

func (b *bucketStore) Put(_ context.Context, bucket, key string, data []byte, _ string) error {
	b.Objects.Put(bucket, key, data)
	b.mu.Lock()
	delete(b.encrypted, key)
	b.mu.Unlock()
	return nil
}

func (b *bucketStore) PutSecret(ctx context.Context, bucket, key string, data []byte, ct string) error {
	b.Objects.Put(bucket, key, data)
	b.mu.Lock()
	b.encrypted[key] = true
	b.mu.Unlock()
	return nil
}

func (b *bucketStore) PutSecretIfAbsent(ctx context.Context, bucket, key string, data []byte, ct string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, err := b.Objects.Get(ctx, bucket, key, 1<<20); err == nil {
		return false, nil
	}
	b.Objects.Put(bucket, key, data)
	b.encrypted[key] = true
	return true, nil
}

func (b *bucketStore) Delete(_ context.Context, bucket, key string) error {
	b.Objects.Delete(bucket, key)
	return nil
}

func (b *bucketStore) get(t *testing.T, key string) []byte {
	t.Helper()
	d, err := b.Objects.Get(context.Background(), bucket, key, 1<<20)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return d
}

// alidnsPort fits the aliyun adapter to the DNS port (the function's
// composition does the same).
type alidnsPort struct{ a *aliyun.Alidns }

func (p alidnsPort) ListZones(ctx context.Context) ([]Zone, error) {
	zs, err := p.a.ListZones(ctx)
	out := make([]Zone, len(zs))
	for i, z := range zs {
		out[i] = Zone{Name: z.Name, Nameservers: z.Nameservers}
	}
	return out, err
}

func (p alidnsPort) FindRecords(ctx context.Context, zone, rr, typ string) ([]Record, error) {
	rs, err := p.a.FindRecords(ctx, zone, rr, typ)
	out := make([]Record, len(rs))
	for i, r := range rs {
		out[i] = Record{ID: r.ID, Zone: r.Zone, RR: r.RR, Type: r.Type, Value: r.Value}
	}
	return out, err
}

func (p alidnsPort) AddRecord(ctx context.Context, zone, rr, typ, value string, ttl int) (string, error) {
	return p.a.AddRecord(ctx, zone, rr, typ, value, ttl)
}

func (p alidnsPort) DeleteRecord(ctx context.Context, id string) error {
	return p.a.DeleteRecord(ctx, id)
}

// memLocker is an in-process lock per name that waits for the holder.
type memLocker struct {
	mu    sync.Mutex
	locks map[string]chan struct{}
}

func (l *memLocker) Lock(ctx context.Context, name string) (func(context.Context) error, error) {
	for {
		l.mu.Lock()
		if l.locks == nil {
			l.locks = map[string]chan struct{}{}
		}
		ch, held := l.locks[name]
		if !held {
			ch = make(chan struct{})
			l.locks[name] = ch
			l.mu.Unlock()
			return func(context.Context) error {
				l.mu.Lock()
				delete(l.locks, name)
				l.mu.Unlock()
				close(ch)
				return nil
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ErrBusy
		}
	}
}

// env is a local ACME CA validating against a local authoritative DNS
// server whose records the Alidns API writes.
type env struct {
	store   *dnsemu.Store
	dns     *dnsemu.Server
	ca      *acmeca.CA
	inj     *faults.Injector
	alidns  *alidnsemu.Server
	bucket  *bucketStore
	notes   *notifytest.Recorder
	r       *Renewer
	secrets []string // the local cloud's secret and token
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{store: dnsemu.NewStore(), inj: faults.New(3), bucket: newBucket(), notes: &notifytest.Recorder{}}
	e.store.AddZone("example.test")
	var err error
	if e.dns, err = dnsemu.Listen(e.store, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.dns.Close() })
	if e.ca, err = acmeca.Start(acmeca.Options{DNSServer: e.dns.Addr(), Faults: e.inj, Logs: caLogs()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.ca.Close() })
	if e.alidns, err = alidnsemu.New(alidnsemu.Options{Store: e.store, Faults: e.inj}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.alidns)
	t.Cleanup(srv.Close)
	acct := slbemu.DefaultAccounts()[1]
	e.secrets = []string{acct.AccessKeySecret, acct.SecurityToken}
	dnsAPI := aliyun.NewAlidns(aliyun.Credentials{AccessKeyID: acct.AccessKeyID, AccessKeySecret: acct.AccessKeySecret, SecurityToken: acct.SecurityToken},
		aliyun.AlidnsOptions{Endpoint: srv.URL, Retry: aliyun.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}})
	e.r = &Renewer{
		Objects: e.bucket, DNS: alidnsPort{dnsAPI}, Locker: &memLocker{}, Notifier: e.notes,
		CA:     &ACME{Objects: e.bucket, Bucket: bucket, AccountPrefix: "acme/accounts/", HTTPClient: e.ca.HTTPClient()},
		Bucket: bucket, Prefix: "certs/", StatePrefix: "acme/state/",
		Nameservers: []string{e.dns.Addr()}, PropagationTimeout: 10 * time.Second, PollInterval: 50 * time.Millisecond,
	}
	return e
}

// replaceCA points the environment at a CA of its own started with opts
// (closed at cleanup): acme.yaml files dropped from now on name it and the
// renewer trusts it.
func (e *env) replaceCA(t *testing.T, opts acmeca.Options) {
	t.Helper()
	ca, err := acmeca.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ca.Close() })
	e.ca = ca
	e.r.CA.(*ACME).HTTPClient = ca.HTTPClient()
}

// drop writes certs/<name>/acme.yaml pointing at the local CA.
func (e *env) drop(name string, yaml string) {
	e.bucket.Objects.Put(bucket, "certs/"+name+"/acme.yaml", []byte(yaml+"\ndirectory: "+e.ca.DirectoryURL()+"\n"))
}

func (e *env) run(t *testing.T, now time.Time, name string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	res, err := e.r.Run(ctx, now, Request{Name: name})
	if err != nil {
		t.Fatalf("Run: %v (result %+v)", err, res)
	}
	return res
}

func (e *env) state(t *testing.T, name string) State {
	t.Helper()
	st, err := e.r.loadState(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// txtLeft lists the TXT records in the zone.
func (e *env) txtLeft() []dnsemu.Record {
	var out []dnsemu.Record
	for _, r := range e.store.Records("example.test") {
		if r.Type == dnsemu.TypeTXT {
			out = append(out, r)
		}
	}
	return out
}

// verifyChain checks that fullchain.pem chains to the CA's root for every
// domain.
func (e *env) verifyChain(t *testing.T, name string, domains ...string) *x509.Certificate {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(e.ca.RootPEM())
	inter := x509.NewCertPool()
	var leaf *x509.Certificate
	rest := e.bucket.get(t, "certs/"+name+"/fullchain.pem")
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if leaf == nil {
			leaf = c
		} else {
			inter.AddCert(c)
		}
	}
	for _, d := range domains {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: strings.Replace(d, "*", "any", 1)}); err != nil {
			t.Errorf("certificate for %s does not verify against the local CA: %v", d, err)
		}
	}
	return leaf
}

// caLogs shows the CA's log with LEGO_DEBUG_LOG set.
func caLogs() io.Writer {
	if os.Getenv("LEGO_DEBUG_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}
