package aliyun

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

const (
	testAK     = "STS.testAKID"
	testSecret = "sEcReT-0123456789abcdef"
	testToken  = "tOkEn-CAES+9wIIARKAAb/x=="
)

var testCreds = Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testToken}

// fastRetry keeps tests quick and deterministic.
var fastRetry = RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, Seed: 42}

func newTestSLB(f *fakeSLB) *SLB {
	return quickPacer(NewSLB(testCreds, SLBOptions{Endpoint: f.endpoint(), Retry: fastRetry, Timeout: 2 * time.Second}))
}

// quickPacer keeps the pauses after a throttle short (5 ms at most).
func quickPacer(s *SLB) *SLB {
	s.pacer.minRate = 200
	return s
}

func testCertPEM(t *testing.T, cn string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}))
}

func certJSONFor(id, name, fp string, tags map[string]string) map[string]any {
	var tl []map[string]string
	for k, v := range tags {
		tl = append(tl, map[string]string{"TagKey": k, "TagValue": v})
	}
	return map[string]any{
		"ServerCertificateId": id, "ServerCertificateName": name, "Fingerprint": fp, "RegionId": "cn-zhangjiakou",
		"CommonName": "a.example.com", "SubjectAlternativeNames": map[string]any{"SubjectAlternativeName": []string{"a.example.com", "b.example.com"}},
		"ExpireTime": "2027-01-02T03:04:05Z", "ExpireTimeStamp": int64(1798772645000), "CreateTime": "2026-01-01T00:00:00Z",
		"Tags": map[string]any{"Tag": tl},
	}
}

func TestListServerCertificatesSendsSTSAndConverts(t *testing.T) {
	f := newFakeSLB(t)
	f.on("DescribeServerCertificates", func(q url.Values, _ int) (int, any) {
		return 200, ok(map[string]any{"ServerCertificates": map[string]any{"ServerCertificate": []any{
			certJSONFor("c-1", "site-20270102-aabbccdd", "AA:BB:CC", map[string]string{clb.OwnerTagKey: clb.OwnerTagValue}),
		}}})
	})
	got, err := newTestSLB(f).ListServerCertificates(context.Background(), "cn-zhangjiakou")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d certificates", len(got))
	}
	c := got[0]
	if c.ID != "c-1" || c.Fingerprint != "aa:bb:cc" || !c.Ours() || c.Region != "cn-zhangjiakou" ||
		len(c.SANs) != 2 || !c.ExpireTime.Equal(time.UnixMilli(1798772645000)) || c.CreateTime.IsZero() {
		t.Errorf("converted certificate = %+v", c)
	}
	q := f.callsOf("DescribeServerCertificates")[0]
	if q.Get("SecurityToken") != testToken || q.Get("AccessKeyId") != testAK || q.Get("RegionId") != "cn-zhangjiakou" {
		t.Errorf("request params: SecurityToken=%q AccessKeyId=%q RegionId=%q", q.Get("SecurityToken"), q.Get("AccessKeyId"), q.Get("RegionId"))
	}
}

