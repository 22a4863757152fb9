package issuance

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/acme/api"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// Errors an order can end with (besides transient ones).
var (
	// ErrRefused: the CA refused the order or a challenge failed
	// validation; the CA's problem is in the message.
	ErrRefused = errors.New("the CA refused")
	// ErrRateLimited: the CA answered rateLimited.
	ErrRateLimited = errors.New("rate limited by the CA")
	// ErrDNSSetup: the DNS side cannot work as configured (no such zone,
	// no permission on Alibaba Cloud DNS).
	ErrDNSSetup = errors.New("the DNS setup does not work")
	// ErrAccount: the ACME account cannot be used (deactivated, revoked).
	ErrAccount = errors.New("the ACME account is not usable")
)

// Issued is a certificate the CA issued.
type Issued struct {
	FullchainPEM []byte
	KeyPEM       []byte // never logged or returned (Result carries no key)
}

// ACME talks to an ACME CA with lego. The account key of each (directory,
// external account) lives in the bucket under AccountPrefix, written with
// server-side encryption, created once.
type ACME struct {
	Objects       Objects
	Bucket        string
	AccountPrefix string // e.g. "acme/accounts/"
	HTTPClient    *http.Client
	UserAgent     string
}

// accountKey returns the bucket key of cfg's account key.
func (a *ACME) accountKey(cfg Config) string {
	sum := sha256.Sum256([]byte(cfg.Directory + "\n" + cfg.EAB.KeyID))
	host := "ca"
	if u, err := url.Parse(cfg.Directory); err == nil && u.Hostname() != "" {
		host = strings.ReplaceAll(u.Hostname(), ":", "_")
	}
	return a.AccountPrefix + host + "-" + hex.EncodeToString(sum[:6]) + ".key"
}

// loadOrCreateKey returns the account key, creating it if-absent (two
// concurrent runs end with the same key).
func (a *ACME) loadOrCreateKey(ctx context.Context, cfg Config) (crypto.Signer, error) {
	key := a.accountKey(cfg)
	for range 2 {
		data, err := a.Objects.Get(ctx, a.Bucket, key, 16<<10)
		if err == nil {
			return parseAccountKey(data, key)
		}
		if !errors.Is(err, apierr.ErrNotFound) {
			return nil, fmt.Errorf("read the ACME account key %s: %w", key, err)
		}
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate an ACME account key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("encode the ACME account key: %w", err)
		}
		created, err := a.Objects.PutSecretIfAbsent(ctx, a.Bucket, key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), "application/x-pem-file")
		if err != nil {
			return nil, fmt.Errorf("store the ACME account key %s: %w", key, err)
		}
		if created {
			return k, nil
		}
	}
	return nil, fmt.Errorf("store the ACME account key %s: another run keeps replacing it", key)
}

func parseAccountKey(data []byte, key string) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: ACME account key %s is not PEM: delete it to register a new account", apierr.ErrInvalid, key)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: ACME account key %s cannot be parsed (PKCS#8 expected): delete it to register a new account", apierr.ErrInvalid, key)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: ACME account key %s is not a signing key", apierr.ErrInvalid, key)
	}
	return s, nil
}

type user struct {
	email string
	key   crypto.Signer
	reg   *acme.ExtendedAccount
}

func (u *user) GetEmail() string                       { return u.email }
func (u *user) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *user) GetPrivateKey() crypto.Signer           { return u.key }

func (a *ACME) client(cfg Config, u *user) (*lego.Client, error) {
	return a.clientWith(context.Background(), cfg, u, nil)
}

// clientWith is client whose HTTP client reports the orders it creates.
func (a *ACME) clientWith(ctx context.Context, cfg Config, u *user, onOrder func(context.Context, string)) (*lego.Client, error) {
	lc := lego.NewConfig(u)
	lc.CADirURL = cfg.Directory
	lc.HTTPClient = a.httpClient()
	if onOrder != nil {
		lc.HTTPClient = spyClient(ctx, lc.HTTPClient, onOrder)
	}
	lc.UserAgent = a.UserAgent
	c, err := lego.NewClient(lc)
	if err != nil {
		return nil, fmt.Errorf("acme directory %s: %w", cfg.Directory, classify(err))
	}
	return c, nil
}

// RenewalWindow asks the CA for leaf's ARI window; nil when the CA offers
// none.
func (a *ACME) RenewalWindow(ctx context.Context, cfg Config, leaf *x509.Certificate) (*Window, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // ARI needs no account
	if err != nil {
		return nil, err
	}
	c, err := a.client(cfg, &user{key: k})
	if err != nil {
		return nil, err
	}
	ri, err := c.Certificate.GetRenewalInfo(ctx, leaf)
	if errors.Is(err, api.ErrNoARI) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("renewal information: %w", classify(err))
	}
	return &Window{Start: ri.SuggestedWindow.Start, End: ri.SuggestedWindow.End, ExplanationURL: ri.ExplanationURL}, nil
}

