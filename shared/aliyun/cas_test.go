package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

func TestCASCertificateName(t *testing.T) {
	notAfter := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	fp := "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"
	long := strings.Repeat("very-long-pair-name-", 6)
	for _, tc := range []struct{ pair, want string }{
		{"example.com", "scr-example.com-20270301-abcdef0123456789"},
		{"my site/x", "scr-my-site-x-20270301-abcdef0123456789"},
		{long, ""}, // checked below: shortened, tail kept
	} {
		got := CASCertificateName(tc.pair, notAfter, fp)
		if len(got) > MaxCASNameLen {
			t.Errorf("%q: %q is %d characters, over %d", tc.pair, got, len(got), MaxCASNameLen)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("%q: %q, want %q", tc.pair, got, tc.want)
		}
		if !ourCASName(got, fp) {
			t.Errorf("%q: %q not recognised as ours", tc.pair, got)
		}
		if ourCASName(got, strings.Replace(fp, "AB", "AC", 1)) {
			t.Errorf("%q recognised as ours for another fingerprint", got)
		}
	}
	if a, b := CASCertificateName(long, notAfter, fp), CASCertificateName(long+"x", notAfter, fp); !strings.HasSuffix(a, "-20270301-abcdef0123456789") || a != b {
		t.Errorf("long names %q / %q: the tail must survive shortening", a, b)
	}
	for _, name := range []string{"example.com-20270301-abcdef01", "my-cert", "scr-x-2027031-abcdef0123456789", ""} {
		if ourCASName(name, fp) {
			t.Errorf("%q recognised as ours", name)
		}
	}
}

func TestParseCASIdentity(t *testing.T) {
	if id, r, err := ParseCASIdentity("24664588-cn-hangzhou"); err != nil || id != 24664588 || r != "cn-hangzhou" {
		t.Errorf("ParseCASIdentity = %d %q %v", id, r, err)
	}
	for _, bad := range []string{"24664588", "24664588-", "-cn-hangzhou", "abc-cn-hangzhou", "0-cn-hangzhou", ""} {
		if _, _, err := ParseCASIdentity(bad); !errors.Is(err, ErrBareCertificateID) {
			t.Errorf("%q: %v, want ErrBareCertificateID", bad, err)
		}
	}
}

func upload(t *testing.T, cs *CAS, region, pair string, p certstest.Pair) CASCertificate {
	t.Helper()
	c, err := cs.UploadCertificate(context.Background(), region, pair, string(p.CertPEM), string(p.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCASUploadOncePerContent: the same content is found, not uploaded
// again (under the same pair or another); ECDSA and RSA both accepted; the
// identity carries the CAS region of the load balancer's site.
func TestCASUploadOncePerContent(t *testing.T) {
	c := newLBCloud(t, lbCloudOptions{})
	cs := c.newCAS(lbTestOptions)
	ec := certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}, KeyType: certstest.ECDSA})
	first := upload(t, cs, "cn-zhangjiakou", "site", ec)
	if !strings.HasSuffix(first.Identity, "-cn-hangzhou") || first.Algorithm != "ECC" || !first.Ours() ||
		first.Fingerprint != ec.FingerprintSHA1 || !first.NotAfter.Equal(ec.Leaf.NotAfter.UTC()) {
		t.Errorf("first upload = %+v", first)
	}
	again := upload(t, cs, "cn-shanghai", "site", ec)
	other := upload(t, cs, "cn-beijing", "renamed", ec)
	if again.Identity != first.Identity || other.Identity != first.Identity {
		t.Errorf("same content: %s, %s; want %s", again.Identity, other.Identity, first.Identity)
	}
	rsa := certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}})
	intl := upload(t, cs, "ap-northeast-1", "site", rsa)
	if !strings.HasSuffix(intl.Identity, "-ap-southeast-1") || intl.Algorithm != "RSA" {
		t.Errorf("international upload = %+v", intl)
	}
	if n := count(c.cas.Requests(), "UploadUserCertificate", "-"); n != 2 {
		t.Errorf("%d uploads, want 2 (one per content and CAS region)", n)
	}
	// calls pinned: a new content is a look-up and an upload, a known one a look-up
	want := []string{"ListUserCertificateOrder", "UploadUserCertificate", "ListUserCertificateOrder", "ListUserCertificateOrder",
		"ListUserCertificateOrder", "UploadUserCertificate"}
	if got := actions(c.cas.Requests(), 0); !slices.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if n := len(c.cas.Dump()); n != 2 {
		t.Errorf("%d certificates in CAS, want 2", n)
	}
}

