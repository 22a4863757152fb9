package oss

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

const (
	testBucket = "certs-bucket"
	testRegion = "cn-zhangjiakou"
	akID       = "LTAI5tLocalTestKey"
	akSecret   = "local-test-secret"
	stsID      = "STS.LocalTestKey"
	stsSecret  = "sts-test-secret"
	stsToken   = "CAIS-test-token+/="
)

type fixture struct {
	srv    *Server
	http   *httptest.Server
	mu     sync.Mutex
	events []ObjectEvent
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	if opts.Accounts == nil {
		opts.Accounts = []Account{{AccessKeyID: akID, AccessKeySecret: akSecret}, {AccessKeyID: stsID, AccessKeySecret: stsSecret, SecurityToken: stsToken}}
	}
	f := &fixture{srv: New(opts)}
	f.srv.CreateBucket(testBucket, testRegion)
	f.srv.OnWrite(func(ev ObjectEvent) {
		f.mu.Lock()
		f.events = append(f.events, ev)
		f.mu.Unlock()
	})
	f.http = httptest.NewServer(f.srv)
	t.Cleanup(func() { f.srv.Close(); f.http.Close() })
	return f
}

func (f *fixture) Events() []ObjectEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ObjectEvent(nil), f.events...)
}

type clientKind struct {
	name string
	v4   bool
	sts  bool
}

var clientKinds = []clientKind{{"V1-AK", false, false}, {"V1-STS", false, true}, {"V4-AK", true, false}, {"V4-STS", true, true}}

func (f *fixture) bucket(t *testing.T, k clientKind, extra ...sdk.ClientOption) *sdk.Bucket {
	t.Helper()
	id, secret := akID, akSecret
	var opts []sdk.ClientOption
	if k.sts {
		id, secret = stsID, stsSecret
		opts = append(opts, sdk.SecurityToken(stsToken))
	}
	if k.v4 {
		opts = append(opts, sdk.AuthVersion(sdk.AuthV4), sdk.Region(testRegion))
	}
	opts = append(opts, extra...)
	c, err := sdk.New(f.http.URL, id, secret, opts...)
	if err != nil {
		t.Fatalf("sdk.New: %v", err)
	}
	b, err := c.Bucket(testBucket)
	if err != nil {
		t.Fatalf("Bucket: %v", err)
	}
	return b
}

func serviceError(t *testing.T, err error) sdk.ServiceError {
	t.Helper()
	var se sdk.ServiceError
	if !errors.As(err, &se) {
		t.Fatalf("want oss.ServiceError, got %T: %v", err, err)
	}
	return se
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %d %s, got nil error", status, code)
	}
	se := serviceError(t, err)
	if se.StatusCode != status || se.Code != code {
		t.Fatalf("want %d %s, got %d %q (%v)", status, code, se.StatusCode, se.Code, err)
	}
	if len(se.RequestID) != 24 {
		t.Fatalf("request id %q: want 24 hex chars", se.RequestID)
	}
}

func crcOf(b []byte) string {
	return strconv.FormatUint(crc64.Checksum(b, crc64.MakeTable(crc64.ECMA)), 10)
}

