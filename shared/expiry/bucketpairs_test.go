package expiry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation/rotationtest"
)

// failingGet fails every Get of one key with err (the rest of the bucket
// answers).
type failingGet struct {
	*rotationtest.Objects
	key string
	err error
}

func (f failingGet) Get(ctx context.Context, bucket, key string, maxSize int64) ([]byte, error) {
	if key == f.key {
		return nil, fmt.Errorf("fake oss: get %s/%s: %w", bucket, key, f.err)
	}
	return f.Objects.Get(ctx, bucket, key, maxSize)
}

// TestBucketPairsDeploy: a pair's deploy.yaml pins its targets; an invalid
// one drops the pair (the rotation rejects it); a transient failure reading
// it fails the listing, naming the pair.
func TestBucketPairsDeploy(t *testing.T) {
	ca := certstest.NewCA(t, "Bucket Pairs CA")
	const bucket, deployKey = "bkt", "certs/www/deploy.yaml"
	for _, tc := range []struct {
		name        string
		deploy      string // "" = none stored
		readErr     error
		wantErr     bool
		wantTargets int
		wantPairs   []string
		explicit    bool
	}{
		{name: "no deploy.yaml", wantPairs: []string{"api", "www"}},
		{name: "targets", deploy: "targets: [{region: r, loadBalancerId: lb-1, listenerPort: 443}]\n",
			wantPairs: []string{"api", "www"}, wantTargets: 1, explicit: true},
		{name: "invalid", deploy: "keep: -1\n", wantPairs: []string{"api"}},
		{name: "vanished since the listing", deploy: "keep: 1\n", readErr: apierr.ErrNotFound, wantPairs: []string{"api", "www"}},
		{name: "transient", deploy: "keep: 1\n", readErr: apierr.ErrTransient, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := &rotationtest.Objects{}
			for _, name := range []string{"www", "api"} {
				p := ca.Issue(t, certstest.Options{Domains: []string{name + ".example.com"}, Chain: true})
				objs.Put(bucket, "certs/"+name+"/fullchain.pem", p.CertPEM)
				objs.Put(bucket, "certs/"+name+"/privkey.pem", p.KeyPEM)
			}
			if tc.deploy != "" {
				objs.Put(bucket, deployKey, []byte(tc.deploy))
			}
			store := failingGet{Objects: objs, key: "none"}
			if tc.readErr != nil {
				store.key, store.err = deployKey, tc.readErr
			}
			bp := expiry.BucketPairs{Objects: store, Bucket: bucket, Prefix: "certs/", MinValidDays: 7}
			cands, err := bp.Candidates(context.Background(), time.Now())
			if tc.wantErr {
				if !errors.Is(err, apierr.ErrTransient) || !strings.Contains(err.Error(), "pair www") {
					t.Fatalf("err = %v; want a transient error naming pair www", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range cands {
				names = append(names, c.Name)
				if c.Name == "www" && (len(c.Targets) != tc.wantTargets || c.ExplicitOnly != tc.explicit) {
					t.Errorf("www: %d targets, explicit only %v; want %d, %v", len(c.Targets), c.ExplicitOnly, tc.wantTargets, tc.explicit)
				}
			}
			if strings.Join(names, ",") != strings.Join(tc.wantPairs, ",") {
				t.Errorf("candidates %q; want %q", names, tc.wantPairs)
			}
		})
	}
}