func TestListHTTPSListenersPaginates(t *testing.T) {
	f := newFakeSLB(t)
	var ids []string
	for i := 0; i < 23; i++ {
		ids = append(ids, fmt.Sprintf("lb-%02d", i))
	}
	// every load balancer has one HTTPS listener on 443 and one HTTP on 80
	// (which must be filtered out); pages hold 3 listeners.
	f.on("DescribeLoadBalancerListeners", func(q url.Values, _ int) (int, any) {
		var lbs []string
		for i := 1; ; i++ {
			v := q.Get("LoadBalancerId." + strconv.Itoa(i))
			if v == "" {
				break
			}
			lbs = append(lbs, v)
		}
		var all []map[string]any
		for _, id := range lbs {
			all = append(all,
				map[string]any{"LoadBalancerId": id, "ListenerPort": 443, "ListenerProtocol": "https", "Status": "running",
					"BackendServerPort": 80, "Bandwidth": -1, "HTTPSListenerConfig": map[string]any{"ServerCertificateId": "cert-" + id}},
				map[string]any{"LoadBalancerId": id, "ListenerPort": 80, "ListenerProtocol": "http", "Status": "running"})
		}
		start, _ := strconv.Atoi(q.Get("NextToken"))
		end := min(start+3, len(all))
		next := ""
		if end < len(all) {
			next = strconv.Itoa(end)
		}
		return 200, ok(map[string]any{"Listeners": all[start:end], "NextToken": next, "TotalCount": len(all), "MaxResults": 3})
	})
	got, err := newTestSLB(f).ListHTTPSListeners(context.Background(), "cn-hangzhou", ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 23 {
		t.Fatalf("got %d listeners, want 23", len(got))
	}
	for _, l := range got {
		if l.Port != 443 || l.Protocol != "https" || l.ServerCertificateID != "cert-"+l.LoadBalancerID || l.Region != "cn-hangzhou" {
			t.Errorf("listener %+v", l)
		}
	}
	calls := f.callsOf("DescribeLoadBalancerListeners")
	// 10 ids → 20 listeners → 7 pages; twice; 3 ids → 6 listeners → 2 pages
	if len(calls) != 16 {
		t.Errorf("%d calls, want 16", len(calls))
	}
	for _, q := range calls {
		if q.Get("LoadBalancerId.11") != "" {
			t.Errorf("more than 10 ids in one call: %v", q)
		}
		if q.Get("MaxResults") != "100" || q.Get("ListenerProtocol") != "https" {
			t.Errorf("MaxResults=%q ListenerProtocol=%q", q.Get("MaxResults"), q.Get("ListenerProtocol"))
		}
	}
}

func TestListHTTPSListenersStopsOnRepeatedToken(t *testing.T) {
	f := newFakeSLB(t)
	f.on("DescribeLoadBalancerListeners", func(url.Values, int) (int, any) {
		return 200, ok(map[string]any{"Listeners": []any{}, "NextToken": "same"})
	})
	_, err := newTestSLB(f).ListHTTPSListeners(context.Background(), "cn-hangzhou", []string{"lb-1"})
	if err == nil || !strings.Contains(err.Error(), "NextToken") {
		t.Fatalf("err = %v, want a pagination loop error", err)
	}
}

func TestListLoadBalancersPages(t *testing.T) {
	f := newFakeSLB(t)
	const total = 250
	f.on("DescribeLoadBalancers", func(q url.Values, _ int) (int, any) {
		page, _ := strconv.Atoi(q.Get("PageNumber"))
		size, _ := strconv.Atoi(q.Get("PageSize"))
		var lbs []map[string]any
		for i := (page - 1) * size; i < min(page*size, total); i++ {
			lbs = append(lbs, map[string]any{"LoadBalancerId": fmt.Sprintf("lb-%03d", i), "Address": "127.0.0.2",
				"Tags": map[string]any{"Tag": []map[string]string{{"TagKey": "env", "TagValue": "prod"}}}})
		}
		return 200, ok(map[string]any{"TotalCount": total, "PageNumber": page, "PageSize": size, "LoadBalancers": map[string]any{"LoadBalancer": lbs}})
	})
	got, err := newTestSLB(f).ListLoadBalancers(context.Background(), "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != total || got[249].ID != "lb-249" || got[0].Tags["env"] != "prod" || got[0].Address != "127.0.0.2" {
		t.Fatalf("got %d load balancers (last %+v)", len(got), got[len(got)-1])
	}
	calls := f.callsOf("DescribeLoadBalancers")
	if len(calls) != 3 {
		t.Errorf("%d calls, want 3", len(calls))
	}
	for _, q := range calls {
		if q.Get("PageSize") != "100" {
			t.Errorf("PageSize = %q", q.Get("PageSize"))
		}
	}
}

func TestRetryThrottlingThenSuccess(t *testing.T) {
	f := newFakeSLB(t)
	f.on("SetLoadBalancerHTTPSListenerAttribute", func(q url.Values, n int) (int, any) {
		if n < 2 {
			return 400, apiErr("Throttling", "Request was denied due to request throttling.")
		}
		return 200, ok(nil)
	})
	err := newTestSLB(f).SetListenerCertificate(context.Background(), "cn-hangzhou", "lb-1", 443, "c-2")
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("SetLoadBalancerHTTPSListenerAttribute"); n != 3 {
		t.Errorf("attempts = %d, want 3", n)
	}
	q := f.callsOf("SetLoadBalancerHTTPSListenerAttribute")[2]
	if q.Get("ServerCertificateId") != "c-2" || q.Get("ListenerPort") != "443" || q.Get("LoadBalancerId") != "lb-1" {
		t.Errorf("params %v", q)
	}
}

func TestRetryGivesUpAsTransient(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   any
	}{
		{"503 ServiceUnavailable", 503, apiErr("ServiceUnavailable", "The request has failed due to a temporary failure of the server.")},
		{"502 html", 502, "<html>bad gateway</html>"},
		{"SystemBusy 449", 449, apiErr("SystemBusy", "busy")},
		{"ServiceIsConfiguring", 400, apiErr("ServiceIsConfiguring", "configuring")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeSLB(t)
			f.on("DescribeServerCertificates", func(url.Values, int) (int, any) { return tc.status, tc.body })
			_, err := newTestSLB(f).ListServerCertificates(context.Background(), "cn-hangzhou")
			if !errors.Is(err, apierr.ErrTransient) {
				t.Fatalf("err = %v, want ErrTransient", err)
			}
			if apierr.Permanent(err) {
				t.Error("transient error reported as permanent")
			}
			if n := f.count("DescribeServerCertificates"); n != fastRetry.MaxAttempts {
				t.Errorf("attempts = %d, want %d", n, fastRetry.MaxAttempts)
			}
			var ae *APIError
			if !errors.As(err, &ae) || ae.Attempts != fastRetry.MaxAttempts || ae.HTTPStatus != tc.status {
				t.Errorf("APIError = %+v", ae)
			}
		})
	}
}

