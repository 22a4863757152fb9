package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// File is one input object.
type File struct {
	// Name is the object key; every message names it.
	Name string
	// Data is the object's content.
	Data []byte
}

// Options tune Parse.
type Options struct {
	// MinValidDays is the least number of days the leaf must stay valid
	// after now (MIN_VALID_DAYS, whose default of 7 shared/config applies).
	// 0 or less: any leaf that has not expired yet is accepted.
	MinValidDays int
	// AllowECDSA also accepts an ECDSA (P-256 or P-384) certificate and key,
	// which ALB and NLB serve; the default refuses them (CLB takes RSA only).
	AllowECDSA bool
}

// MinRSABits is the smallest RSA key accepted.
const MinRSABits = 2048

// Bundle is a validated, normalised certificate chain and key, ready for
// UploadServerCertificate.
type Bundle struct {
	// CertPEM is the leaf then the intermediates, nearest first, each
	// re-encoded: "CERTIFICATE" blocks, 64-column base64, LF only, no blank
	// lines, no headers, no text between. The self-signed root, if one was
	// given, is not included (see Root).
	CertPEM string
	// Key is the private key as PKCS#1 "RSA PRIVATE KEY" PEM; it prints as
	// "[REDACTED]", use Key.PEM() for the text.
	Key PrivateKey
	// Leaf is the server certificate.
	Leaf *x509.Certificate
	// Intermediates are the certificates between the leaf and the root,
	// nearest first.
	Intermediates []*x509.Certificate
	// Root is the self-signed root if the input carried one (dropped from
	// CertPEM), otherwise nil.
	Root *x509.Certificate
	// FingerprintSHA1 is the SHA-1 of the leaf's DER in lower-case colon
	// hex, as SLB shows it.
	FingerprintSHA1 string
	// SHA256 is the SHA-256 of the leaf's DER in lower-case hex.
	SHA256 string
	// Domains are the leaf's SAN DNS names (its CN when it has none),
	// lower-cased and de-duplicated.
	Domains []string
	// NotBefore and NotAfter are the leaf's validity.
	NotBefore, NotAfter time.Time
	// KeyBits is the RSA modulus size, or the ECDSA curve's size.
	KeyBits int
	// ECDSA reports an ECDSA key (only with Options.AllowECDSA); Key is then
	// the SEC 1 "EC PRIVATE KEY" PEM.
	ECDSA bool
	// Reordered reports that the input chain was not leaf first, nearest
	// issuer next, and was reordered.
	Reordered bool
	// KeyConverted reports that the key was PKCS#8 and was converted.
	KeyConverted bool
	// Warnings are problems that do not stop the upload (e.g. the leaf came
	// without any intermediate).
	Warnings []string
}

const (
	fixRSA     = "issue an RSA 2048 certificate (certbot --key-type rsa, lego --key-type rsa2048)"
	fixDecrypt = "remove the passphrase: openssl rsa -in key.pem -out privkey.pem -traditional (it asks for the passphrase and writes the unencrypted PKCS#1 key to upload)"
	clbRSAOnly = "Classic Load Balancer accepts RSA certificates only"
)

// cert is a parsed certificate and the file it came from.
type cert struct {
	c    *x509.Certificate
	file string
	n    int // 1-based position among the certificates of its file
}

// key is a parsed RSA key (or, with Options.AllowECDSA, an ECDSA key in
// ec) and the file it came from.
type key struct {
	k         *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
	file      string
	converted bool
}

// public is the key's public half.
func (k key) public() interface{ Equal(crypto.PublicKey) bool } {
	if k.ec != nil {
		return &k.ec.PublicKey
	}
	return &k.k.PublicKey
}

// Parse validates and normalises a certificate chain and its RSA key at now:
// one bundle file holding both, or a certificate file and a key file in
// either order (more files are allowed; their contents are pooled). Each
// refusal is an *Error naming the file, the problem and the fix.
//
// Checks, in order: each file's size, emptiness and encoding (not PEM, DER,
// corrupt blocks, unknown block types, encrypted or non-RSA keys); then at
// least one certificate, exactly one key, a leaf that matches the key; the
// leaf's key size and validity at now (including MinValidDays); finally the
// chain, which the leaf must pass through in full (reordered when out of
// order, refused when a link is missing, looping or unrelated).
func Parse(now time.Time, opts Options, files ...File) (*Bundle, error) {
	if len(files) == 0 {
		return nil, fail("(no file)", ErrEmpty, "no certificate or key file was given", "upload the certificate chain and its private key")
	}
	certs, keys, err := scanAll(files, opts.AllowECDSA)
	if err != nil {
		return nil, err
	}
	k, err := onlyKey(fileNames(files), certs, keys, opts.AllowECDSA)
	if err != nil {
		return nil, err
	}
	leaf, err := matchLeaf(certs, k)
	if err != nil {
		return nil, err
	}
	if err := checkLeaf(now, opts, leaf, k); err != nil {
		return nil, err
	}
	chain, root, err := orderChain(leaf, certs)
	if err != nil {
		return nil, err
	}
	b := newBundle(chain, root, k)
	b.Reordered = reordered(certs, chain, root)
	b.Warnings = chainWarnings(now, leaf, b.Intermediates)
	return b, nil
}

