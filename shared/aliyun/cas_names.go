package aliyun

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
)

// CAS regions: the China site keeps every mainland certificate in
// cn-hangzhou (cas.aliyuncs.com), the international site in ap-southeast-1
// (cas.ap-southeast-1.aliyuncs.com).
const (
	CASChinaRegion = "cn-hangzhou"
	CASIntlRegion  = "ap-southeast-1"
)

// CASRegion is the CAS region whose certificates a load balancer in region
// references: cn-* regions are on the China site, every other region on
// the international site. A certificate's identity carries this region,
// not the load balancer's (see CASIdentity).
func CASRegion(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return CASChinaRegion
	}
	return CASIntlRegion
}

// casHost is the official CAS endpoint of a CAS region.
func casHost(casRegion string) string {
	if casRegion == CASChinaRegion {
		return "cas.aliyuncs.com"
	}
	return "cas." + casRegion + ".aliyuncs.com"
}

// CASIdentity is how ALB and NLB reference a CAS certificate:
// "<CertId>-<casRegion>", e.g. "24664588-cn-hangzhou". A bare CertId is
// refused by the load balancers (ResourceNotAssociated.Certificate).
func CASIdentity(certID int64, casRegion string) string {
	return strconv.FormatInt(certID, 10) + "-" + casRegion
}

// ErrBareCertificateID is answered (through apierr.ErrInvalid) for a
// certificate reference that is not "<CertId>-<casRegion>".
var ErrBareCertificateID = errors.New("a CAS certificate is referenced as <CertId>-<casRegion>, e.g. 24664588-cn-hangzhou")

// ParseCASIdentity splits "<CertId>-<casRegion>". A bare numeric id, a
// missing region or a non-numeric id is an error that Is
// ErrBareCertificateID.
func ParseCASIdentity(identity string) (certID int64, casRegion string, err error) {
	id, region, ok := strings.Cut(identity, "-")
	n, perr := strconv.ParseInt(id, 10, 64)
	if !ok || perr != nil || n <= 0 || region == "" || strings.ContainsAny(region, " /") {
		return 0, "", fmt.Errorf("certificate %q: %w", identity, ErrBareCertificateID)
	}
	return n, region, nil
}

// CAS certificate names the product gives its uploads:
// "scr-<pair>-<notAfter yyyymmdd UTC>-<16 hex digits of the SHA-1>", at
// most 63 characters (CAS's limit). The prefix and the fingerprint digits
// make them recognisable as ours (CAS v1 has no tags): a certificate is
// ours only when its name parses and the digits are those of its own
// fingerprint. Different contents never share a name (64 bits of the
// fingerprint), the same content always gets the same one.
const (
	casNamePrefix = "scr-"
	// MaxCASNameLen is CAS's limit on certificate names.
	MaxCASNameLen = 63
	casFPDigits   = 16
	casNameTail   = 1 + 8 + 1 + casFPDigits // -yyyymmdd-<fp16>
)

// CASCertificateName derives the CAS name of a pair's certificate from the
// pair name, the leaf's NotAfter and its SHA-1 fingerprint (any case or
// separators). Characters CAS names do not take become '-' (the rules of
// certs.CertificateName), and the pair name is shortened to fit 63.
func CASCertificateName(pair string, notAfter time.Time, fingerprintSHA1 string) string {
	fp := strings.ReplaceAll(certs.NormalizeFingerprint(fingerprintSHA1), ":", "")
	if len(fp) > casFPDigits {
		fp = fp[:casFPDigits]
	}
	// certs.CertificateName sanitises the pair name and appends
	// -<yyyymmdd>-<fp8>; keep its sanitised base only.
	base, _, _, _ := certs.ParseCertificateName(certs.CertificateName(casNamePrefix+pair, notAfter, fp))
	if limit := MaxCASNameLen - casNameTail; len(base) > limit {
		base = strings.TrimRight(base[:limit], "-")
	}
	return base + "-" + notAfter.UTC().Format("20060102") + "-" + fp
}

// ourCASName reports whether name is one CASCertificateName made for a
// certificate with this SHA-1 fingerprint.
func ourCASName(name, fingerprintSHA1 string) bool {
	fp := strings.ReplaceAll(certs.NormalizeFingerprint(fingerprintSHA1), ":", "")
	if !strings.HasPrefix(name, casNamePrefix) || len(name) < len(casNamePrefix)+casNameTail || len(fp) != 40 {
		return false
	}
	tail := name[len(name)-casNameTail:]
	if tail[0] != '-' || tail[9] != '-' {
		return false
	}
	if _, err := time.Parse("20060102", tail[1:9]); err != nil {
		return false
	}
	return tail[10:] == fp[:casFPDigits]
}
