package cas

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// Error codes the emulator chose where the CAS documentation names none.
const (
	CodeNameExists = "NameRepeat"          // message as the service words it
	CodeNotFound   = "CertificateNotFound" // DeleteUserCertificate / GetUserCertificateDetail of an unknown CertId
	CodeInUse      = "CertificateInUse"    // DeleteUserCertificate while a listener uses it
)

// WillExpireWithin is how close to NotAfter a certificate lists as WILLEXPIRED.
const WillExpireWithin = 30 * 24 * time.Hour

// parse checks a PEM chain and its key and builds the certificate.
func parse(certPEM, keyPEM string) (*Certificate, *rpc.Error) {
	if strings.TrimSpace(certPEM) == "" {
		return nil, rpc.Missing("Cert")
	}
	if strings.TrimSpace(keyPEM) == "" {
		return nil, rpc.Missing("Key")
	}
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return nil, rpc.Invalid("Cert", "the certificate chain and the private key must be PEM and match ("+safeReason(err)+")")
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, rpc.Invalid("Cert", "the leaf certificate does not parse")
	}
	pair.Leaf = leaf
	c := &Certificate{CommonName: leaf.Subject.CommonName, SANs: append([]string(nil), leaf.DNSNames...),
		Issuer: leaf.Issuer.CommonName, SerialNo: strings.ToUpper(leaf.SerialNumber.Text(16)),
		NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(), TLS: &pair, certPEM: certPEM, keyPEM: keyPEM}
	s1, s2 := sha1.Sum(leaf.Raw), sha256.Sum256(leaf.Raw)
	c.Fingerprint, c.Sha2 = strings.ToUpper(hex.EncodeToString(s1[:])), strings.ToUpper(hex.EncodeToString(s2[:]))
	switch leaf.PublicKey.(type) {
	case *rsa.PublicKey:
		c.Algorithm = "RSA"
	case *ecdsa.PublicKey:
		c.Algorithm = "ECC"
	default:
		return nil, rpc.Invalid("Cert", "only RSA and ECC keys are accepted")
	}
	return c, nil
}

// safeReason keeps crypto/tls's reason but never key material (it has none).
func safeReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "-----"); i >= 0 {
		msg = msg[:i]
	}
	return strings.TrimPrefix(msg, "tls: ")
}

// upload adds a certificate to region's store; the name must be new there.
func (s *Server) upload(region, name, certPEM, keyPEM string, now time.Time) (*Certificate, *rpc.Error) {
	switch {
	case name == "":
		return nil, rpc.Missing("Name")
	case len([]rune(name)) > MaxNameLength:
		return nil, rpc.Invalid("Name", fmt.Sprintf("at most %d characters", MaxNameLength))
	}
	c, aerr := parse(certPEM, keyPEM)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := region + "\x00" + name
	if _, taken := s.names[key]; taken {
		return nil, rpc.Errorf(400, CodeNameExists, "The certificate name already exists.")
	}
	c.ID, c.Name, c.Region, c.Uploaded = s.nextID, name, region, now.UTC()
	c.Identifier = strconv.FormatInt(c.ID, 10) + "-" + region
	s.nextID++
	s.certs[c.ID] = c
	s.order = append(s.order, c)
	s.names[key] = c.ID
	return c, nil
}

func uploadUserCertificate(s *Server, region string, p map[string]string, now time.Time) (map[string]any, *rpc.Error) {
	if p["EncryptCert"] != "" || p["SignCert"] != "" {
		return nil, rpc.Invalid("SignCert", "SM2 (national) certificates are not emulated")
	}
	c, aerr := s.upload(region, p["Name"], p["Cert"], p["Key"], now)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"CertId": c.ID}, nil
}

