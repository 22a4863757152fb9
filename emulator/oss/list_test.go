package oss

import (
	"sort"
	"strings"
	"testing"

	sdk "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

func TestListObjectsV2Pagination(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(kind.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			keys := []string{"certs/a b/fullchain.pem", "certs/a b/privkey.pem", "certs/c+d.pem", "certs/é/x.pem", "certs/z%1.pem", "other/x.pem", "certs/é/y.pem"}
			for _, k := range keys {
				if err := f.srv.PutObject(testBucket, k, []byte(k)); err != nil {
					t.Fatal(err)
				}
			}
			b := f.bucket(t, kind)
			list := func(opts ...sdk.Option) (got []string, prefixes []string, pages int) {
				var token string
				for {
					o := append([]sdk.Option{}, opts...)
					if token != "" {
						o = append(o, sdk.ContinuationToken(token))
					}
					res, err := b.ListObjectsV2(o...)
					if err != nil {
						t.Fatalf("ListObjectsV2: %v", err)
					}
					pages++
					for _, c := range res.Objects {
						got = append(got, c.Key)
						if c.LastModified.IsZero() || c.Size != int64(len(c.Key)) {
							t.Fatalf("object %+v", c)
						}
					}
					prefixes = append(prefixes, res.CommonPrefixes...)
					if !res.IsTruncated {
						return
					}
					token = res.NextContinuationToken
					if pages > 20 {
						t.Fatal("pagination does not end")
					}
				}
			}
			var certs []string
			for _, k := range keys {
				if strings.HasPrefix(k, "certs/") {
					certs = append(certs, k)
				}
			}
			sort.Strings(certs)
			for _, tc := range []struct {
				name      string
				opts      []sdk.Option
				wantKeys  []string
				wantCP    []string
				wantPages int
			}{
				{"all one page", []sdk.Option{sdk.Prefix("certs/")}, certs, nil, 1},
				{"max-keys 1", []sdk.Option{sdk.Prefix("certs/"), sdk.MaxKeys(1)}, certs, nil, len(certs)},
				{"max-keys 2", []sdk.Option{sdk.Prefix("certs/"), sdk.MaxKeys(2)}, certs, nil, 3},
				{"exact fit", []sdk.Option{sdk.Prefix("certs/"), sdk.MaxKeys(len(certs))}, certs, nil, 1},
				{"delimiter", []sdk.Option{sdk.Prefix("certs/"), sdk.Delimiter("/")}, []string{"certs/c+d.pem", "certs/z%1.pem"}, []string{"certs/a b/", "certs/é/"}, 1},
				{"delimiter paged", []sdk.Option{sdk.Prefix("certs/"), sdk.Delimiter("/"), sdk.MaxKeys(1)}, []string{"certs/c+d.pem", "certs/z%1.pem"}, []string{"certs/a b/", "certs/é/"}, 4},
				{"start-after", []sdk.Option{sdk.Prefix("certs/"), sdk.StartAfter("certs/c+d.pem")}, certs[3:], nil, 1},
				{"no match", []sdk.Option{sdk.Prefix("nothing/")}, nil, nil, 1},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got, cps, pages := list(tc.opts...)
					if strings.Join(got, "|") != strings.Join(tc.wantKeys, "|") || strings.Join(cps, "|") != strings.Join(tc.wantCP, "|") || pages != tc.wantPages {
						t.Fatalf("got keys %q prefixes %q pages %d; want %q %q %d", got, cps, pages, tc.wantKeys, tc.wantCP, tc.wantPages)
					}
				})
			}
			_, err := b.ListObjectsV2(sdk.MaxKeys(1001))
			wantCode(t, err, 400, "InvalidArgument")
		})
	}
}

func TestListObjectsV1Marker(t *testing.T) {
	f := newFixture(t, Options{})
	keys := []string{"certs/a b/1.pem", "certs/a b/2.pem", "certs/c+d.pem", "certs/z.pem", "certs/é/x.pem"} // byte order
	for _, k := range keys {
		f.srv.PutObject(testBucket, k, []byte(k))
	}
	b := f.bucket(t, clientKinds[3])
	for _, tc := range []struct {
		name     string
		opts     []sdk.Option
		wantKeys string
		wantCP   string
		pages    int
	}{
		{"max-keys 2", []sdk.Option{sdk.Prefix("certs/"), sdk.MaxKeys(2)}, strings.Join(keys, "|"), "", 3},
		{"delimiter paged", []sdk.Option{sdk.Prefix("certs/"), sdk.Delimiter("/"), sdk.MaxKeys(1)}, "certs/c+d.pem|certs/z.pem", "certs/a b/|certs/é/", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got, cps []string
			marker, pages := "", 0
			for {
				res, err := b.ListObjects(append(tc.opts, sdk.Marker(marker))...)
				if err != nil {
					t.Fatalf("ListObjects: %v", err)
				}
				pages++
				for _, o := range res.Objects {
					got = append(got, o.Key)
				}
				cps = append(cps, res.CommonPrefixes...)
				if !res.IsTruncated || pages > 10 {
					break
				}
				marker = res.NextMarker
			}
			if strings.Join(got, "|") != tc.wantKeys || strings.Join(cps, "|") != tc.wantCP || pages != tc.pages {
				t.Fatalf("keys %q prefixes %q pages %d", got, cps, pages)
			}
		})
	}
}
