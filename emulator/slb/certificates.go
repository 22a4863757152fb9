package slb

import (
	"crypto/rsa"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// parsedCert is a validated upload.
type parsedCert struct {
	leaf    *x509.Certificate
	chain   [][]byte
	key     *rsa.PrivateKey
	keyBits int
}

// parseUpload applies CLB's certificate rules: PEM, RSA only, unencrypted
// PKCS#1 key ("BEGIN RSA PRIVATE KEY"), 1024/2048/4096 bits, matching key.
func parseUpload(certPEM, keyPEM string) (*parsedCert, *apiError) {
	if strings.TrimSpace(certPEM) == "" || strings.TrimSpace(keyPEM) == "" {
		return nil, errorf(400, "InvalidParameter", "The specified parameter ServerCertificate or Key is empty.")
	}
	if strings.Contains(keyPEM, "ENCRYPTED") {
		return nil, errorf(400, "PrivateKeyEncryption", "Key has Encrypted .")
	}
	var chain [][]byte
	rest := []byte(certPEM)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, errorf(400, "InvalidParameter", "The specified parameter ServerCertificate format is error.")
		}
		chain = append(chain, b.Bytes)
	}
	if len(chain) == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, errorf(400, "InvalidParameter", "The specified parameter ServerCertificate format is error.")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, errorf(400, "InvalidParameter", "The specified parameter ServerCertificate format is error.")
	}
	for _, der := range chain[1:] {
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, errorf(400, "InvalidParameter", "The specified parameter ServerCertificate format is error.")
		}
	}
	kb, _ := pem.Decode([]byte(keyPEM))
	if kb == nil {
		return nil, errorf(400, "InvalidParameter", "The specified parameter key format is error.")
	}
	if kb.Type != "RSA PRIVATE KEY" {
		return nil, errorf(400, "InvalidParameter", "The specified parameter key format is error. CLB requires an unencrypted PKCS#1 RSA private key (BEGIN RSA PRIVATE KEY), got %q.", kb.Type)
	}
	key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		return nil, errorf(400, "InvalidParameter", "The specified parameter key format is error.")
	}
	bits := key.N.BitLen()
	if bits != 1024 && bits != 2048 && bits != 4096 {
		return nil, errorf(400, "InvalidParameter", "The specified parameter key format is error. RSA key length %d is not supported (1024, 2048, 4096).", bits)
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errorf(400, "InvalidParameter", "The specified parameter ServerCertificate format is error. CLB supports RSA certificates only.")
	}
	if !pub.Equal(&key.PublicKey) {
		return nil, errorf(400, "CertificateNotMatchPrivateKey", "Certificate and key does not match.")
	}
	return &parsedCert{leaf: leaf, chain: chain, key: key, keyBits: bits}, nil
}

// Fingerprint is the SHA-1 of der as SLB shows it: lower-case hex bytes
// separated by colons.
func Fingerprint(der []byte) string {
	sum := sha1.Sum(der)
	h := hex.EncodeToString(sum[:])
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func validCertName(name string) bool {
	if len(name) < 1 || len(name) > 80 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-/._*", r)) {
			return false
		}
	}
	return true
}

// addCertificate stores a validated certificate in reg; s.mu is held.
func (s *Server) addCertificate(reg *region, name string, pc *parsedCert, tags map[string]string, now time.Time) (*certificate, *apiError) {
	if len(reg.certs) >= MaxCertificatesPerRegion {
		return nil, errorf(400, "OverQuota", "The Total is over the quota. At most %d server certificates per region.", MaxCertificatesPerRegion)
	}
	if len(tags) > MaxTagsPerResource {
		return nil, invalid("Tag", "at most 20 tags")
	}
	n := s.nextSeq()
	id := fmt.Sprintf("1231579085529123_%x_%d_%d", now.UnixMilli(), 1714763408+n, 709746+n)
	c := &certificate{
		ServerCertificate: clb.ServerCertificate{
			ID: id, Name: name, Region: reg.id,
			Fingerprint: Fingerprint(pc.leaf.Raw),
			CommonName:  pc.leaf.Subject.CommonName,
			SANs:        append([]string(nil), pc.leaf.DNSNames...),
			ExpireTime:  pc.leaf.NotAfter.UTC(),
			CreateTime:  now.UTC().Truncate(time.Second),
			Tags:        copyTags(tags),
		},
		keyBits: pc.keyBits,
		tls:     &tls.Certificate{Certificate: pc.chain, PrivateKey: pc.key, Leaf: pc.leaf},
	}
	reg.certs[id] = c
	reg.cOrder = append(reg.cOrder, c)
	return c, nil
}