// TestCASLostUploadAnswerEndsWithOneCertificate: the upload takes effect,
// its answer is lost (5xx, timeout or reset); the retry finds it by
// fingerprint instead of uploading a second copy.
func TestCASLostUploadAnswerEndsWithOneCertificate(t *testing.T) {
	for seed := range 3 {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			c := newLBCloud(t, lbCloudOptions{Seed: int64(seed)})
			opts := lbTestOptions
			opts.Timeout = 300 * time.Millisecond // a held answer is given up quickly
			cs := c.newCAS(opts)
			c.inj.Set(faults.Rule{Action: "UploadUserCertificate", LostRate: 1})
			p := certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}})
			got := upload(t, cs, lbRegion, "site", p)
			dump := c.cas.Dump()
			if len(dump) != 1 || got.Identity != dump[0].Identifier {
				t.Fatalf("after a lost answer: %d certificates %+v; returned %s", len(dump), dump, got.Identity)
			}
			if n := count(c.cas.Requests(), "UploadUserCertificate", "-"); n != 1 {
				t.Errorf("%d uploads, want 1", n)
			}
		})
	}
}

// TestCASNameTakenByOtherContentIsConflict: our name held by another
// content (someone else's upload) is ErrConflict, nothing uploaded.
func TestCASNameTakenByOtherContentIsConflict(t *testing.T) {
	c := newLBCloud(t, lbCloudOptions{})
	cs := c.newCAS(lbTestOptions)
	p := certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}})
	squatter := certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}})
	name := CASCertificateName("site", p.Leaf.NotAfter, p.FingerprintSHA1)
	if _, err := c.cas.Seed(lbRegion, name, string(squatter.CertPEM), string(squatter.KeyPEM)); err != nil {
		t.Fatal(err)
	}
	_, err := cs.UploadCertificate(context.Background(), lbRegion, "site", string(p.CertPEM), string(p.KeyPEM))
	if !errors.Is(err, apierr.ErrConflict) || !strings.Contains(err.Error(), name) {
		t.Errorf("err = %v, want ErrConflict naming %q", err, name)
	}
	if strings.Contains(fmt.Sprint(err), "PRIVATE KEY") {
		t.Errorf("the key reached the error: %v", err)
	}
	if n := len(c.cas.Dump()); n != 1 {
		t.Errorf("%d certificates, want the squatter's only", n)
	}
}

// TestCASConcurrentUploadFoundAfterNameRepeat: another instance uploads
// the same content between our look-up and our upload; the NameRepeat
// that follows resolves to its certificate, not to a second one.
func TestCASConcurrentUploadFoundAfterNameRepeat(t *testing.T) {
	p := certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}})
	name := CASCertificateName("site", p.Leaf.NotAfter, p.FingerprintSHA1)
	var seeded atomic.Value // string
	seeded.Store("")
	c := newLBCloud(t, lbCloudOptions{WrapCAS: func(c *lbCloud, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err == nil && r.Form.Get("Action") == "UploadUserCertificate" && seeded.Load() == "" {
				id, err := c.cas.Seed(lbRegion, name, string(p.CertPEM), string(p.KeyPEM))
				if err != nil {
					t.Error(err)
				}
				seeded.Store(id)
			}
			next.ServeHTTP(w, r)
		})
	}})
	cs := c.newCAS(lbTestOptions)
	got := upload(t, cs, lbRegion, "site", p)
	if got.Identity != seeded.Load() || len(c.cas.Dump()) != 1 {
		t.Errorf("got %s with %d certificates in CAS; want the concurrent upload %s only", got.Identity, len(c.cas.Dump()), seeded)
	}
	if n := count(c.cas.Requests(), "UploadUserCertificate", "NameRepeat"); n != 1 {
		t.Errorf("%d NameRepeat answers, want 1 (the test must take that path)", n)
	}
}

// TestCASUploadRefusalKeepsTheKeyOut: a key that does not match is
// ErrInvalid and its text holds no key material.
func TestCASUploadRefusalKeepsTheKeyOut(t *testing.T) {
	c := newLBCloud(t, lbCloudOptions{})
	cs := c.newCAS(lbTestOptions)
	a := certstest.SelfSigned(t, certstest.Options{Domains: []string{"a.example.com"}})
	b := certstest.SelfSigned(t, certstest.Options{Domains: []string{"b.example.com"}})
	_, err := cs.UploadCertificate(context.Background(), lbRegion, "site", string(a.CertPEM), string(b.KeyPEM))
	if !errors.Is(err, apierr.ErrInvalid) {
		t.Errorf("mismatched key: %v, want ErrInvalid", err)
	}
	body := strings.Split(string(b.KeyPEM), "\n")[1]
	if strings.Contains(err.Error(), body) || strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("key material in %q", err)
	}
	if _, err := cs.UploadCertificate(context.Background(), lbRegion, "site", "not pem", string(b.KeyPEM)); !errors.Is(err, apierr.ErrInvalid) {
		t.Errorf("no certificate: %v, want ErrInvalid", err)
	}
}

