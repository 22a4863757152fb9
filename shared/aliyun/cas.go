package aliyun

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/cas"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// CASCertificate is a certificate uploaded to the Certificate Management
// Service, as ALB and NLB reference it.
type CASCertificate struct {
	CertID int64
	// Region is the CAS region the certificate lives in (CASRegion).
	Region string
	// Identity is "<CertId>-<Region>", the reference ALB and NLB take.
	Identity string
	Name     string
	// Fingerprint is the SHA-1 of the leaf as lower-case colon hex (the
	// form of clb.ServerCertificate.Fingerprint); "" when CAS gave none.
	Fingerprint string
	SerialNo    string
	CommonName  string
	SANs        []string
	Algorithm   string // RSA, ECC
	NotBefore   time.Time
	NotAfter    time.Time
}

// Ours reports whether the product uploaded the certificate: its name is
// the one CASCertificateName gives a certificate with its own fingerprint.
// Cleanup must never delete a certificate that is not ours.
func (c CASCertificate) Ours() bool { return ourCASName(c.Name, c.Fingerprint) }

// casMaxPage is the largest ShowSize ListUserCertificateOrder accepts.
const casMaxPage = 100

// CAS is the Certificate Management Service adapter (cas 2020-04-07). Every
// method takes the region of the load balancers the certificate serves and
// works in its CAS region (CASRegion). Safe for concurrent use.
type CAS struct {
	api      *rpcAPI
	pageSize int
}

// The SDK fills its endpoint maps lazily without a lock; fill them before
// any goroutine builds a client.
func init() { cas.GetEndpointMap() }

// NewCAS returns a CAS adapter. An unusable Endpoint is reported by every
// call as an error that Is apierr.ErrInvalid.
func NewCAS(creds Credentials, opts RPCOptions) *CAS {
	c := &CAS{pageSize: opts.PageSize}
	if c.pageSize <= 0 || c.pageSize > casMaxPage {
		c.pageSize = casMaxPage
	}
	c.api = newRPCAPI("cas", creds, opts, casHost,
		func(region string, cfg *sdk.Config, prov credentials.CredentialsProvider) (*sdk.Client, error) {
			cl, err := cas.NewClientWithOptions(region, cfg, prov)
			if err != nil {
				return nil, err
			}
			return &cl.Client, nil
		})
	return c
}

// ListCertificates returns every uploaded certificate of region's CAS
// region (all pages), ours and not ours.
func (c *CAS) ListCertificates(ctx context.Context, region string) ([]CASCertificate, error) {
	return c.list(ctx, CASRegion(region), "")
}

// list pages through ListUserCertificateOrder (uploads only), filtered by
// keyword (CAS matches it in names, common names and SANs).
func (c *CAS) list(ctx context.Context, casRegion, keyword string) ([]CASCertificate, error) {
	var out []CASCertificate
	for page := 1; ; page++ {
		var resp *cas.ListUserCertificateOrderResponse
		err := c.api.call(ctx, casRegion, "ListUserCertificateOrder", func(cl *sdk.Client) error {
			req := cas.CreateListUserCertificateOrderRequest()
			req.RegionId = casRegion
			req.OrderType = "UPLOAD"
			req.Keyword = keyword
			req.CurrentPage = requests.NewInteger(page)
			req.ShowSize = requests.NewInteger(c.pageSize)
			resp = cas.CreateListUserCertificateOrderResponse()
			return cl.DoAction(req, resp)
		})
		if err != nil {
			return nil, err
		}
		for _, it := range resp.CertificateOrderList {
			out = append(out, casFromItem(casRegion, it))
		}
		if len(resp.CertificateOrderList) == 0 || int64(page*c.pageSize) >= resp.TotalCount {
			return out, nil
		}
	}
}

