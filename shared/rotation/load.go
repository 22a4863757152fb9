package rotation

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// ErrIncomplete is reported (wrapped) by LoadPair when a half of the pair is
// missing; the rotation then waits for the other half's event.
var ErrIncomplete = errors.New("pair incomplete")

// LoadPair reads the pair stored under <prefix><name> (folder or bundle
// layout), each object capped at certs.MaxObjectSize, and validates it with
// certs.Parse. A missing half gives an error that Is ErrIncomplete; a refused
// pair gives the *certs.Error; an oversized object gives a *PairError (the
// same type). Both answer apierr.ErrInvalid.
func LoadPair(ctx context.Context, store ObjectReader, bucket, prefix, name string, now time.Time, opts certs.Options) (*certs.Bundle, error) {
	b, _, err := loadPair(ctx, store, bucket, prefix, name, "", now, opts)
	return b, err
}

func loadPair(ctx context.Context, store ObjectReader, bucket, prefix, name string, layout Layout, now time.Time, opts certs.Options) (*certs.Bundle, PairRef, error) {
	ref, err := listPair(ctx, store, bucket, prefix, name, layout)
	if err != nil {
		return nil, ref, err
	}
	switch {
	case ref.CertKey == "" && ref.KeyKey == "":
		return nil, ref, fmt.Errorf("rotation: neither a certificate nor a key is stored under %s%s/ or as %s%s.pem: %w", prefix, name, prefix, name, ErrIncomplete)
	case ref.CertKey == "":
		return nil, ref, fmt.Errorf("rotation: the certificate (fullchain.pem, cert.pem or %s.crt) is missing next to %s: %w", name, ref.KeyKey, ErrIncomplete)
	case ref.KeyKey == "":
		return nil, ref, fmt.Errorf("rotation: the key (privkey.pem, key.pem or %s.key) is missing next to %s: %w", name, ref.CertKey, ErrIncomplete)
	}
	keys := []string{ref.CertKey}
	if ref.KeyKey != ref.CertKey {
		keys = append(keys, ref.KeyKey)
	}
	// The halves are independent reads: fetch them concurrently (one round).
	files := make([]certs.File, len(keys))
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, err := getObject(ctx, store, bucket, k)
			files[i], errs[i] = certs.File{Name: k, Data: data}, err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, ref, err
		}
	}
	b, err := certs.Parse(now, opts, files...)
	if err != nil {
		return nil, ref, err
	}
	return b, ref, nil
}

// getObject reads one object with the size cap.
func getObject(ctx context.Context, store ObjectReader, bucket, key string) ([]byte, error) {
	data, err := store.Get(ctx, bucket, key, certs.MaxObjectSize)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, apierr.ErrNotFound):
		return nil, fmt.Errorf("rotation: %s disappeared while reading the pair: %w", key, ErrIncomplete)
	case errors.Is(err, apierr.ErrInvalid):
		return nil, &PairError{File: key, Problem: fmt.Sprintf("the file is larger than %d KiB, more than a certificate chain or key can need, and was not read", certs.MaxObjectSize>>10),
			Fix: "store only the PEM certificate chain and key", Err: err}
	default:
		return nil, fmt.Errorf("rotation: read %s/%s: %w", bucket, key, err)
	}
}

// load reads and validates the pair and its deploy.yaml. A status is set
// for an outcome that ends the rotation early (waiting, rejected); err is
// set only for a failure worth retrying.
func (r *Rotator) load(ctx context.Context, now time.Time, bucket, prefix, name string, layout Layout) (m *material, d Deploy, deployFile string, status Status, reason string, err error) {
	b, ref, err := loadPair(ctx, r.Objects, bucket, prefix, name, layout, now, certs.Options{MinValidDays: r.Config.MinValidDays, AllowECDSA: r.takesECDSA()})
	deployFile = prefix + name + "/" + DeployFileName
	if err != nil {
		switch {
		case errors.Is(err, ErrIncomplete):
			return nil, d, deployFile, StatusWaiting, err.Error(), nil
		case errors.Is(err, certs.ErrKeyMismatch):
			return nil, d, deployFile, StatusWaiting, err.Error() + " (waiting for the other half)", nil
		case apierr.Permanent(err): // a refusal (certs.Error) answers apierr.ErrInvalid
			return nil, d, deployFile, StatusRejected, err.Error(), nil
		default:
			return nil, d, deployFile, "", "", err
		}
	}
	if ref.DeployKey != "" {
		data, err := getObject(ctx, r.Objects, bucket, ref.DeployKey)
		switch {
		case errors.Is(err, ErrIncomplete):
			// deleted meanwhile: no deploy file
		case err != nil:
			if apierr.Permanent(err) {
				return nil, d, deployFile, StatusRejected, err.Error(), nil
			}
			return nil, d, deployFile, "", "", err
		default:
			if d, err = ParseDeploy(ref.DeployKey, data); err != nil {
				return nil, d, deployFile, StatusRejected, err.Error(), nil
			}
		}
	}
	return fromBundle(name, b), d, deployFile, "", "", nil
}

// fromBundle extracts what the rotation needs from a validated bundle.
func fromBundle(name string, b *certs.Bundle) *material {
	return &material{
		name:        name,
		certName:    certs.CertificateName(name, b.NotAfter, b.FingerprintSHA1),
		certPEM:     b.CertPEM,
		key:         b.Key,
		fingerprint: b.FingerprintSHA1,
		sha256:      b.SHA256,
		notAfter:    b.NotAfter,
		domains:     b.Domains,
		ecdsa:       b.ECDSA,
	}
}
