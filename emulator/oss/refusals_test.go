package oss

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

func TestRefusals(t *testing.T) {
	f := newFixture(t, Options{})
	if err := f.srv.PutObject(testBucket, "k.pem", []byte("x")); err != nil {
		t.Fatal(err)
	}
	mk := func(id, secret string, opts ...sdk.ClientOption) *sdk.Bucket {
		c, err := sdk.New(f.http.URL, id, secret, opts...)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := c.Bucket(testBucket)
		return b
	}
	v4 := []sdk.ClientOption{sdk.AuthVersion(sdk.AuthV4), sdk.Region(testRegion)}
	for _, tc := range []struct {
		name   string
		bucket *sdk.Bucket
		status int
		code   string
	}{
		{"V1 wrong secret", mk(akID, "wrong"), 403, "SignatureDoesNotMatch"},
		{"V4 wrong secret", mk(akID, "wrong", v4...), 403, "SignatureDoesNotMatch"},
		{"V1 unknown key", mk("LTAIunknown", akSecret), 403, "InvalidAccessKeyId"},
		{"V4 unknown key", mk("LTAIunknown", akSecret, v4...), 403, "InvalidAccessKeyId"},
		{"V1 STS without token", mk(stsID, stsSecret), 403, "InvalidAccessKeyId"},
		{"V4 STS without token", mk(stsID, stsSecret, v4...), 403, "InvalidAccessKeyId"},
		{"V1 STS wrong token", mk(stsID, stsSecret, sdk.SecurityToken("other")), 403, "InvalidSecurityToken"},
		{"V4 wrong region", mk(akID, akSecret, sdk.AuthVersion(sdk.AuthV4), sdk.Region("cn-hangzhou")), 400, "InvalidArgument"},
		{"V4 no region", mk(akID, akSecret, sdk.AuthVersion(sdk.AuthV4)), 400, "InvalidArgument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.bucket.GetObject("k.pem")
			wantCode(t, err, tc.status, tc.code)
			err = tc.bucket.PutObject("k2.pem", strings.NewReader("y"))
			wantCode(t, err, tc.status, tc.code)
			if _, ok := f.srv.Object(testBucket, "k2.pem"); ok {
				t.Fatal("refused PutObject stored the object")
			}
		})
	}
	t.Run("no such bucket", func(t *testing.T) {
		c, _ := sdk.New(f.http.URL, akID, akSecret)
		b, _ := c.Bucket("missing-bucket")
		_, err := b.GetObject("k.pem")
		wantCode(t, err, 404, "NoSuchBucket")
		_, err = b.ListObjectsV2()
		wantCode(t, err, 404, "NoSuchBucket")
	})
	t.Run("no such key", func(t *testing.T) {
		_, err := mk(akID, akSecret).GetObject("nope.pem")
		wantCode(t, err, 404, "NoSuchKey")
		se := serviceError(t, err)
		if !strings.Contains(se.RawMessage, "<Key>nope.pem</Key>") || se.Ec == "" {
			t.Fatalf("error body %s", se.RawMessage)
		}
	})
	t.Run("signature mismatch body", func(t *testing.T) {
		_, err := mk(akID, "wrong").GetObject("k.pem")
		se := serviceError(t, err)
		if !strings.Contains(se.RawMessage, "<StringToSign>GET&#xA;&#xA;&#xA;") || !strings.Contains(se.RawMessage, "<OSSAccessKeyId>"+akID) {
			t.Fatalf("error body %s", se.RawMessage)
		}
		if strings.Contains(se.RawMessage, akSecret) {
			t.Fatalf("secret leaked: %s", se.RawMessage)
		}
	})
	t.Run("skewed clock", func(t *testing.T) {
		g := newFixture(t, Options{Now: func() time.Time { return time.Now().Add(time.Hour) }})
		c, _ := sdk.New(g.http.URL, akID, akSecret)
		b, _ := c.Bucket(testBucket)
		_, err := b.GetObject("k.pem")
		wantCode(t, err, 403, "RequestTimeTooSkewed")
	})
	t.Run("anonymous", func(t *testing.T) {
		resp, err := http.Get(f.http.URL + "/" + testBucket + "/k.pem")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") || resp.Header.Get("x-oss-request-id") == "" {
			t.Fatalf("anonymous GET: %d %s", resp.StatusCode, body)
		}
	})
}

func TestFaultInjection(t *testing.T) {
	var mode string
	var mu sync.Mutex
	f := newFixture(t, Options{Faults: func(action string) Fault {
		mu.Lock()
		defer mu.Unlock()
		if action != "oss:GetObject" {
			return Fault{}
		}
		switch mode {
		case "throttle":
			return Fault{Throttle: true}
		case "5xx":
			return Fault{ServerError: true, Status: 500}
		case "reset":
			return Fault{Reset: true}
		}
		return Fault{}
	}})
	f.srv.PutObject(testBucket, "k", []byte("v"))
	b := f.bucket(t, clientKinds[0])
	set := func(m string) { mu.Lock(); mode = m; mu.Unlock() }
	set("throttle")
	_, err := b.GetObject("k")
	wantCode(t, err, 503, "ServiceUnavailable")
	set("5xx")
	_, err = b.GetObject("k")
	wantCode(t, err, 500, "InternalError")
	set("reset")
	if _, err = b.GetObject("k"); err == nil {
		t.Fatal("reset: want a transport error")
	}
	if err := b.PutObject("k", strings.NewReader("w")); err != nil {
		t.Fatalf("PutObject is not faulted: %v", err)
	}
	reqs := f.srv.Requests()
	if len(reqs) < 4 || reqs[0].Action != "oss:GetObject" || reqs[0].Status != 503 {
		t.Fatalf("request log %+v", reqs)
	}
}