func casFromItem(casRegion string, it cas.CertificateOrderListItem) CASCertificate {
	id := it.CertificateId
	if id == 0 {
		id = it.OrderId
	}
	var sans []string
	for _, s := range strings.Split(it.Sans, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sans = append(sans, s)
		}
	}
	fp := ""
	if h := certs.NormalizeFingerprint(it.Fingerprint); len(h) == 59 {
		fp = h
	}
	return CASCertificate{CertID: id, Region: casRegion, Identity: CASIdentity(id, casRegion), Name: it.Name,
		Fingerprint: fp, SerialNo: strings.ToUpper(it.SerialNo), CommonName: it.CommonName, SANs: sans,
		Algorithm: it.Algorithm, NotBefore: msTime(it.CertStartTime, it.StartDate), NotAfter: msTime(it.CertEndTime, it.EndDate)}
}

// msTime prefers a millisecond timestamp and falls back to a date.
func msTime(ms int64, date string) time.Time {
	if ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	if t, err := time.Parse(time.DateOnly, date); err == nil {
		return t
	}
	return time.Time{}
}

// FindCertificate returns our certificate of region's CAS region whose leaf
// has this SHA-1 fingerprint, if there is one. It asks CAS for the names
// holding the fingerprint's digits (one short listing: CAS matches Keyword
// within names, which CASCertificateName fills with 16 of those digits),
// then compares the whole fingerprint.
func (c *CAS) FindCertificate(ctx context.Context, region, fingerprintSHA1 string) (CASCertificate, bool, error) {
	fp := strings.ReplaceAll(certs.NormalizeFingerprint(fingerprintSHA1), ":", "")
	if len(fp) != 40 {
		return CASCertificate{}, false, fmt.Errorf("cas: find certificate: fingerprint %q is not a SHA-1: %w", fingerprintSHA1, apierr.ErrInvalid)
	}
	list, err := c.list(ctx, CASRegion(region), fp[:casFPDigits])
	if err != nil {
		return CASCertificate{}, false, err
	}
	want := certs.NormalizeFingerprint(fp)
	for _, cc := range list {
		if cc.Fingerprint == want && cc.Ours() {
			return cc, true, nil
		}
	}
	return CASCertificate{}, false, nil
}

// UploadCertificate makes sure the certificate of certPEM is in region's
// CAS region exactly once, under the name CASCertificateName(pair, …), and
// returns it. It looks for ours by fingerprint first and uploads only when
// there is none; after an ambiguous failure (the answer lost) and after
// NameRepeat it looks again instead of uploading a second copy. A name
// taken by another content is an error that Is apierr.ErrConflict. ECDSA
// and RSA keys are both accepted (ALB and NLB serve both). The key never
// appears in any error.
func (c *CAS) UploadCertificate(ctx context.Context, region, pair, certPEM, keyPEM string) (CASCertificate, error) {
	leaf, err := leafOf(certPEM)
	if err != nil {
		return CASCertificate{}, err
	}
	fp := certs.FingerprintSHA1(leaf.Raw)
	if found, ok, err := c.FindCertificate(ctx, region, fp); err != nil || ok {
		return found, err
	}
	casRegion := CASRegion(region)
	name := CASCertificateName(pair, leaf.NotAfter, fp)
	var found CASCertificate
	lookup := func() (bool, error) {
		f, ok, err := c.FindCertificate(ctx, region, fp)
		if err != nil {
			return true, err // cannot tell: never upload blindly
		}
		found = f
		return ok, nil
	}
	var certID int64
	hookDone, err := c.api.callAmbig(ctx, casRegion, "UploadUserCertificate", lookup, func(cl *sdk.Client) error {
		req := cas.CreateUploadUserCertificateRequest()
		req.RegionId = casRegion
		req.Name = name
		req.Cert = certPEM
		req.Key = keyPEM
		resp := cas.CreateUploadUserCertificateResponse()
		if err := cl.DoAction(req, resp); err != nil {
			return err
		}
		certID = resp.CertId
		return nil
	})
	if isCode(err, "NameRepeat") {
		// Ours from an earlier attempt whose answer was lost, or a name
		// taken by someone else: read the whole store to tell.
		return c.byName(ctx, casRegion, name, fp, err)
	}
	switch {
	case err != nil:
		return CASCertificate{}, err
	case hookDone:
		return found, nil
	case certID <= 0:
		return CASCertificate{}, &APIError{Service: "cas", Action: "UploadUserCertificate", Region: casRegion,
			Code: "IncompleteResponse", Message: "the upload returned no CertId", Kind: apierr.ErrTransient}
	}
	return casFromLeaf(certID, casRegion, name, leaf), nil
}