// certID reads CertId in region.
func (s *Server) certID(region string, p map[string]string) (*Certificate, *rpc.Error) {
	v := p["CertId"]
	if v == "" {
		return nil, rpc.Missing("CertId")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return nil, rpc.Invalid("CertId", "a positive integer (the CertId UploadUserCertificate returned)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.certs[n]
	if !ok || c.Region != region {
		return nil, rpc.Errorf(400, CodeNotFound, "The certificate %d does not exist.", n)
	}
	return c, nil
}

func deleteUserCertificate(s *Server, region string, p map[string]string, _ time.Time) (map[string]any, *rpc.Error) {
	c, aerr := s.certID(region, p)
	if aerr != nil {
		return nil, aerr
	}
	// Users are asked without s.mu held: their own locks come first in
	// ALB and NLB (they call Resolve under them).
	s.usersMu.Lock()
	users := append([]UsageFunc(nil), s.users...)
	s.usersMu.Unlock()
	var using []string
	for _, u := range users {
		using = append(using, u(c.Identifier)...)
	}
	if len(using) > 0 {
		return nil, rpc.Errorf(400, CodeInUse, "The certificate is being used by cloud resources (%s) and cannot be deleted.", strings.Join(using, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.certs, c.ID)
	delete(s.names, c.Region+"\x00"+c.Name)
	for i, x := range s.order {
		if x == c {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return nil, nil
}

func getUserCertificateDetail(s *Server, region string, p map[string]string, now time.Time) (map[string]any, *rpc.Error) {
	c, aerr := s.certID(region, p)
	if aerr != nil {
		return nil, aerr
	}
	out := map[string]any{"Id": c.ID, "Name": c.Name, "Common": c.CommonName, "Fingerprint": c.Fingerprint,
		"Issuer": c.Issuer, "StartDate": c.NotBefore.Format(time.DateOnly), "EndDate": c.NotAfter.Format(time.DateOnly),
		"Sans": strings.Join(c.SANs, ","), "Expired": !now.Before(c.NotAfter), "BuyInAliyun": false, "Algorithm": c.Algorithm}
	if p["CertFilter"] != "true" {
		out["Cert"], out["Key"] = c.certPEM, c.keyPEM
	}
	return out, nil
}

// status is the listing status of an uploaded certificate at now.
func (c *Certificate) status(now time.Time) string {
	switch {
	case !now.Before(c.NotAfter):
		return "EXPIRED"
	case c.NotAfter.Sub(now) <= WillExpireWithin:
		return "WILLEXPIRED"
	}
	return "ISSUED"
}

func (c *Certificate) listItem(now time.Time) map[string]any {
	return map[string]any{"CertificateId": c.ID, "Name": c.Name, "CommonName": c.CommonName, "Domain": c.CommonName,
		"Fingerprint": c.Fingerprint, "Sha2": c.Sha2, "SerialNo": c.SerialNo, "Issuer": c.Issuer, "Sans": strings.Join(c.SANs, ","),
		"StartDate": c.NotBefore.Format(time.DateOnly), "EndDate": c.NotAfter.Format(time.DateOnly),
		"CertStartTime": c.NotBefore.UnixMilli(), "CertEndTime": c.NotAfter.UnixMilli(), "Expired": !now.Before(c.NotAfter),
		"Upload": true, "Status": c.status(now), "Algorithm": c.Algorithm, "SourceType": "upload"}
}

func listUserCertificateOrder(s *Server, region string, p map[string]string, now time.Time) (map[string]any, *rpc.Error) {
	page, aerr := intParam(p, "CurrentPage", 1, 1, 1<<30)
	if aerr != nil {
		return nil, aerr
	}
	size, aerr := intParam(p, "ShowSize", 50, 1, 100)
	if aerr != nil {
		return nil, aerr
	}
	ot := strings.ToUpper(p["OrderType"])
	switch ot {
	case "", "CPACK", "BUY", "UPLOAD", "CERT":
	default:
		return nil, rpc.Invalid("OrderType", "one of CPACK, BUY, UPLOAD, CERT")
	}
	kw, st := strings.ToLower(p["Keyword"]), strings.ToUpper(p["Status"])
	var match []map[string]any
	s.mu.Lock()
	for _, c := range s.order {
		if c.Region != region || (ot != "UPLOAD" && ot != "CERT") {
			continue // only uploads exist here; purchases (the default CPACK) list nothing
		}
		if st != "" && c.status(now) != st {
			continue
		}
		if kw != "" && !strings.Contains(strings.ToLower(c.Name), kw) && !strings.Contains(strings.ToLower(c.CommonName), kw) &&
			!strings.Contains(strings.ToLower(strings.Join(c.SANs, ",")), kw) {
			continue
		}
		match = append(match, c.listItem(now))
	}
	s.mu.Unlock()
	from := min((page-1)*size, len(match))
	to := min(from+size, len(match))
	return map[string]any{"CurrentPage": page, "ShowSize": size, "TotalCount": len(match),
		"CertificateOrderList": append([]map[string]any{}, match[from:to]...)}, nil
}

func intParam(p map[string]string, name string, def, lo, hi int) (int, *rpc.Error) {
	v := p[name]
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, rpc.Invalid(name, fmt.Sprintf("must be an integer in [%d, %d]", lo, hi))
	}
	return n, nil
}