// Obtain registers (or finds) the account and places one order for cfg's
// domains, solving DNS-01 with p.
func (a *ACME) Obtain(ctx context.Context, cfg Config, p *Provider, hooks OrderHooks) (Issued, error) {
	key, err := a.loadOrCreateKey(ctx, cfg)
	if err != nil {
		return Issued{}, err
	}
	certSigner, keyPEM, err := certKey(cfg.KeyType)
	if err != nil {
		return Issued{}, err
	}
	if hooks.KeyReady != nil {
		if err := hooks.KeyReady(ctx, keyPEM); err != nil {
			return Issued{}, err
		}
	}
	u := &user{email: cfg.Contact, key: key}
	c, err := a.clientWith(ctx, cfg, u, hooks.OrderPlaced)
	if err != nil {
		return Issued{}, err
	}
	if u.reg, err = a.account(ctx, c, cfg); err != nil {
		return Issued{}, err
	}
	if err := c.Challenge.SetDNS01Provider(p, dns01.WrapPreCheck(func(ctx context.Context, domain, fqdn, value string, _ dns01.PreCheckFunc) (bool, error) {
		return p.PreCheck(ctx, domain, fqdn, value)
	})); err != nil {
		return Issued{}, fmt.Errorf("dns-01 provider: %w", err)
	}
	res, err := c.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: cfg.Domains, PrivateKey: certSigner, Bundle: true})
	if err != nil {
		return Issued{}, fmt.Errorf("order for %s: %w", strings.Join(cfg.Domains, ", "), classify(err))
	}
	return Issued{FullchainPEM: res.Certificate, KeyPEM: keyPEM}, nil
}

// account finds the key's account, registering it when the CA does not
// know it (first run, or the CA lost it).
func (a *ACME) account(ctx context.Context, c *lego.Client, cfg Config) (*acme.ExtendedAccount, error) {
	reg, err := c.Registration.ResolveAccountByKey(ctx)
	if err == nil {
		if reg.Status != "" && reg.Status != acme.StatusValid {
			return nil, accountUnusable(reg.Status)
		}
		return reg, nil
	}
	var pd *acme.ProblemDetails
	if !errors.As(err, &pd) || pd.Type != acme.AccountDoesNotExistErrorType {
		if errors.As(err, &pd) && pd.Type == acme.UnauthorizedErrorType {
			return nil, fmt.Errorf("%w: %s: %s", ErrAccount, accountHint, pd.Detail)
		}
		return nil, fmt.Errorf("acme account: %w", classify(err))
	}
	if cfg.EAB.KeyID != "" {
		reg, err = c.Registration.RegisterWithExternalAccountBinding(ctx, registration.RegisterEABOptions{
			TermsOfServiceAgreed: true, Kid: cfg.EAB.KeyID, HmacEncoded: cfg.EAB.HMACKey})
	} else {
		reg, err = c.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true})
	}
	if err != nil {
		return nil, fmt.Errorf("acme account registration: %w", classify(err))
	}
	return reg, nil
}

const accountHint = "the CA refuses the account (deactivated or revoked): delete its key under the account prefix in the bucket so that the next run registers a new account"

func accountUnusable(status string) error {
	return fmt.Errorf("%w: account status %q: %s", ErrAccount, status, accountHint)
}

// Problem is the CA's error in a result or a notification.
type Problem struct {
	Type       string        `json:"type,omitempty"`
	Detail     string        `json:"detail,omitempty"`
	Status     int           `json:"status,omitempty"`
	RetryAfter time.Duration `json:"-"`
}

// classify wraps an ACME client error with its kind: rate limits, refusals
// (any ACME problem but a server error) and the rest, which is transient.
func classify(err error) error {
	var rl *acme.RateLimitedError
	if errors.As(err, &rl) {
		return &caError{kind: ErrRateLimited, err: err, retryAfter: rl.RetryAfter}
	}
	var pd *acme.ProblemDetails
	if errors.As(err, &pd) {
		switch pd.Type {
		case acme.RateLimitedErrorType:
			return &caError{kind: ErrRateLimited, err: err}
		case "urn:ietf:params:acme:error:serverInternal":
			return &caError{kind: apierr.ErrTransient, err: err}
		}
		if strings.Contains(pd.Detail, "deactivated") {
			return &caError{kind: ErrAccount, err: err}
		}
		return &caError{kind: ErrRefused, err: err}
	}
	if errors.Is(err, ErrZone) || apierr.Permanent(err) {
		return &caError{kind: ErrDNSSetup, err: err}
	}
	return &caError{kind: apierr.ErrTransient, err: err}
}

type caError struct {
	kind       error
	err        error
	retryAfter time.Duration
}

func (e *caError) Error() string             { return e.err.Error() }
func (e *caError) Unwrap() []error           { return []error{e.kind, e.err} }
func (e *caError) RetryAfter() time.Duration { return e.retryAfter }

func legoKeyType(k string) certcrypto.KeyType {
	switch k {
	case KeyRSA3072:
		return certcrypto.RSA3072
	case KeyRSA4096:
		return certcrypto.RSA4096
	case KeyEC256:
		return certcrypto.EC256
	case KeyEC384:
		return certcrypto.EC384
	}
	return certcrypto.RSA2048
}
