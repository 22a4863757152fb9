package issuance

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/acme/api"
	"github.com/go-acme/lego/v5/certcrypto"
)

// OrderHooks let the use case persist what a resumed run needs, before the
// CA can issue: the certificate's key (before the order) and the order's
// URL (as soon as the CA created it).
type OrderHooks struct {
	KeyReady    func(ctx context.Context, keyPEM []byte) error
	OrderPlaced func(ctx context.Context, orderURL string)
}

// orderSpy is an http.RoundTripper that reports the URL of every order the
// CA creates (201 with a Location and a finalize URL in the body).
type orderSpy struct {
	base    http.RoundTripper
	ctx     context.Context
	onOrder func(ctx context.Context, url string)
}

func (s orderSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err != nil || r.Method != http.MethodPost || resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") == "" {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr == nil && bytes.Contains(body, []byte(`"finalize"`)) {
		s.onOrder(s.ctx, resp.Header.Get("Location"))
	}
	return resp, nil
}

// spyClient returns a copy of c whose transport reports orders.
func spyClient(ctx context.Context, c *http.Client, onOrder func(context.Context, string)) *http.Client {
	if c == nil {
		c = &http.Client{Timeout: time.Minute}
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp := *c
	cp.Transport = orderSpy{base: base, ctx: ctx, onOrder: onOrder}
	return &cp
}

// certKey makes the certificate's key and its PEM.
func certKey(keyType string) (crypto.Signer, []byte, error) {
	k, err := certcrypto.GeneratePrivateKey(legoKeyType(keyType))
	if err != nil {
		return nil, nil, fmt.Errorf("generate the certificate key: %w", err)
	}
	return k, certcrypto.PEMEncode(k), nil
}

// Resume finishes an order an interrupted run placed: a valid order's
// certificate is downloaded, a ready one is finalized with keyPEM's CSR.
// ok=false (nil error) when the order cannot be finished without solving
// its challenges again (pending, invalid, expired, unknown).
func (a *ACME) Resume(ctx context.Context, cfg Config, orderURL string, keyPEM []byte) (Issued, bool, error) {
	key, err := a.loadOrCreateKey(ctx, cfg)
	if err != nil {
		return Issued{}, false, err
	}
	certKey, err := parseCertKey(keyPEM)
	if err != nil {
		return Issued{}, false, nil
	}
	u := &user{email: cfg.Contact, key: key}
	c, err := a.client(cfg, u)
	if err != nil {
		return Issued{}, false, err
	}
	if u.reg, err = c.Registration.ResolveAccountByKey(ctx); err != nil {
		return Issued{}, false, nil
	}
	core, err := api.New(a.httpClient(), a.UserAgent, cfg.Directory, u.reg.Location, key)
	if err != nil {
		return Issued{}, false, fmt.Errorf("acme directory %s: %w", cfg.Directory, classify(err))
	}
	order, err := core.Orders.Get(ctx, orderURL)
	if err != nil {
		return Issued{}, false, nil
	}
	if order.Status == acme.StatusReady {
		csr, err := certcrypto.CreateCSR(certKey, certcrypto.CSROptions{Domain: cfg.Domains[0], SAN: cfg.Domains})
		if err != nil {
			return Issued{}, false, fmt.Errorf("csr: %w", err)
		}
		if order, err = core.Orders.UpdateForCSR(ctx, order.Finalize, csr); err != nil {
			return Issued{}, false, nil
		}
		for i := 0; i < 10 && order.Status == acme.StatusProcessing; i++ {
			time.Sleep(500 * time.Millisecond)
			if order, err = core.Orders.Get(ctx, orderURL); err != nil {
				return Issued{}, false, nil
			}
		}
	}
	if order.Status != acme.StatusValid || order.Certificate == "" {
		return Issued{}, false, nil
	}
	raw, err := core.Certificates.Get(ctx, order.Certificate, true)
	if err != nil {
		return Issued{}, false, fmt.Errorf("download the certificate of %s: %w", orderURL, classify(err))
	}
	return Issued{FullchainPEM: raw.Cert, KeyPEM: keyPEM}, true, nil
}

func (a *ACME) httpClient() *http.Client {
	if a.HTTPClient != nil {
		return a.HTTPClient
	}
	return &http.Client{Timeout: time.Minute}
}

func parseCertKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, errors.New("unsupported key")
}