// certReferenced reports whether a listener or domain extension uses id.
func (reg *region) certReferenced(id string) bool {
	for _, lb := range reg.lbOrder {
		for _, l := range lb.listeners {
			if l.ServerCertificateID == id {
				return true
			}
		}
	}
	for _, e := range reg.exts {
		if e.ServerCertificateID == id {
			return true
		}
	}
	return false
}

func certJSON(c *certificate) obj {
	sans := c.SANs
	if sans == nil {
		sans = []string{}
	}
	return obj{
		"ServerCertificateId":     c.ID,
		"ServerCertificateName":   c.Name,
		"Fingerprint":             c.Fingerprint,
		"CommonName":              c.CommonName,
		"SubjectAlternativeNames": obj{"SubjectAlternativeName": sans},
		"ExpireTime":              isoTime(c.ExpireTime),
		"ExpireTimeStamp":         millis(c.ExpireTime),
		"CreateTime":              isoTime(c.CreateTime),
		"CreateTimeStamp":         millis(c.CreateTime),
		"RegionId":                c.Region,
		"RegionIdAlias":           c.Region,
		"IsAliCloudCertificate":   0,
		"AliCloudCertificateId":   "",
		"AliCloudCertificateName": "",
		"ResourceGroupId":         "rg-acfmlocal0000",
		"EncryptionAlgorithm":     "RSA",
		"EncryptionKeyLength":     c.keyBits,
		"StandardType":            "",
		"Tags":                    obj{"Tag": tagList(c.Tags)},
	}
}

func uploadServerCertificate(c *call) (obj, *apiError) {
	if c.p["AliCloudCertificateId"] != "" {
		return nil, errorf(400, "InvalidParameter", "Certificates from the Alibaba Cloud certificate service are not emulated; upload ServerCertificate and PrivateKey.")
	}
	name := c.p["ServerCertificateName"]
	if name != "" && !validCertName(name) {
		return nil, invalid("ServerCertificateName", "1-80 characters: letters, digits, - / . _ *")
	}
	pc, aerr := parseUpload(c.p["ServerCertificate"], c.p["PrivateKey"])
	if aerr != nil {
		return nil, aerr
	}
	tags, aerr := c.tagParams()
	if aerr != nil {
		return nil, aerr
	}
	cert, aerr := c.s.addCertificate(c.reg, name, pc, tags, c.now)
	if aerr != nil {
		return nil, aerr
	}
	out := certJSON(cert)
	for _, k := range []string{"EncryptionAlgorithm", "EncryptionKeyLength", "StandardType", "Tags"} {
		delete(out, k)
	}
	return out, nil
}

func describeServerCertificates(c *call) (obj, *apiError) {
	want, aerr := c.tagParams()
	if aerr != nil {
		return nil, aerr
	}
	ids := map[string]bool{}
	for _, id := range strings.Split(c.p["ServerCertificateId"], ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids[id] = true
		}
	}
	list := []obj{}
	for _, cert := range c.reg.cOrder {
		if len(ids) > 0 && !ids[cert.ID] {
			continue
		}
		if !tagsMatch(cert.Tags, want) {
			continue
		}
		list = append(list, certJSON(cert))
	}
	return obj{"ServerCertificates": obj{"ServerCertificate": list}}, nil
}

func deleteServerCertificate(c *call) (obj, *apiError) {
	cert, aerr := c.cert(c.p["ServerCertificateId"])
	if aerr != nil {
		return nil, aerr
	}
	if c.reg.certReferenced(cert.ID) {
		return nil, errorf(400, "CertificateAndPrivateKeyIsRefered", "The specified certificate is bound to listeners. You cannot delete it.")
	}
	delete(c.reg.certs, cert.ID)
	for i, x := range c.reg.cOrder {
		if x == cert {
			c.reg.cOrder = append(c.reg.cOrder[:i], c.reg.cOrder[i+1:]...)
			break
		}
	}
	return obj{}, nil
}

func setServerCertificateName(c *call) (obj, *apiError) {
	cert, aerr := c.cert(c.p["ServerCertificateId"])
	if aerr != nil {
		return nil, aerr
	}
	name, ok := c.p["ServerCertificateName"]
	if !ok || name == "" {
		return nil, missing("ServerCertificateName")
	}
	if !validCertName(name) {
		return nil, invalid("ServerCertificateName", "1-80 characters: letters, digits, - / . _ *")
	}
	cert.Name = name
	return obj{}, nil
}