func TestTimeoutBoundedByDeadline(t *testing.T) {
	f := newFakeSLB(t)
	f.delay["DescribeLoadBalancers"] = 5 * time.Second
	f.on("DescribeLoadBalancers", func(url.Values, int) (int, any) { return 200, ok(nil) })
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := NewSLB(testCreds, SLBOptions{Endpoint: f.endpoint(), Retry: RetryPolicy{BaseDelay: 50 * time.Millisecond}}).
		ListLoadBalancers(ctx, "cn-hangzhou")
	if !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err = %v, want ErrTransient", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("took %s, want it bounded by the 300ms deadline", el)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "Signature=") {
		t.Errorf("error leaks request parameters: %v", err)
	}
}

func TestCancelledContextStopsAtOnce(t *testing.T) {
	f := newFakeSLB(t)
	f.on("DescribeLoadBalancers", func(url.Values, int) (int, any) { return 200, ok(nil) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestSLB(f).ListLoadBalancers(ctx, "cn-hangzhou")
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if f.count("DescribeLoadBalancers") != 0 {
		t.Error("a request was sent with a cancelled ctx")
	}
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		code   string
		status int
		msg    string
		want   error
	}{
		{"InvalidLoadBalancerId.NotFound", 404, "The specified load balancer does not exist.", apierr.ErrNotFound},
		{"ServerCertificateId.NotFound", 400, "x", apierr.ErrNotFound},
		{"ListenerNotFound", 404, "x", apierr.ErrNotFound},
		{"InvalidParameter", 400, "The specified resource does not exist.", apierr.ErrNotFound},
		{"InvalidParameter.DomainExtensionId", 400, "x", apierr.ErrNotFound},
		{"OverQuota", 400, "The Total is over the quota.", apierr.ErrQuota},
		{"ORDER.QUOTA_EXCEEDED", 400, "x", apierr.ErrQuota},
		{"DomainExtensionNumberOverLimit", 400, "x", apierr.ErrQuota},
		{"CertificateNotMatchPrivateKey", 400, "Certificate and key does not match.", apierr.ErrInvalid},
		{"PrivateKeyEncryption", 400, "Key has Encrypted .", apierr.ErrInvalid},
		{"KeyFormatError", 400, "x", apierr.ErrInvalid},
		{"InvalidParameter", 400, "The specified parameter ServerCertificate format is error.", apierr.ErrInvalid},
		{"IdempotentParameterMismatch", 400, "x", apierr.ErrInvalid},
		{"Forbidden.RAM", 403, "x", apierr.ErrAccessDenied},
		{"InvalidAccessKeyId.NotFound", 400, "x", apierr.ErrAccessDenied},
		{"SignatureDoesNotMatch", 400, "x", apierr.ErrAccessDenied},
		{"InvalidSecurityToken.Expired", 400, "x", apierr.ErrAccessDenied},
		{"ListenerAlreadyExists", 400, "x", apierr.ErrConflict},
		{"CertificateAndPrivateKeyIsRefered", 400, "x", apierr.ErrConflict},
		{"DomainAlreadyExists", 400, "x", apierr.ErrConflict},
		{"Throttling.User", 400, "x", apierr.ErrTransient},
		{"InternalError", 500, "x", apierr.ErrTransient},
		{"BackendServer.configuring", 409, "x", apierr.ErrTransient},
		{"DomainExtensionProcessing", 400, "x", apierr.ErrTransient},
		{"SomethingNew", 400, "x", apierr.ErrInvalid},
	}
	kinds := []error{apierr.ErrNotFound, apierr.ErrQuota, apierr.ErrInvalid, apierr.ErrAccessDenied, apierr.ErrConflict, apierr.ErrTransient}
	for _, tc := range tests {
		t.Run(tc.code+"/"+tc.msg, func(t *testing.T) {
			f := newFakeSLB(t)
			f.on("UploadServerCertificate", func(url.Values, int) (int, any) { return tc.status, apiErr(tc.code, tc.msg) })
			// Throttling is retried until the deadline.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := newTestSLB(f).UploadServerCertificate(ctx, "cn-zhangjiakou", "n", "not pem", "not pem", nil)
			for _, k := range kinds {
				if got := errors.Is(err, k); got != (k == tc.want) {
					t.Errorf("errors.Is(%v, %v) = %v", err, k, got)
				}
			}
			want := fmt.Sprintf("slb: UploadServerCertificate in cn-zhangjiakou: %s (HTTP %d, request id RID-%s", tc.code, tc.status, tc.code)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error text %q, want prefix %q", err.Error(), want)
			}
		})
	}
}

