package aliyun

import (
	"context"
	"fmt"
	"testing"
)

// TestOSSPutSecretEncrypts: secrets are written with
// x-oss-server-side-encryption, plain Puts without it, and the if-absent
// form keeps an existing object.
func TestOSSPutSecretEncrypts(t *testing.T) {
	for _, v4 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v4=%v", v4), func(t *testing.T) {
			fx := newOSSFixture(t)
			o := newTestOSS(t, fx.url, v4)
			ctx := context.Background()
			if err := o.PutSecret(ctx, "cert-bucket", "certs/a/privkey.pem", []byte("k1"), "application/x-pem-file"); err != nil {
				t.Fatal(err)
			}
			if err := o.Put(ctx, "cert-bucket", "certs/a/fullchain.pem", []byte("c1"), "application/x-pem-file"); err != nil {
				t.Fatal(err)
			}
			created, err := o.PutSecretIfAbsent(ctx, "cert-bucket", "acme/accounts/x.key", []byte("acct"), "")
			if err != nil || !created {
				t.Fatalf("first PutSecretIfAbsent = %v, %v", created, err)
			}
			if created, err = o.PutSecretIfAbsent(ctx, "cert-bucket", "acme/accounts/x.key", []byte("other"), ""); err != nil || created {
				t.Fatalf("second PutSecretIfAbsent = %v, %v; want false, nil", created, err)
			}
			if got, _ := o.Get(ctx, "cert-bucket", "acme/accounts/x.key", 1024); string(got) != "acct" {
				t.Errorf("the account key was overwritten: %q", got)
			}
			sse := map[string]string{}
			for _, b := range fx.emu.Dump() {
				for _, obj := range b.Objects {
					sse[obj.Key] = obj.Meta["x-oss-server-side-encryption"]
				}
			}
			want := map[string]string{"certs/a/privkey.pem": "AES256", "certs/a/fullchain.pem": "", "acme/accounts/x.key": "AES256"}
			for k, w := range want {
				if sse[k] != w {
					t.Errorf("%s: server-side encryption %q, want %q", k, sse[k], w)
				}
			}
		})
	}
}
