package pairs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// ObjectReader reads the certificate bucket. Get must refuse an object
// larger than maxSize without reading it (an error that Is apierr.ErrInvalid)
// and report a missing object with an error that Is apierr.ErrNotFound.
// *aliyun.OSS satisfies it.
type ObjectReader interface {
	Get(ctx context.Context, bucket, key string, maxSize int64) ([]byte, error)
	// ListKeys returns the keys of every object under prefix (all pages).
	ListKeys(ctx context.Context, bucket, prefix string) ([]string, error)
}

// ErrIncomplete is reported (wrapped) by Load when a half of the pair is
// missing; the rotation then waits for the other half's event.
var ErrIncomplete = errors.New("pair incomplete")

// Load reads the pair stored under <prefix><name> (folder or bundle
// layout), each object capped at certs.MaxObjectSize, and validates it with
// certs.Parse. A missing half gives an error that Is ErrIncomplete; a refused
// pair or an oversized object gives a *certs.Error. Both answer
// apierr.ErrInvalid.
func Load(ctx context.Context, store ObjectReader, bucket, prefix, name string, now time.Time, opts certs.Options) (*certs.Bundle, error) {
	b, _, err := LoadLayout(ctx, store, bucket, prefix, name, "", now, opts)
	return b, err
}

// LoadLayout is Load restricted to one layout (the one of the object whose
// event started a rotation); an empty layout takes the folder when it holds
// a half, else the bundle. It also returns the pair's Ref, whose DeployKey
// names its deploy.yaml (read it with LoadDeploy).
func LoadLayout(ctx context.Context, store ObjectReader, bucket, prefix, name string, layout Layout, now time.Time, opts certs.Options) (*certs.Bundle, Ref, error) {
	ref, err := listPair(ctx, store, bucket, prefix, name, layout)
	if err != nil {
		return nil, ref, err
	}
	switch {
	case ref.CertKey == "" && ref.KeyKey == "":
		return nil, ref, fmt.Errorf("pairs: neither a certificate nor a key is stored under %s%s/ or as %s%s.pem: %w", prefix, name, prefix, name, ErrIncomplete)
	case ref.CertKey == "":
		return nil, ref, fmt.Errorf("pairs: the certificate (fullchain.pem, cert.pem or %s.crt) is missing next to %s: %w", name, ref.KeyKey, ErrIncomplete)
	case ref.KeyKey == "":
		return nil, ref, fmt.Errorf("pairs: the key (privkey.pem, key.pem or %s.key) is missing next to %s: %w", name, ref.CertKey, ErrIncomplete)
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

// LoadDeploy reads and parses the deploy.yaml stored under key (a Ref's
// DeployKey). One deleted since the listing is an empty Deploy; an oversized
// or invalid one is a *certs.Error; anything else is the store's error.
func LoadDeploy(ctx context.Context, store ObjectReader, bucket, key string) (Deploy, error) {
	data, err := getObject(ctx, store, bucket, key)
	switch {
	case errors.Is(err, ErrIncomplete):
		return Deploy{}, nil
	case err != nil:
		return Deploy{}, err
	}
	return ParseDeploy(key, data)
}

// getObject reads one object with the size cap.
func getObject(ctx context.Context, store ObjectReader, bucket, key string) ([]byte, error) {
	data, err := store.Get(ctx, bucket, key, certs.MaxObjectSize)
	switch {
	case err == nil:
		return data, nil
	case errors.Is(err, apierr.ErrNotFound):
		return nil, fmt.Errorf("pairs: %s disappeared while reading the pair: %w", key, ErrIncomplete)
	case errors.Is(err, apierr.ErrInvalid):
		return nil, &certs.Error{File: key, Problem: fmt.Sprintf("the file is larger than %d KiB, more than a certificate chain or key can need, and was not read", certs.MaxObjectSize>>10),
			Fix: "store only the PEM certificate chain and key", Err: err}
	default:
		return nil, fmt.Errorf("pairs: read %s/%s: %w", bucket, key, err)
	}
}