// scanAll reads every file and pools their certificates and keys, each
// once.
func scanAll(files []File, ecdsaOK bool) ([]cert, []key, error) {
	var certs []cert
	var keys []key
	for _, f := range files {
		c, k, err := scanFile(f, ecdsaOK)
		if err != nil {
			return nil, nil, err
		}
		certs = appendCerts(certs, c)
		keys = appendKeys(keys, k)
	}
	return certs, keys, nil
}

// onlyKey checks that the files hold a certificate and exactly one key,
// and returns the key. Without a key, a leaf of the wrong type is named
// first: uploading its key would not help.
func onlyKey(names string, certs []cert, keys []key, ecdsaOK bool) (key, error) {
	if len(certs) == 0 {
		return key{}, fail(names, ErrNoCertificate, "no certificate (BEGIN CERTIFICATE block) found",
			"upload the certificate chain (fullchain.pem: the server certificate first, then the intermediates)")
	}
	if len(keys) == 0 {
		if leaf := guessLeaf(certs); leaf != nil && !(ecdsaOK && isECDSA(leaf)) {
			if err := checkLeafKeyType(leaf); err != nil {
				return key{}, err
			}
		}
		return key{}, fail(names, ErrNoKey, "no private key found",
			"upload the private key (privkey.pem, \"BEGIN RSA PRIVATE KEY\") next to the certificate, or append it to the bundle")
	}
	if len(keys) > 1 {
		return key{}, fail(keys[1].file, ErrTwoKeys,
			fmt.Sprintf("a second, different private key was found (the first is in %s)", keys[0].file),
			"keep exactly one private key: the one of the server certificate")
	}
	return keys[0], nil
}

// matchLeaf returns the certificate of key k.
func matchLeaf(certs []cert, k key) (cert, error) {
	for _, c := range certs {
		if k.public().Equal(c.c.PublicKey) {
			return c, nil
		}
	}
	leaf := guessLeaf(certs)
	return cert{}, fail(k.file, ErrKeyMismatch,
		fmt.Sprintf("the private key does not match the certificate %s in %s", describe(leaf.c), leaf.file),
		"upload the key and the certificate of the same issuance together (the other file may not have been replaced yet)")
}

// checkLeaf checks the leaf's key type and size and its validity at now.
func checkLeaf(now time.Time, opts Options, leaf cert, k key) error {
	if k.ec != nil {
		return checkValidity(now, opts, leaf) // the curve was checked when the key was parsed
	}
	if err := checkLeafKeyType(&leaf); err != nil {
		return err
	}
	if bits := k.k.N.BitLen(); bits < MinRSABits {
		return fail(k.file, ErrWeakKey,
			fmt.Sprintf("the RSA key has %d bits, fewer than %d", bits, MinRSABits),
			"issue a new certificate with an RSA 2048 (or 4096) key (certbot --rsa-key-size 2048, lego --key-type rsa2048)")
	}
	return checkValidity(now, opts, leaf)
}

// newBundle encodes the ordered chain (leaf first) and the key.
func newBundle(chain []cert, root *cert, k key) *Bundle {
	leaf := chain[0].c
	var pemOut strings.Builder
	inter := make([]*x509.Certificate, 0, len(chain)-1)
	for i, c := range chain {
		pemOut.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.c.Raw}))
		if i > 0 {
			inter = append(inter, c.c)
		}
	}
	b := &Bundle{
		CertPEM:         pemOut.String(),
		Key:             encodeKey(k),
		Leaf:            leaf,
		Intermediates:   inter,
		FingerprintSHA1: FingerprintSHA1(leaf.Raw),
		SHA256:          SHA256(leaf.Raw),
		Domains:         Domains(leaf),
		NotBefore:       leaf.NotBefore,
		NotAfter:        leaf.NotAfter,
		KeyBits:         keyBits(k),
		ECDSA:           k.ec != nil,
		KeyConverted:    k.converted,
	}
	if root != nil {
		b.Root = root.c
	}
	return b
}

