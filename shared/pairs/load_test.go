package pairs_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation/rotationtest"
)

const bucket = "bkt"

var testCA = certstest.NewCA(nil, "Pairs Test CA")

func TestLoad(t *testing.T) {
	objs := &rotationtest.Objects{}
	p := testCA.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, Chain: true})
	objs.Put(bucket, "certs/www/www.crt", p.CertPEM)
	objs.Put(bucket, "certs/www/www.key", p.KeyPEM)
	opts := certs.Options{MinValidDays: 7}
	b, err := pairs.Load(context.Background(), objs, bucket, "certs/", "www", time.Now(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if b.FingerprintSHA1 != p.FingerprintSHA1 {
		t.Errorf("fingerprint %s; want %s", b.FingerprintSHA1, p.FingerprintSHA1)
	}
	if _, err := pairs.Load(context.Background(), objs, bucket, "certs/", "api", time.Now(), opts); !errors.Is(err, pairs.ErrIncomplete) {
		t.Errorf("missing pair: err = %v; want ErrIncomplete", err)
	}
}

// TestLoadLayout: the layout of the event's object decides which objects
// are read, and the Ref names the deploy.yaml next to the folder.
func TestLoadLayout(t *testing.T) {
	objs := &rotationtest.Objects{}
	p := testCA.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, Chain: true})
	objs.Put(bucket, "certs/www/cert.pem", p.CertPEM) // the folder holds one half only
	objs.Put(bucket, "certs/www/deploy.yaml", []byte("keep: 1\n"))
	objs.Put(bucket, "certs/www.pem", p.Bundle())
	ctx, now, opts := context.Background(), time.Now(), certs.Options{}
	for _, tc := range []struct {
		layout     pairs.Layout
		want       pairs.Ref
		incomplete bool
	}{
		{"", pairs.Ref{Name: "www", Layout: pairs.LayoutDir, CertKey: "certs/www/cert.pem", DeployKey: "certs/www/deploy.yaml"}, true},
		{pairs.LayoutDir, pairs.Ref{Name: "www", Layout: pairs.LayoutDir, CertKey: "certs/www/cert.pem", DeployKey: "certs/www/deploy.yaml"}, true},
		{pairs.LayoutBundle, pairs.Ref{Name: "www", Layout: pairs.LayoutBundle, CertKey: "certs/www.pem", KeyKey: "certs/www.pem", DeployKey: "certs/www/deploy.yaml"}, false},
	} {
		t.Run(string(tc.layout), func(t *testing.T) {
			b, ref, err := pairs.LoadLayout(ctx, objs, bucket, "certs/", "www", tc.layout, now, opts)
			if !reflect.DeepEqual(ref, tc.want) {
				t.Errorf("ref = %+v; want %+v", ref, tc.want)
			}
			if got := errors.Is(err, pairs.ErrIncomplete); got != tc.incomplete {
				t.Fatalf("err = %v; incomplete %v, want %v", err, got, tc.incomplete)
			}
			if !tc.incomplete && (err != nil || b.FingerprintSHA1 != p.FingerprintSHA1) {
				t.Errorf("bundle %v, err %v; want the pair", b, err)
			}
		})
	}
}

// TestLoadDeploy: a deploy.yaml deleted since the listing is empty, an
// oversized or invalid one a refusal naming it, a store failure the store's
// error (still transient).
func TestLoadDeploy(t *testing.T) {
	const key = "certs/www/deploy.yaml"
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		data    []byte // nil: not stored
		failing error
		want    pairs.Deploy
		refused bool
	}{
		{name: "vanished"},
		{name: "targets", data: []byte("targets: [{region: r, loadBalancerId: lb-1, listenerPort: 443}]\n"),
			want: pairs.Deploy{Targets: []clb.Target{{Region: "r", LoadBalancerID: "lb-1", ListenerPort: 443}}}},
		{name: "oversized", data: bytes.Repeat([]byte("#"), certs.MaxObjectSize+1), refused: true},
		{name: "invalid", data: []byte("keep: -1\n"), refused: true},
		{name: "store down", data: []byte("keep: 1\n"), failing: apierr.ErrTransient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := &rotationtest.Objects{Err: tc.failing}
			if tc.data != nil {
				objs.Put(bucket, key, tc.data)
			}
			d, err := pairs.LoadDeploy(ctx, objs, bucket, key)
			var ce *certs.Error
			switch {
			case tc.failing != nil:
				if !errors.Is(err, tc.failing) || apierr.Permanent(err) {
					t.Fatalf("err = %v; want the store's %v, not permanent", err, tc.failing)
				}
			case tc.refused:
				if !errors.As(err, &ce) || ce.File != key || !apierr.Permanent(err) {
					t.Fatalf("err = %v; want a permanent *certs.Error naming %s", err, key)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(d, tc.want):
				t.Errorf("deploy = %+v; want %+v", d, tc.want)
			}
		})
	}
}