// byName resolves a NameRepeat refusal (refusal): the certificate named
// name is returned when it has fingerprint fp; another content under our
// name is an error that Is apierr.ErrConflict. The whole store is listed
// (a rare path), so it does not depend on how CAS matches keywords.
func (c *CAS) byName(ctx context.Context, casRegion, name, fp string, refusal error) (CASCertificate, error) {
	all, err := c.list(ctx, casRegion, "")
	if err != nil {
		return CASCertificate{}, err
	}
	for _, cc := range all {
		if cc.Name == name && cc.Fingerprint == fp {
			return cc, nil
		}
	}
	return CASCertificate{}, fmt.Errorf("cas: the certificate name %q is taken by a certificate with another content in %s; rename or delete that certificate: %w", name, casRegion, refusal)
}

func casFromLeaf(id int64, casRegion, name string, leaf *x509.Certificate) CASCertificate {
	algo := "RSA"
	if leaf.PublicKeyAlgorithm == x509.ECDSA {
		algo = "ECC"
	}
	return CASCertificate{CertID: id, Region: casRegion, Identity: CASIdentity(id, casRegion), Name: name,
		Fingerprint: certs.FingerprintSHA1(leaf.Raw), SerialNo: strings.ToUpper(leaf.SerialNumber.Text(16)),
		CommonName: leaf.Subject.CommonName, SANs: append([]string(nil), leaf.DNSNames...), Algorithm: algo,
		NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC()}
}

// leafOf parses the first certificate of a PEM chain.
func leafOf(certPEM string) (*x509.Certificate, error) {
	rest := []byte(certPEM)
	for {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil, fmt.Errorf("cas: upload: the certificate chain holds no PEM CERTIFICATE block; pass the pair's validated chain: %w", apierr.ErrInvalid)
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		leaf, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("cas: upload: the leaf certificate does not parse (%v); pass the pair's validated chain: %w", err, apierr.ErrInvalid)
		}
		return leaf, nil
	}
}

// DeleteCertificate deletes one of our certificates. A certificate that is
// not ours (see CASCertificate.Ours) is refused without any call (an error
// that Is apierr.ErrInvalid); one still used by a listener gives an error
// that Is apierr.ErrConflict; one already gone is not an error.
func (c *CAS) DeleteCertificate(ctx context.Context, cert CASCertificate) error {
	if !cert.Ours() {
		return fmt.Errorf("cas: delete %s (%q): not a certificate this product uploaded; it is left alone: %w", cert.Identity, cert.Name, apierr.ErrInvalid)
	}
	id, casRegion, err := ParseCASIdentity(cert.Identity)
	if err != nil {
		return fmt.Errorf("cas: delete: %w: %w", err, apierr.ErrInvalid)
	}
	err = c.api.call(ctx, casRegion, "DeleteUserCertificate", func(cl *sdk.Client) error {
		req := cas.CreateDeleteUserCertificateRequest()
		req.RegionId = casRegion
		req.CertId = requests.NewInteger64(id)
		return cl.DoAction(req, cas.CreateDeleteUserCertificateResponse())
	})
	return goneIsNil(err)
}

// isCode reports whether err is an *APIError with the service code code.
func isCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}
