package slb

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
)

func TestSignatureVectors(t *testing.T) {
	tests := []struct {
		name, method, secret, wantSTS, wantSig string
		params                                 map[string]string
	}{
		{
			name: "documented example", method: "GET", secret: "testsecret",
			params: map[string]string{"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
				"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
				"SignatureVersion": "1.0", "TimeStamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26"},
			wantSTS: "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
			wantSig: "CT9X0VtwR86fNWSnsc6v8YGOjuE=",
		},
		{
			name: "tricky characters and empty value", method: "POST", secret: "s",
			params:  map[string]string{"A": "a b+c*d~e/f=g&h%i", "E": "", "Z": "中文", "Signature": "ignored"},
			wantSTS: "POST&%2F&A%3Da%2520b%252Bc%252Ad~e%252Ff%253Dg%2526h%2525i%26E%3D%26Z%3D%25E4%25B8%25AD%25E6%2596%2587",
			wantSig: "QtBnOBDDLjU7RD6p3NKoqztk57A=",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sts := StringToSign(tc.method, tc.params)
			if sts != tc.wantSTS {
				t.Fatalf("string to sign\n got %s\nwant %s", sts, tc.wantSTS)
			}
			if got := Sign(tc.secret, sts); got != tc.wantSig {
				t.Fatalf("signature %s, want %s", got, tc.wantSig)
			}
		})
	}
}

var nonceN atomic.Int64

// signed returns the common parameters for action, signed with acct.
func signed(method string, acct Account, ts time.Time, nonce string, extra map[string]string) map[string]string {
	if nonce == "" {
		nonce = fmt.Sprintf("nonce-%d", nonceN.Add(1))
	}
	p := map[string]string{"Format": "JSON", "Version": APIVersion, "AccessKeyId": acct.AccessKeyID,
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "",
		"SignatureNonce": nonce, "Timestamp": ts.UTC().Format("2006-01-02T15:04:05Z"), "RegionId": zjk}
	if acct.SecurityToken != "" {
		p["SecurityToken"] = acct.SecurityToken
	}
	for k, v := range extra {
		p[k] = v
	}
	p["Signature"] = Sign(acct.AccessKeySecret, StringToSign(method, p))
	return p
}

// raw sends params in the query (GET) or the form body (POST).
func (e *env) raw(method string, p map[string]string) (int, map[string]any) {
	e.t.Helper()
	v := url.Values{}
	for k, x := range p {
		v.Set(k, x)
	}
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequest(method, e.http.URL+"/?"+v.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, e.http.URL+"/", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		e.t.Fatalf("body %q: %v", body, err)
	}
	return resp.StatusCode, out
}

func TestRawGetAndFormPost(t *testing.T) {
	e := newEnv(t, Options{NoFrontends: true})
	acct := DefaultAccounts()[0]
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		status, body := e.raw(m, signed(m, acct, time.Now(), "", map[string]string{"Action": "DescribeServerCertificates"}))
		if status != 200 || body["RequestId"] == "" {
			t.Fatalf("%s: %d %v", m, status, body)
		}
	}
}

func TestAuthFailures(t *testing.T) {
	e := newEnv(t, Options{NoFrontends: true})
	ak, sts := DefaultAccounts()[0], DefaultAccounts()[1]
	describe := func(c *sdkslb.Client) error {
		_, err := c.DescribeServerCertificates(sdkslb.CreateDescribeServerCertificatesRequest())
		return err
	}
	t.Run("sdk", func(t *testing.T) {
		tests := []struct {
			name string
			acct Account
			want string
		}{
			{"plain key", ak, ""},
			{"sts key with token", sts, ""},
			{"wrong secret", Account{AccessKeyID: ak.AccessKeyID, AccessKeySecret: "nope"}, "SignatureDoesNotMatch"},
			{"unknown key", Account{AccessKeyID: "LTAIunknown", AccessKeySecret: "x"}, "InvalidAccessKeyId.NotFound"},
			{"sts key without token", Account{AccessKeyID: sts.AccessKeyID, AccessKeySecret: sts.AccessKeySecret}, "InvalidSecurityToken.Malformed"},
			{"sts key wrong token", Account{AccessKeyID: sts.AccessKeyID, AccessKeySecret: sts.AccessKeySecret, SecurityToken: "other"}, "InvalidSecurityToken.MismatchWithAccessKey"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				err := describe(e.client(zjk, tc.acct))
				wantCode(t, err, tc.want)
				if tc.want == "SignatureDoesNotMatch" && !strings.Contains(err.Error(), "server string to sign is:POST&%2F&AccessKeyId") {
					t.Fatalf("message lacks the server string to sign: %v", err)
				}
			})
		}
	})
	t.Run("raw", func(t *testing.T) {
		act := map[string]string{"Action": "DescribeServerCertificates"}
		replay := signed("GET", ak, time.Now(), "fixed-nonce-1", act)
		tests := []struct {
			name   string
			params map[string]string
			want   string
		}{
			{"stale timestamp", signed("GET", ak, time.Now().Add(-16*time.Minute), "", act), "InvalidTimeStamp.Expired"},
			{"future timestamp", signed("GET", ak, time.Now().Add(16*time.Minute), "", act), "InvalidTimeStamp.Expired"},
			{"first use of nonce", replay, ""},
			{"nonce reuse", replay, "SignatureNonceUsed"},
			{"signed for POST sent as GET", signed("POST", ak, time.Now(), "", act), "SignatureDoesNotMatch"},
			{"no action", signed("GET", ak, time.Now(), "", nil), "MissingParameter"},
			{"unknown action", signed("GET", ak, time.Now(), "", map[string]string{"Action": "DescribeNothing"}), "InvalidAction.NotFound"},
			{"unknown region", signed("GET", ak, time.Now(), "", map[string]string{"Action": "DescribeServerCertificates", "RegionId": "mars-1"}), "InvalidRegionId.NotFound"},
			{"wrong version", signed("GET", ak, time.Now(), "", map[string]string{"Action": "DescribeServerCertificates", "Version": "2020-01-01"}), "InvalidVersion"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				status, body := e.raw(http.MethodGet, tc.params)
				got, _ := body["Code"].(string)
				if got != tc.want {
					t.Fatalf("code %q (status %d), want %q: %v", got, status, tc.want, body)
				}
				if tc.want != "" {
					if status < 400 {
						t.Fatalf("status %d for an error", status)
					}
					for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
						if _, ok := body[k].(string); !ok {
							t.Fatalf("error body lacks string %s: %v", k, body)
						}
					}
				}
			})
		}
	})
	for _, r := range e.s.Requests() {
		if r.Params["Signature"] != "[redacted]" && r.Params["Signature"] != "" {
			t.Fatalf("signature not redacted in log: %v", r.Params)
		}
		if v, ok := r.Params["SecurityToken"]; ok && v != "[redacted]" {
			t.Fatalf("security token not redacted in log: %v", r.Params)
		}
	}
}

func TestFakeClockDoesNotLockOutTheSDK(t *testing.T) {
	future := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, Options{NoFrontends: true, Now: func() time.Time { return future }})
	must(t, describeCerts(e.client(zjk)))
	testKeys(t)
	p := issue(t, rsaKeyA, "clock.example.com")
	r := sdkslb.CreateUploadServerCertificateRequest()
	r.ServerCertificate, r.PrivateKey = p.cert, p.key
	resp, err := e.client(zjk).UploadServerCertificate(r)
	must(t, err)
	if resp.CreateTime != "2031-01-01T00:00:00Z" {
		t.Fatalf("create time %s, want the fake clock's", resp.CreateTime)
	}
}
