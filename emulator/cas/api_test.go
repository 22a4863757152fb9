package cas

import (
	"errors"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	sdkcas "github.com/aliyun/alibaba-cloud-sdk-go/services/cas"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
)

func newClient(t *testing.T, s *Server, region string) *sdkcas.Client {
	t.Helper()
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	a := rpc.DefaultAccounts()[0]
	c, err := sdkcas.NewClientWithOptions(region, sdk.NewConfig(), credentials.NewStaticAKCredentialsProvider(a.AccessKeyID, a.AccessKeySecret))
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = strings.TrimPrefix(hs.URL, "http://")
	return c
}

func code(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	if err != nil {
		return "!other: " + err.Error()
	}
	return ""
}

func upload(c *sdkcas.Client, name string, p certstest.Pair) (*sdkcas.UploadUserCertificateResponse, error) {
	r := sdkcas.CreateUploadUserCertificateRequest()
	r.Name, r.Cert, r.Key = name, string(p.CertPEM), string(p.KeyPEM)
	return c.UploadUserCertificate(r)
}

// TestEveryActionThroughSDK: upload (names unique, no dedupe by content),
// detail, paged listing, and a delete refused while a listener uses the
// certificate.
func TestEveryActionThroughSDK(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s, "cn-zhangjiakou")
	p := certstest.SelfSigned(t, certstest.Options{Domains: []string{"www.example.com", "example.com"}, KeyType: certstest.ECDSA})
	first, err := upload(c, "www-2026", p)
	if err != nil {
		t.Fatal(err)
	}
	_, err = upload(c, "www-2026", p)
	if code(err) != CodeNameExists || !strings.Contains(err.Error(), "The certificate name already exists.") {
		t.Fatalf("reused name: %v", err)
	}
	second, err := upload(c, "www-2026-copy", p)
	if err != nil || second.CertId == first.CertId {
		t.Fatalf("same content under another name: %+v %v", second, err)
	}
	if _, err := upload(c, strings.Repeat("n", MaxNameLength+1), p); code(err) != "InvalidParameter" {
		t.Fatalf("long name: %v", err)
	}
	if _, err := upload(c, "", p); code(err) != "MissingParameter" {
		t.Fatalf("no name: %v", err)
	}
	other := certstest.SelfSigned(t, certstest.Options{KeyType: certstest.ECDSA})
	if _, err := upload(c, "mismatch", certstest.Pair{CertPEM: p.CertPEM, KeyPEM: other.KeyPEM}); code(err) != "InvalidParameter" {
		t.Fatalf("key mismatch: %v", err)
	}

	d := sdkcas.CreateGetUserCertificateDetailRequest()
	d.CertId = requests.NewInteger64(first.CertId)
	d.CertFilter = requests.NewBoolean(true)
	det, err := c.GetUserCertificateDetail(d)
	if err != nil || det.Id != first.CertId || det.Name != "www-2026" || det.Common != "www.example.com" || det.Sans != "www.example.com,example.com" ||
		det.Cert != "" || det.Key != "" || det.Algorithm != "ECC" || len(det.Fingerprint) != 40 {
		t.Fatalf("detail: %+v %v", det, err)
	}

	l := sdkcas.CreateListUserCertificateOrderRequest()
	l.OrderType, l.ShowSize = "UPLOAD", requests.NewInteger(1)
	page1, err := c.ListUserCertificateOrder(l)
	if err != nil || page1.TotalCount != 2 || len(page1.CertificateOrderList) != 1 || page1.CertificateOrderList[0].CertificateId != first.CertId ||
		page1.CertificateOrderList[0].Status != "ISSUED" || !page1.CertificateOrderList[0].Upload {
		t.Fatalf("page 1: %+v %v", page1, err)
	}
	l.CurrentPage = requests.NewInteger(2)
	page2, err := c.ListUserCertificateOrder(l)
	if err != nil || len(page2.CertificateOrderList) != 1 || page2.CertificateOrderList[0].CertificateId != second.CertId {
		t.Fatalf("page 2: %+v %v", page2, err)
	}
	def := sdkcas.CreateListUserCertificateOrderRequest()
	if none, err := c.ListUserCertificateOrder(def); err != nil || none.TotalCount != 0 {
		t.Fatalf("the default CPACK order type lists uploads: %+v %v", none, err)
	}

	ident := strconv.FormatInt(first.CertId, 10) + "-" + ChinaRegion
	s.AddUser(func(id string) []string {
		if id == ident {
			return []string{"lsn-using"}
		}
		return nil
	})
	del := sdkcas.CreateDeleteUserCertificateRequest()
	del.CertId = requests.NewInteger64(first.CertId)
	if _, err := c.DeleteUserCertificate(del); code(err) != CodeInUse {
		t.Fatalf("delete in use: %v", err)
	}
	del.CertId = requests.NewInteger64(second.CertId)
	if _, err := c.DeleteUserCertificate(del); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteUserCertificate(del); code(err) != CodeNotFound {
		t.Fatalf("delete twice: %v", err)
	}
	// The name is free again once its certificate is gone.
	if _, err := upload(c, "www-2026-copy", p); err != nil {
		t.Fatal(err)
	}
}

// TestIdentities: the store region is cn-hangzhou for every cn-* request
// region and ap-southeast-1 otherwise; Resolve refuses a bare CertId.
func TestIdentities(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := certstest.SelfSigned(t, certstest.Options{KeyType: certstest.ECDSA})
	cn, err := s.Seed("cn-zhangjiakou", "x", string(p.CertPEM), string(p.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	intl, err := s.Seed("eu-central-1", "x", string(p.CertPEM), string(p.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cn, "-cn-hangzhou") || !strings.HasSuffix(intl, "-ap-southeast-1") {
		t.Fatalf("identities %s %s", cn, intl)
	}
	bare, _, _ := strings.Cut(cn, "-")
	for _, tc := range []struct {
		id   string
		want Reason
	}{{cn, Found}, {intl, Found}, {bare, BareID}, {bare + "-ap-southeast-1", NotFound}, {"abc-cn-hangzhou", Malformed}, {bare + "-", Malformed}} {
		if _, got := s.Resolve(tc.id); got != tc.want {
			t.Errorf("Resolve(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}