// TestCASListPagesAndOwnership: listing follows pages; ours are told from
// the user's by name and fingerprint; delete refuses the user's (no call),
// reports one in use as ErrConflict and one already gone as done.
func TestCASListPagesAndOwnership(t *testing.T) {
	c := newLBCloud(t, lbCloudOptions{})
	opts := lbTestOptions
	opts.PageSize = 2
	cs := c.newCAS(opts)
	ctx := context.Background()
	var ours []CASCertificate
	for i := range 3 {
		p := certstest.SelfSigned(t, certstest.Options{Domains: []string{fmt.Sprintf("s%d.example.com", i)}})
		ours = append(ours, upload(t, cs, lbRegion, fmt.Sprintf("pair%d", i), p))
	}
	user := c.casCert(t, "my-own-cert", certstest.ECDSA, "u.example.com")
	// a user's certificate named like ours but for another content
	look := certstest.SelfSigned(t, certstest.Options{Domains: []string{"l.example.com"}})
	other := "0" + look.FingerprintSHA1[1:] // another fingerprint, same length
	if look.FingerprintSHA1[0] == '0' {
		other = "1" + look.FingerprintSHA1[1:]
	}
	fake := CASCertificateName("pair0", look.Leaf.NotAfter, other)
	if _, err := c.cas.Seed(lbRegion, fake, string(look.CertPEM), string(look.KeyPEM)); err != nil {
		t.Fatal(err)
	}
	before := count(c.cas.Requests(), "ListUserCertificateOrder", "-")
	list, err := cs.ListCertificates(ctx, "cn-shenzhen")
	if err != nil || len(list) != 5 {
		t.Fatalf("ListCertificates = %d, %v; want 5", len(list), err)
	}
	if n := count(c.cas.Requests(), "ListUserCertificateOrder", "-") - before; n != 3 {
		t.Errorf("%d pages read for 5 certificates by 2, want 3", n)
	}
	mine := map[string]bool{}
	for _, l := range list {
		if l.Ours() {
			mine[l.Identity] = true
		}
		if l.Identity == user || l.Name == fake {
			if err := cs.DeleteCertificate(ctx, l); !errors.Is(err, apierr.ErrInvalid) {
				t.Errorf("delete %s (%s): %v, want a refusal", l.Identity, l.Name, err)
			}
		}
	}
	if len(mine) != 3 || !mine[ours[0].Identity] || !mine[ours[1].Identity] || !mine[ours[2].Identity] {
		t.Errorf("ours = %v, want %s, %s, %s", mine, ours[0].Identity, ours[1].Identity, ours[2].Identity)
	}
	if n := count(c.cas.Requests(), "DeleteUserCertificate", "-"); n != 0 {
		t.Errorf("%d deletes sent for certificates that are not ours", n)
	}

	lbID, err := c.alb.SeedLoadBalancer(lbRegion, "web", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.alb.SeedListener(lbRegion, lbID, 443, "HTTPS", ours[0].Identity); err != nil {
		t.Fatal(err)
	}
	if err := cs.DeleteCertificate(ctx, ours[0]); !errors.Is(err, apierr.ErrConflict) {
		t.Errorf("delete while used: %v, want ErrConflict", err)
	}
	for range 2 {
		if err := cs.DeleteCertificate(ctx, ours[1]); err != nil {
			t.Errorf("delete unused (twice): %v", err)
		}
	}
	if n := len(c.cas.Dump()); n != 4 {
		t.Errorf("%d certificates left, want 4", n)
	}
}

// TestCASThrottlingRetried: throttled CAS calls are retried until they
// pass, and the upload still happens once.
func TestCASThrottlingRetried(t *testing.T) {
	c := newLBCloud(t, lbCloudOptions{})
	cs := c.newCAS(lbTestOptions)
	c.inj.Set(faults.Rule{ThrottleRate: 0.5})
	for i := range 3 {
		p := certstest.SelfSigned(t, certstest.Options{Domains: []string{fmt.Sprintf("t%d.example.com", i)}})
		upload(t, cs, lbRegion, "t", p)
		upload(t, cs, lbRegion, "t", p)
	}
	if n := countCode(c.cas.Requests(), "Throttling"); n == 0 {
		t.Fatal("nothing was throttled: the test proves nothing")
	}
	if n := len(c.cas.Dump()); n != 3 {
		t.Errorf("%d certificates, want 3", n)
	}
}
