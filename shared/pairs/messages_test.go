package pairs_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation/rotationtest"
)

// TestLoadMessages: each message names its subject once (the file or
// the folder) and leaves naming the pair to whoever wraps it.
func TestLoadMessages(t *testing.T) {
	tests := []struct {
		name    string
		objects map[string][]byte
		want    string
	}{
		{"oversized", map[string][]byte{
			"certs/example.com/fullchain.pem": bytes.Repeat([]byte("a"), certs.MaxObjectSize+1),
			"certs/example.com/privkey.pem":   []byte("k"),
		}, "certs/example.com/fullchain.pem: the file is larger than 64 KiB"},
		{"key missing", map[string][]byte{"certs/example.com/fullchain.pem": []byte("c")},
			"pairs: the key (privkey.pem, key.pem or example.com.key) is missing next to certs/example.com/fullchain.pem"},
		{"certificate missing", map[string][]byte{"certs/example.com/privkey.pem": []byte("k")},
			"pairs: the certificate (fullchain.pem, cert.pem or example.com.crt) is missing next to certs/example.com/privkey.pem"},
		{"nothing", map[string][]byte{},
			"pairs: neither a certificate nor a key is stored under certs/example.com/ or as certs/example.com.pem"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := &rotationtest.Objects{}
			for k, v := range tt.objects {
				objs.Put("bkt", k, v)
			}
			_, err := pairs.Load(context.Background(), objs, "bkt", "certs/", "example.com", time.Now(), certs.Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to start with %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pair example.com") {
				t.Errorf("err = %v names the pair: the caller's prefix does", err)
			}
		})
	}
}