func TestCRC64MatchesOSS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{{"", "0"}, {"123456789", "11051210869376104954"}, {"hello", "11177612005948864433"}} {
		t.Run(tc.in, func(t *testing.T) {
			if got := crcOf([]byte(tc.in)); got != tc.want {
				t.Fatalf("crc64(%q) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestV1DocumentVector(t *testing.T) {
	r := httptest.NewRequest("PUT", "http://127.0.0.1/oss-example/nelson", nil)
	r.Header.Set("Content-MD5", "ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=")
	r.Header.Set("Content-Type", "text/html")
	r.Header.Set("Date", "Thu, 17 Nov 2005 18:49:58 GMT")
	r.Header.Set("X-OSS-Magic", "abracadabra")
	r.Header.Set("X-OSS-Meta-Author", "foo@bar.com")
	sts := StringToSignV1(r, url.Values{}, "oss-example", "nelson")
	want := "PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\nThu, 17 Nov 2005 18:49:58 GMT\nx-oss-magic:abracadabra\nx-oss-meta-author:foo@bar.com\n/oss-example/nelson"
	if sts != want {
		t.Fatalf("string to sign:\n%q\nwant\n%q", sts, want)
	}
	m := hmac.New(sha1.New, []byte("OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV"))
	m.Write([]byte(sts))
	if got := base64.StdEncoding.EncodeToString(m.Sum(nil)); got != "26NBxoKdsyly4EDv6inkoDft/yA=" {
		t.Fatalf("signature %s", got)
	}
}

func TestV4KnownAnswer(t *testing.T) {
	// aliyun/alibabacloud-oss-go-sdk-v2 signer_test TestV4AuthHeader.
	r := httptest.NewRequest("PUT", "http://bucket.oss-cn-hangzhou.aliyuncs.com/1234%2B-/123/1.txt?%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2", nil)
	r.Header.Set("x-oss-head1", "value")
	r.Header.Set("abc", "value")
	r.Header.Set("ZAbc", "value")
	r.Header.Set("XYZ", "value")
	r.Header.Set("content-type", "text/plain")
	r.Header.Set("x-oss-content-sha256", "UNSIGNED-PAYLOAD")
	r.Header.Set("x-oss-date", "20231216T162057Z")
	q, _ := url.ParseQuery(r.URL.RawQuery)
	cr := CanonicalRequestV4(r, q, "bucket", "1234+-/123/1.txt", nil)
	want := "PUT\n/bucket/1234%2B-/123/1.txt\n%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\ncontent-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD"
	if cr != want {
		t.Fatalf("canonical request:\n%q\nwant\n%q", cr, want)
	}
}

func TestObjectOperationsWithRealSDK(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(kind.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			b := f.bucket(t, kind)
			key := "certs/site a/ünï €.pem"
			data := []byte("-----BEGIN CERTIFICATE-----\nhello\n-----END CERTIFICATE-----\n")

			if err := b.PutObject(key, bytes.NewReader(data), sdk.ContentType("application/x-pem-file"), sdk.Meta("Processed", "no")); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			got, err := b.GetObject(key)
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			body, _ := io.ReadAll(got)
			got.Close()
			if !bytes.Equal(body, data) {
				t.Fatalf("GetObject body %q", body)
			}

			res, err := b.DoGetObject(&sdk.GetObjectRequest{ObjectKey: key}, nil)
			if err != nil {
				t.Fatalf("DoGetObject: %v", err)
			}
			io.ReadAll(res.Response.Body)
			res.Response.Body.Close()
			if err := sdk.CheckDownloadCRC(res.ClientCRC.Sum64(), res.ServerCRC); err != nil {
				t.Fatalf("download CRC: %v", err)
			}

			rg, err := b.GetObject(key, sdk.Range(0, 9))
			if err != nil {
				t.Fatalf("GetObject range: %v", err)
			}
			part, _ := io.ReadAll(rg)
			rg.Close()
			if string(part) != string(data[:10]) {
				t.Fatalf("range body %q", part)
			}

			h, err := b.GetObjectDetailedMeta(key)
			if err != nil {
				t.Fatalf("HEAD: %v", err)
			}
			wantETag := `"` + strings.ToUpper(fmt.Sprintf("%x", md5sum(data))) + `"`
			for name, want := range map[string]string{
				"Etag": wantETag, "X-Oss-Meta-Processed": "no", "Content-Type": "application/x-pem-file",
				"Content-Length": strconv.Itoa(len(data)), "X-Oss-Hash-Crc64ecma": crcOf(data), "X-Oss-Object-Type": "Normal",
			} {
				if h.Get(name) != want {
					t.Errorf("HEAD %s = %q, want %q", name, h.Get(name), want)
				}
			}
			m, err := b.GetObjectMeta(key)
			if err != nil || m.Get("Etag") != wantETag {
				t.Fatalf("GetObjectMeta: %v %v", m, err)
			}
			if ok, err := b.IsObjectExist(key); !ok || err != nil {
				t.Fatalf("IsObjectExist = %v, %v", ok, err)
			}
			if ok, err := b.IsObjectExist("certs/missing.pem"); ok || err != nil {
				t.Fatalf("IsObjectExist(missing) = %v, %v", ok, err)
			}

			tags := sdk.Tagging{Tags: []sdk.Tag{{Key: "managed-by", Value: "slb-cert-rotator"}, {Key: "state", Value: "done"}}}
			if err := b.PutObjectTagging(key, tags); err != nil {
				t.Fatalf("PutObjectTagging: %v", err)
			}
			gt, err := b.GetObjectTagging(key)
			if err != nil || len(gt.Tags) != 2 || gt.Tags[1].Value != "done" {
				t.Fatalf("GetObjectTagging: %+v %v", gt, err)
			}
			h, _ = b.GetObjectDetailedMeta(key)
			if h.Get("X-Oss-Tagging-Count") != "2" {
				t.Fatalf("tagging count %q", h.Get("X-Oss-Tagging-Count"))
			}
			if err := b.DeleteObjectTagging(key); err != nil {
				t.Fatalf("DeleteObjectTagging: %v", err)
			}
			gt, err = b.GetObjectTagging(key)
			if err != nil || len(gt.Tags) != 0 {
				t.Fatalf("tags after delete: %+v %v", gt, err)
			}

			dst := "archive/site a/ünï €.pem"
			cr, err := b.CopyObject(key, dst)
			if err != nil {
				t.Fatalf("CopyObject: %v", err)
			}
			if cr.ETag != wantETag || cr.LastModified.IsZero() {
				t.Fatalf("CopyObject result %+v", cr)
			}
			h, _ = b.GetObjectDetailedMeta(dst)
			if h.Get("X-Oss-Meta-Processed") != "no" {
				t.Fatalf("copy did not keep metadata: %v", h)
			}
			if _, err := b.CopyObject(key, dst, sdk.MetadataDirective(sdk.MetaReplace), sdk.Meta("Processed", "yes")); err != nil {
				t.Fatalf("CopyObject REPLACE: %v", err)
			}
			h, _ = b.GetObjectDetailedMeta(dst)
			if h.Get("X-Oss-Meta-Processed") != "yes" {
				t.Fatalf("REPLACE metadata not applied: %v", h)
			}

			if err := b.DeleteObject(dst); err != nil {
				t.Fatalf("DeleteObject: %v", err)
			}
			if err := b.DeleteObject(dst); err != nil {
				t.Fatalf("DeleteObject of a missing key must succeed (204): %v", err)
			}
			_, err = b.GetObject(dst)
			wantCode(t, err, 404, "NoSuchKey")
			_, err = b.GetObjectDetailedMeta(dst)
			wantCode(t, err, 404, "NoSuchKey")
			_, err = b.GetObjectTagging(dst)
			wantCode(t, err, 404, "NoSuchKey")

			evs := f.Events()
			var names []string
			for _, e := range evs {
				names = append(names, e.EventName+" "+e.Key)
			}
			want := []string{
				"ObjectCreated:PutObject " + key,
				"ObjectCreated:CopyObject " + dst,
				"ObjectCreated:CopyObject " + dst,
				"ObjectRemoved:DeleteObject " + dst,
			}
			if strings.Join(names, "|") != strings.Join(want, "|") {
				t.Fatalf("events:\n%v\nwant\n%v", names, want)
			}
			if e := evs[0]; e.ETag != strings.Trim(wantETag, `"`) || e.Size != int64(len(data)) || e.DeltaSize != int64(len(data)) || e.Region != testRegion || e.Bucket != testBucket || len(e.RequestID) != 24 {
				t.Fatalf("event %+v", e)
			}
		})
	}
}

func md5sum(b []byte) []byte {
	h := newMD5()
	h.Write(b)
	return h.Sum(nil)
}

func TestUploadChecks(t *testing.T) {
	f := newFixture(t, Options{})
	b := f.bucket(t, clientKinds[0], sdk.EnableMD5(true), sdk.EnableCRC(true))
	data := []byte("content with md5")
	if err := b.PutObject("m.pem", bytes.NewReader(data)); err != nil {
		t.Fatalf("PutObject with MD5+CRC: %v", err)
	}
	err := b.PutObject("bad.pem", bytes.NewReader(data), sdk.ContentMD5(base64.StdEncoding.EncodeToString(make([]byte, 16))))
	wantCode(t, err, 400, "InvalidDigest")
	// A reader without Len goes out chunked.
	if err := b.PutObject("chunked.pem", io.MultiReader(strings.NewReader("abc"), strings.NewReader("def"))); err != nil {
		t.Fatalf("chunked PutObject: %v", err)
	}
	if got, _ := f.srv.Object(testBucket, "chunked.pem"); string(got) != "abcdef" {
		t.Fatalf("chunked body %q", got)
	}
	err = b.PutObject("m.pem", bytes.NewReader(data), sdk.ForbidOverWrite(true))
	wantCode(t, err, 409, "FileAlreadyExists")
	_, err = b.CopyObject("m.pem", "chunked.pem", sdk.ForbidOverWrite(true))
	wantCode(t, err, 409, "FileAlreadyExists")
	if err := b.PutObject("tagged.pem", bytes.NewReader(data), sdk.SetTagging(sdk.Tagging{Tags: []sdk.Tag{{Key: "a b", Value: "c&d"}}})); err != nil {
		t.Fatal(err)
	}
	tg, err := b.GetObjectTagging("tagged.pem")
	if err != nil || len(tg.Tags) != 1 || tg.Tags[0].Key != "a b" || tg.Tags[0].Value != "c&d" {
		t.Fatalf("x-oss-tagging: %+v %v", tg, err)
	}
}

func TestRangeBehaviour(t *testing.T) {
	f := newFixture(t, Options{})
	data := []byte("0123456789")
	f.srv.PutObject(testBucket, "r", data)
	b := f.bucket(t, clientKinds[0])
	for _, tc := range []struct {
		name       string
		opts       []sdk.Option
		want       string
		wantStatus int
	}{
		{"prefix", []sdk.Option{sdk.Range(0, 3)}, "0123", 0},
		{"middle", []sdk.Option{sdk.Range(4, 6)}, "456", 0},
		{"end past size ignored by default", []sdk.Option{sdk.Range(5, 100)}, "0123456789", 0},
		{"end past size truncated when standard", []sdk.Option{sdk.Range(5, 100), sdk.RangeBehavior("standard")}, "56789", 0},
		{"suffix", []sdk.Option{sdk.NormalizedRange("-3")}, "789", 0},
		{"start past size default", []sdk.Option{sdk.Range(20, 30)}, "0123456789", 0},
		{"start past size standard", []sdk.Option{sdk.Range(20, 30), sdk.RangeBehavior("standard")}, "", 416},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := b.GetObject("r", tc.opts...)
			if tc.wantStatus != 0 {
				wantCode(t, err, tc.wantStatus, "InvalidRange")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestBucketOperations(t *testing.T) {
	f := newFixture(t, Options{})
	c, _ := sdk.New(f.http.URL, akID, akSecret)
	if err := c.CreateBucket("new-bucket"); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	info, err := c.GetBucketInfo("new-bucket")
	if err != nil || info.BucketInfo.Name != "new-bucket" || info.BucketInfo.Location != "oss-cn-zhangjiakou" || info.BucketInfo.CreationDate.IsZero() {
		t.Fatalf("GetBucketInfo: %+v %v", info, err)
	}
	_, err = c.GetBucketInfo("nope-bucket")
	wantCode(t, err, 404, "NoSuchBucket")
	if d := f.srv.Dump(); len(d) != 2 || d[1].Name != "new-bucket" {
		t.Fatalf("Dump: %+v", d)
	}
}

func newMD5() hash.Hash { return md5.New() }

func TestVirtualHostStyle(t *testing.T) {
	f := newFixture(t, Options{})
	f.srv.PutObject(testBucket, "dir/k.pem", []byte("vh"))
	req, _ := http.NewRequest(http.MethodGet, f.http.URL+"/dir/k.pem", nil)
	req.Host = testBucket + ".oss-cn-zhangjiakou.aliyuncs.com"
	req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	sts := StringToSignV1(req, url.Values{}, testBucket, "dir/k.pem")
	m := hmac.New(sha1.New, []byte(akSecret))
	m.Write([]byte(sts))
	req.Header.Set("Authorization", "OSS "+akID+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "vh" {
		t.Fatalf("virtual host GET: %d %s", resp.StatusCode, body)
	}
}