// reordered reports whether the input was not already leaf, intermediates
// nearest first, then the root.
func reordered(certs, chain []cert, root *cert) bool {
	for i, c := range append(append([]cert{}, chain...), rootList(root)...) {
		if c.c != certs[i].c {
			return true
		}
	}
	return false
}

// chainWarnings names what does not stop the upload: expired
// intermediates, or none at all under a leaf that is not self-signed.
func chainWarnings(now time.Time, leaf cert, inter []*x509.Certificate) []string {
	var out []string
	for _, c := range inter {
		if now.After(c.NotAfter) {
			out = append(out, fmt.Sprintf("%s: the intermediate %s expired on %s; clients may refuse the chain (download the current chain from your CA)",
				leaf.file, describe(c), c.NotAfter.UTC().Format("2006-01-02")))
		}
	}
	if len(inter) == 0 && !selfSigned(leaf.c) {
		out = append(out, fmt.Sprintf("%s: the certificate comes without intermediates; clients that do not already have the intermediate of %q may fail to verify it (upload fullchain.pem)", leaf.file, leaf.c.Issuer.String()))
	}
	return out
}

func rootList(root *cert) []cert {
	if root == nil {
		return nil
	}
	return []cert{*root}
}

func fileNames(files []File) string {
	names := make([]string, 0, len(files))
	for _, f := range files {
		names = append(names, displayName(f.Name))
	}
	return strings.Join(names, " + ")
}

func displayName(name string) string {
	if name == "" {
		return "(unnamed file)"
	}
	return name
}