func TestUploadRetryAfterTimeoutDoesNotDuplicate(t *testing.T) {
	f := newFakeSLB(t)
	certPEM, keyPEM := testCertPEM(t, "a.example.com")
	fp := LeafFingerprint(certPEM)
	var mu sync.Mutex
	var stored []map[string]any
	f.delay["UploadServerCertificate"] = time.Second // longer than the adapter's read timeout
	f.on("UploadServerCertificate", func(q url.Values, n int) (int, any) {
		// the service did the upload, but the answer came too late
		mu.Lock()
		stored = append(stored, certJSONFor(fmt.Sprintf("c-%d", n), q.Get("ServerCertificateName"), strings.ToUpper(fp), nil))
		mu.Unlock()
		return 200, ok(map[string]any{"ServerCertificateId": fmt.Sprintf("c-%d", n)})
	})
	f.on("DescribeServerCertificates", func(url.Values, int) (int, any) {
		// wait until the slow upload has been recorded
		deadline := time.Now().Add(2 * time.Second)
		for {
			mu.Lock()
			list := append([]map[string]any(nil), stored...)
			mu.Unlock()
			if len(list) > 0 || time.Now().After(deadline) {
				return 200, ok(map[string]any{"ServerCertificates": map[string]any{"ServerCertificate": list}})
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	s := NewSLB(testCreds, SLBOptions{Endpoint: f.endpoint(), Retry: fastRetry, Timeout: 200 * time.Millisecond})
	got, err := s.UploadServerCertificate(context.Background(), "cn-zhangjiakou", "site-20270101-abcd", certPEM, keyPEM,
		map[string]string{clb.OwnerTagKey: clb.OwnerTagValue})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count("UploadServerCertificate"); n != 1 {
		t.Errorf("uploads = %d, want exactly 1", n)
	}
	if got.ID != "c-0" || got.Fingerprint != fp || !got.Ours() {
		t.Errorf("returned %+v, want the certificate of the first upload", got)
	}
}

func TestUploadSendsTagsAndKeyOnlyInRequest(t *testing.T) {
	f := newFakeSLB(t)
	certPEM, keyPEM := testCertPEM(t, "a.example.com")
	f.on("UploadServerCertificate", func(q url.Values, n int) (int, any) {
		return 200, ok(map[string]any{"ServerCertificateId": "c-9", "ServerCertificateName": q.Get("ServerCertificateName"),
			"Fingerprint": LeafFingerprint(q.Get("ServerCertificate")), "ExpireTimeStamp": int64(1798772645000)})
	})
	got, err := newTestSLB(f).UploadServerCertificate(context.Background(), "cn-zhangjiakou", "site-x", certPEM, keyPEM,
		map[string]string{clb.OwnerTagKey: clb.OwnerTagValue, "env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	q := f.callsOf("UploadServerCertificate")[0]
	if q.Get("PrivateKey") != keyPEM || q.Get("ServerCertificate") != certPEM {
		t.Error("PEM not sent verbatim")
	}
	if q.Get("Tag.1.Key") != "env" || q.Get("Tag.2.Key") != clb.OwnerTagKey || q.Get("Tag.2.Value") != clb.OwnerTagValue {
		t.Errorf("tags not sent sorted: %v", q)
	}
	if got.ID != "c-9" || got.Fingerprint != LeafFingerprint(certPEM) || got.Tags["env"] != "prod" || got.ExpireTime.IsZero() {
		t.Errorf("result %+v", got)
	}
	if strings.Contains(fmt.Sprintf("%+v", got), "PRIVATE KEY") {
		t.Error("key in the result")
	}
}

func TestDeletesTreatNotFoundAsDone(t *testing.T) {
	f := newFakeSLB(t)
	f.on("DeleteServerCertificate", func(url.Values, int) (int, any) {
		return 400, apiErr("ServerCertificateId.NotFound", "The specified ServerCertificateId does not exist.")
	})
	f.on("DeleteLoadBalancer", func(url.Values, int) (int, any) {
		return 404, apiErr("InvalidLoadBalancerId.NotFound", "gone")
	})
	f.on("DeleteDomainExtension", func(url.Values, int) (int, any) {
		return 400, apiErr("InvalidParameter.DomainExtensionId", "gone")
	})
	f.on("DeleteLoadBalancerListener", func(url.Values, int) (int, any) {
		return 400, apiErr("CertificateAndPrivateKeyIsRefered", "not a not-found")
	})
	s := newTestSLB(f)
	ctx := context.Background()
	if err := s.DeleteServerCertificate(ctx, "r-1", "c-1"); err != nil {
		t.Errorf("DeleteServerCertificate: %v", err)
	}
	if err := s.DeleteLoadBalancer(ctx, "r-1", "lb-1"); err != nil {
		t.Errorf("DeleteLoadBalancer: %v", err)
	}
	if err := s.DeleteDomainExtension(ctx, "r-1", "de-1"); err != nil {
		t.Errorf("DeleteDomainExtension: %v", err)
	}
	if err := s.DeleteListener(ctx, "r-1", "lb-1", 443); !errors.Is(err, apierr.ErrConflict) {
		t.Errorf("DeleteListener: %v, want ErrConflict", err)
	}
}

func TestDescribeHTTPSListenerAndExtensions(t *testing.T) {
	f := newFakeSLB(t)
	f.on("DescribeLoadBalancerHTTPSListenerAttribute", func(q url.Values, _ int) (int, any) {
		if q.Get("ListenerPort") != "443" {
			return 200, ok(map[string]any{}) // TF's not-found shape: no ListenerPort
		}
		return 200, ok(map[string]any{"ListenerPort": 443, "Status": "running", "ServerCertificateId": "c-1", "BackendServerPort": 80,
			"Bandwidth": -1, "HealthCheck": "on", "StickySession": "off", "LoadBalancerId": "lb-1",
			"DomainExtensions": map[string]any{"DomainExtension": []any{map[string]any{"DomainExtensionId": "de-1", "Domain": "*.example.com", "ServerCertificateId": "c-2"}}}})
	})
	f.on("DescribeDomainExtensions", func(url.Values, int) (int, any) {
		return 200, ok(map[string]any{"DomainExtensions": map[string]any{"DomainExtension": []any{map[string]any{"DomainExtensionId": "de-1", "Domain": "*.example.com", "ServerCertificateId": "c-2"}}}})
	})
	s := newTestSLB(f)
	l, exts, err := s.DescribeHTTPSListener(context.Background(), "r-1", "lb-1", 443)
	if err != nil {
		t.Fatal(err)
	}
	if l.ServerCertificateID != "c-1" || l.Port != 443 || l.HealthCheck != "on" || len(exts) != 1 || exts[0].ServerCertificateID != "c-2" || exts[0].ListenerPort != 443 {
		t.Errorf("listener %+v extensions %+v", l, exts)
	}
	if _, _, err := s.DescribeHTTPSListener(context.Background(), "r-1", "lb-1", 8443); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("missing listener: err = %v, want ErrNotFound", err)
	}
	exts, err = s.ListDomainExtensions(context.Background(), "r-1", "lb-1", 443)
	if err != nil || len(exts) != 1 || exts[0].Domain != "*.example.com" || exts[0].LoadBalancerID != "lb-1" {
		t.Errorf("ListDomainExtensions = %+v, %v", exts, err)
	}
}

func TestNoSecretInErrors(t *testing.T) {
	f := newFakeSLB(t)
	f.on("DescribeServerCertificates", func(q url.Values, _ int) (int, any) {
		sts := "POST&%2F&AccessKeyId%3D" + testAK + "%26SecurityToken%3D" + url.QueryEscape(testToken)
		return 400, apiErr("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:"+sts)
	})
	f.on("DescribeLoadBalancers", func(url.Values, int) (int, any) {
		return 502, "<html>proxy error for token " + testToken + " secret " + testSecret + "</html>"
	})
	s := newTestSLB(f)
	_, err1 := s.ListServerCertificates(context.Background(), "r-1")
	_, err2 := s.ListLoadBalancers(context.Background(), "r-1")
	// a refused connection: the SDK's url.Error text carries the whole query
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err3 := NewSLB(testCreds, SLBOptions{Endpoint: "http://" + addr, Retry: fastRetry}).ListServerCertificates(context.Background(), "r-1")
	for i, err := range []error{err1, err2, err3} {
		if err == nil {
			t.Fatalf("error %d is nil", i)
		}
		text := err.Error() + fmt.Sprintf(" %+v %#v", err, err)
		for _, secret := range []string{testSecret, testToken, url.QueryEscape(testToken), "Signature=", "string to sign is:POST"} {
			if strings.Contains(text, secret) {
				t.Errorf("error %d leaks %q: %s", i, secret, text)
			}
		}
	}
	if !errors.Is(err1, apierr.ErrAccessDenied) || !errors.Is(err3, apierr.ErrTransient) {
		t.Errorf("kinds: %v / %v", err1, err3)
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in, scheme, domain string
		bad                bool
	}{
		{"", "HTTPS", "", false},
		{"http://127.0.0.1:8080", "HTTP", "127.0.0.1:8080", false},
		{"https://slb-vpc.{region}.aliyuncs.com/", "HTTPS", "slb-vpc.{region}.aliyuncs.com", false},
		{"slb.aliyuncs.com", "HTTPS", "slb.aliyuncs.com", false},
		{"ftp://x", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			scheme, domain, err := parseEndpoint(tc.in)
			if (err != nil) != tc.bad {
				t.Fatalf("err = %v", err)
			}
			if !tc.bad && (scheme != tc.scheme || domain != tc.domain) {
				t.Errorf("parseEndpoint(%q) = %q, %q; want %q, %q", tc.in, scheme, domain, tc.scheme, tc.domain)
			}
		})
	}
	_, err := NewSLB(testCreds, SLBOptions{Endpoint: "ftp://x"}).ListLoadBalancers(context.Background(), "r")
	if !errors.Is(err, apierr.ErrInvalid) {
		t.Errorf("bad endpoint: %v, want ErrInvalid", err)
	}
}

func TestRegionPlaceholderInEndpoint(t *testing.T) {
	s := NewSLB(testCreds, SLBOptions{Endpoint: "https://slb-vpc.{region}.aliyuncs.com"})
	c, err := s.client(context.Background(), "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if c.Domain != "slb-vpc.cn-hangzhou.aliyuncs.com" || s.scheme != "HTTPS" {
		t.Errorf("Domain = %q scheme = %q", c.Domain, s.scheme)
	}
}

// TestUploadAfterFailedCheckReturnsTheUpload: an ambiguous upload failure,
// then the pre-retry listing fails (so that attempt ends without
// uploading), then a later attempt uploads: the call must return that
// upload, never a zero certificate with a nil error (reliability seed 1097).
func TestUploadAfterFailedCheckReturnsTheUpload(t *testing.T) {
	f := newFakeSLB(t)
	certPEM, keyPEM := testCertPEM(t, "a.example.com")
	fp := LeafFingerprint(certPEM)
	f.on("UploadServerCertificate", func(q url.Values, n int) (int, any) {
		if n == 0 {
			return 503, apiErr("ServiceUnavailable", "maybe done, maybe not")
		}
		return 200, ok(map[string]any{"ServerCertificateId": "c-up", "ServerCertificateName": q.Get("ServerCertificateName"),
			"Fingerprint": strings.ToUpper(fp), "RegionId": "cn-zhangjiakou"})
	})
	f.on("DescribeServerCertificates", func(_ url.Values, n int) (int, any) {
		if n < fastRetry.MaxAttempts { // the whole first check fails
			return 503, apiErr("ServiceUnavailable", "list down")
		}
		return 200, ok(map[string]any{"ServerCertificates": map[string]any{"ServerCertificate": []any{}}})
	})
	s := NewSLB(testCreds, SLBOptions{Endpoint: f.endpoint(), Retry: fastRetry, Timeout: 2 * time.Second})
	got, err := s.UploadServerCertificate(context.Background(), "cn-zhangjiakou", "site-x", certPEM, keyPEM,
		map[string]string{clb.OwnerTagKey: clb.OwnerTagValue})
	if err != nil {
		t.Fatalf("err = %v, want the second upload", err)
	}
	if got.ID != "c-up" || got.Fingerprint != fp || !got.Ours() {
		t.Errorf("returned %+v, want c-up with fingerprint %s and our tag", got, fp)
	}
	if n := f.count("UploadServerCertificate"); n != 2 {
		t.Errorf("uploads = %d, want 2", n)
	}
}

// TestUploadWithoutIDIsTransient: a 200 answer without a certificate id is
// never returned as a certificate.
func TestUploadWithoutIDIsTransient(t *testing.T) {
	f := newFakeSLB(t)
	certPEM, keyPEM := testCertPEM(t, "a.example.com")
	f.on("UploadServerCertificate", func(url.Values, int) (int, any) { return 200, ok(nil) })
	got, err := newTestSLB(f).UploadServerCertificate(context.Background(), "cn-zhangjiakou", "site-x", certPEM, keyPEM, nil)
	if !errors.Is(err, apierr.ErrTransient) {
		t.Fatalf("err = %v (certificate %+v), want ErrTransient", err, got)
	}
	if got.ID != "" || got.Fingerprint != "" {
		t.Errorf("returned %+v with the error", got)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("error leaks the key: %v", err)
	}
}