// appendCerts adds cs, skipping certificates already present (same DER).
func appendCerts(all, cs []cert) []cert {
	for _, c := range cs {
		dup := false
		for _, a := range all {
			if bytes.Equal(a.c.Raw, c.c.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			all = append(all, c)
		}
	}
	return all
}

// appendKeys adds ks, skipping keys already present (same modulus).
func appendKeys(all, ks []key) []key {
	for _, k := range ks {
		dup := false
		for _, a := range all {
			if a.public().Equal(k.public()) {
				dup = true
				break
			}
		}
		if !dup {
			all = append(all, k)
		}
	}
	return all
}

// guessLeaf returns the first certificate that issued none of the others and
// is not a CA, falling back to the first certificate.
func guessLeaf(certs []cert) *cert {
	for i, c := range certs {
		if c.c.IsCA {
			continue
		}
		issuer := false
		for _, o := range certs {
			if o.c != c.c && issuedBy(o.c, c.c) {
				issuer = true
				break
			}
		}
		if !issuer {
			return &certs[i]
		}
	}
	return &certs[0]
}

func checkLeafKeyType(leaf *cert) error {
	switch pub := leaf.c.PublicKey.(type) {
	case *rsa.PublicKey:
		return nil
	case *ecdsa.PublicKey:
		return fail(leaf.file, ErrNotRSA,
			fmt.Sprintf("the certificate %s has an ECDSA (%s) key; %s", describe(leaf.c), pub.Curve.Params().Name, clbRSAOnly), fixRSA)
	case ed25519.PublicKey:
		return fail(leaf.file, ErrNotRSA,
			fmt.Sprintf("the certificate %s has an Ed25519 key; %s", describe(leaf.c), clbRSAOnly), fixRSA)
	default:
		return fail(leaf.file, ErrNotRSA,
			fmt.Sprintf("the certificate %s has a %s key; %s", describe(leaf.c), leaf.c.PublicKeyAlgorithm, clbRSAOnly), fixRSA)
	}
}

func checkValidity(now time.Time, opts Options, leaf cert) error {
	c := leaf.c
	const layout = "2006-01-02 15:04:05 MST"
	if now.Before(c.NotBefore) {
		return fail(leaf.file, ErrNotYetValid,
			fmt.Sprintf("the certificate %s is not valid before %s (now is %s)", describe(c), c.NotBefore.UTC().Format(layout), now.UTC().Format(layout)),
			"upload it once it is valid, or check the clock of the machine that issued it")
	}
	if now.After(c.NotAfter) {
		return fail(leaf.file, ErrExpired,
			fmt.Sprintf("the certificate %s expired on %s", describe(c), c.NotAfter.UTC().Format(layout)),
			"renew the certificate (certbot renew, lego renew) and upload the new pair")
	}
	if minDays := opts.MinValidDays; minDays > 0 && c.NotAfter.Sub(now) < time.Duration(minDays)*24*time.Hour {
		return fail(leaf.file, ErrValidityTooShort,
			fmt.Sprintf("the certificate %s expires on %s, in less than the required %d days", describe(c), c.NotAfter.UTC().Format(layout), minDays),
			"renew the certificate and upload the new pair (or lower MIN_VALID_DAYS)")
	}
	return nil
}

// describe names a certificate in messages: its subject CN (or whole
// subject) and the SHA-1 fingerprint.
func describe(c *x509.Certificate) string {
	return fmt.Sprintf("%q (SHA-1 %s)", subjectName(c), FingerprintSHA1(c.Raw))
}

func subjectName(c *x509.Certificate) string {
	s := c.Subject.CommonName
	if s == "" {
		s = c.Subject.String()
	}
	return clip(s, 100)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// issuedBy reports whether child names parent as its issuer and parent's
// key made child's signature (signatures with algorithms Go considers
// insecure, such as SHA-1, still count as a link).
func issuedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) {
		return false
	}
	if len(child.AuthorityKeyId) > 0 && len(parent.SubjectKeyId) > 0 && !bytes.Equal(child.AuthorityKeyId, parent.SubjectKeyId) {
		return false
	}
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

func selfSigned(c *x509.Certificate) bool { return issuedBy(c, c) }

// orderChain walks from the leaf up through the supplied certificates. Every
// certificate must be used; a self-signed root ends the chain and is
// returned separately.
func orderChain(leaf cert, certs []cert) (chain []cert, root *cert, err error) {
	rest := make([]cert, 0, len(certs))
	for _, c := range certs {
		if c.c != leaf.c {
			rest = append(rest, c)
		}
	}
	chain = []cert{leaf}
	cur := leaf
	for !selfSigned(cur.c) {
		next := -1
		for i, c := range rest {
			if issuedBy(cur.c, c.c) {
				next = i
				break
			}
		}
		if next < 0 {
			for _, c := range chain {
				if c.c != cur.c && issuedBy(cur.c, c.c) {
					return nil, nil, fail(cur.file, ErrChainLoop,
						fmt.Sprintf("the chain loops: %s is issued by %s, which is already below it in the chain", describe(cur.c), describe(c.c)),
						"upload the chain issued by your CA (fullchain.pem) unchanged")
				}
			}
			break
		}
		cur = rest[next]
		rest = append(rest[:next], rest[next+1:]...)
		if selfSigned(cur.c) {
			r := cur
			root = &r
			break
		}
		chain = append(chain, cur)
	}
	if len(rest) == 0 {
		return chain, root, nil
	}
	// Something is left over: either a link is missing between cur and the
	// CA certificates that remain, or a certificate does not belong at all.
	if root == nil && !selfSigned(cur.c) {
		for _, c := range rest {
			if c.c.IsCA {
				return nil, nil, fail(c.file, ErrChainGap,
					fmt.Sprintf("the chain has a gap: the certificate of the issuer %q of %s is missing (the chain cannot reach %s)",
						clip(cur.c.Issuer.String(), 200), describe(cur.c), describe(c.c)),
					fmt.Sprintf("include the intermediate certificate %q between them (upload the full chain from your CA, e.g. fullchain.pem)", clip(cur.c.Issuer.String(), 200)))
			}
		}
	}
	c := rest[0]
	return nil, nil, fail(c.file, ErrUnrelated,
		fmt.Sprintf("certificate #%d %s (issued by %q) does not belong to the chain of %s",
			c.n, describe(c.c), clip(c.c.Issuer.String(), 200), describe(leaf.c)),
		"remove it: keep only the server certificate and the intermediates that issued it")
}

// encodeKey is the normalised PEM of k: PKCS#1 for RSA, SEC 1 for ECDSA.
func encodeKey(k key) PrivateKey {
	if k.ec != nil {
		der, err := x509.MarshalECPrivateKey(k.ec)
		if err != nil { // a curve the parser accepted always marshals
			return PrivateKey{}
		}
		return PrivateKey{pem: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))}
	}
	return PrivateKey{pem: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k.k)}))}
}

func keyBits(k key) int {
	if k.ec != nil {
		return k.ec.Curve.Params().BitSize
	}
	return k.k.N.BitLen()
}

func isECDSA(c *cert) bool {
	_, ok := c.c.PublicKey.(*ecdsa.PublicKey)
	return ok
}
