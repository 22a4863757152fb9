package certs

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	beginMarker = []byte("-----BEGIN")
	endMarker   = []byte("-----END")
	utf8BOM     = []byte("\xef\xbb\xbf")
)

// scanFile reads every PEM block of one file. It refuses the file as soon as
// one block is wrong. Messages never quote block contents.
func scanFile(f File, ecdsaOK bool) ([]cert, []key, error) {
	name := displayName(f.Name)
	if len(f.Data) > MaxObjectSize {
		return nil, nil, fail(name, ErrTooLarge,
			fmt.Sprintf("the file is %d bytes, more than the %d bytes (64 KiB) a certificate chain or key can need", len(f.Data), MaxObjectSize),
			"upload only the PEM certificate chain and the private key")
	}
	raw := bytes.TrimPrefix(f.Data, utf8BOM)
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil, fail(name, ErrEmpty, "the file is empty",
			"upload the PEM file again (the upload may have been interrupted)")
	}
	if !bytes.Contains(raw, beginMarker) {
		return nil, nil, classifyNonPEM(name, raw)
	}
	data := bytes.ReplaceAll(raw, []byte("\r"), nil)

	var certs []cert
	var keys []key
	rest := data
	blockNo := 0
	for {
		idx := bytes.Index(rest, beginMarker)
		outside := rest
		if idx >= 0 {
			outside = rest[:idx]
		}
		if err := checkOutside(name, data, len(data)-len(rest), outside); err != nil {
			return nil, nil, err
		}
		if idx < 0 {
			break
		}
		start := len(data) - len(rest) + idx
		line := lineOf(data, start)
		blockNo++
		typ := beginType(rest[idx:])
		block, after := pem.Decode(rest[idx:])
		consumed := len(rest[idx:]) - len(after)
		if block == nil || bytes.Contains(rest[idx+len(beginMarker):idx+consumed], beginMarker) {
			return nil, nil, corruptBlock(name, blockNo, typ, line)
		}
		rest = after

		c, k, err := parseBlock(name, line, block, len(certs)+1, ecdsaOK)
		switch {
		case err != nil:
			return nil, nil, err
		case c != nil:
			certs = append(certs, *c)
		case k != nil:
			keys = append(keys, *k)
		}
	}
	if len(certs) == 0 && len(keys) == 0 {
		return nil, nil, fail(name, ErrNotPEM, "the file has no certificate or private key block",
			"upload PEM files: the certificate chain (fullchain.pem) and the private key (privkey.pem)")
	}
	return certs, keys, nil
}

// parseBlock parses one PEM block found at line: a certificate (the n-th
// of its file), a key, nothing (EC PARAMETERS) or a refusal.
func parseBlock(name string, line int, block *pem.Block, n int, ecdsaOK bool) (*cert, *key, error) {
	switch block.Type {
	case "CERTIFICATE", "X509 CERTIFICATE":
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil && looksLikeKey(block.Bytes) {
			return nil, nil, fail(name, ErrCorrupt,
				fmt.Sprintf("the block labelled CERTIFICATE at line %d holds a private key", line),
				"put the key in its own \"-----BEGIN RSA PRIVATE KEY-----\" block (privkey.pem) and upload the certificate itself")
		}
		if err != nil {
			return nil, nil, fail(name, ErrCorrupt,
				fmt.Sprintf("certificate #%d (line %d) cannot be parsed: %s", n, line, clip(err.Error(), 200)),
				"upload the certificate exactly as your CA issued it")
		}
		return &cert{c: c, file: name, n: n}, nil, nil
	case "RSA PRIVATE KEY", "PRIVATE KEY":
		k, err := parseKey(name, line, block, ecdsaOK)
		if err != nil {
			return nil, nil, err
		}
		return nil, &k, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, nil, fail(name, ErrEncryptedKey,
			fmt.Sprintf("the private key (line %d) is encrypted (PKCS#8 ENCRYPTED PRIVATE KEY); Classic Load Balancer needs an unencrypted key", line),
			fixDecrypt)
	case "EC PRIVATE KEY":
		if ecdsaOK {
			k, err := parseECKey(name, line, block)
			if err != nil {
				return nil, nil, err
			}
			return nil, &k, nil
		}
		return nil, nil, fail(name, ErrNotRSA,
			fmt.Sprintf("the private key (line %d) is an EC (ECDSA) key; %s", line, clbRSAOnly), fixRSA)
	case "DSA PRIVATE KEY":
		return nil, nil, fail(name, ErrNotRSA,
			fmt.Sprintf("the private key (line %d) is a DSA key; %s", line, clbRSAOnly), fixRSA)
	case "EC PARAMETERS":
		// Written by openssl next to an EC key; the key itself is refused.
	default:
		return nil, nil, unknownBlock(name, line, block.Type)
	}
	return nil, nil, nil
}

func parseKey(name string, line int, block *pem.Block, ecdsaOK bool) (key, error) {
	if strings.Contains(strings.ToUpper(block.Headers["Proc-Type"]), "ENCRYPTED") || block.Headers["DEK-Info"] != "" {
		return key{}, fail(name, ErrEncryptedKey,
			fmt.Sprintf("the private key (line %d) is encrypted (Proc-Type: 4,ENCRYPTED); Classic Load Balancer needs an unencrypted key", line),
			fixDecrypt)
	}
	// Accept either encoding whatever the label says; mislabelled keys are
	// common and the content decides.
	first, second := x509.ParsePKCS1PrivateKey, parsePKCS8
	if block.Type == "PRIVATE KEY" {
		first, second = parsePKCS8, x509.ParsePKCS1PrivateKey
	}
	var parsed any
	converted := false
	if k, err := first(block.Bytes); err == nil {
		parsed, converted = k, block.Type == "PRIVATE KEY"
	} else if k, err2 := second(block.Bytes); err2 == nil {
		parsed, converted = k, block.Type != "PRIVATE KEY"
	} else if k8, err3 := x509.ParsePKCS8PrivateKey(block.Bytes); err3 == nil {
		parsed, converted = k8, true
	} else {
		if bits, ok := weakRSABits(err, err2); ok {
			return key{}, fail(name, ErrWeakKey,
				fmt.Sprintf("the RSA key (line %d) has %d bits, fewer than %d", line, bits, MinRSABits),
				"issue a new certificate with an RSA 2048 (or 4096) key (certbot --rsa-key-size 2048, lego --key-type rsa2048)")
		}
		return key{}, fail(name, ErrCorrupt,
			fmt.Sprintf("the private key (line %d, %s) cannot be parsed: its content is not a valid key", line, block.Type),
			"upload the private key exactly as it was generated (privkey.pem)")
	}
	switch k := parsed.(type) {
	case *rsa.PrivateKey:
		return key{k: k, file: name, converted: converted}, nil
	case *ecdsa.PrivateKey:
		if ecdsaOK {
			return ecKey(name, line, k, true)
		}
		return key{}, fail(name, ErrNotRSA,
			fmt.Sprintf("the private key (line %d) is PKCS#8 EC (ECDSA, %s); %s", line, k.Curve.Params().Name, clbRSAOnly), fixRSA)
	case ed25519.PrivateKey:
		return key{}, fail(name, ErrNotRSA,
			fmt.Sprintf("the private key (line %d) is PKCS#8 Ed25519; %s", line, clbRSAOnly), fixRSA)
	case *ecdh.PrivateKey:
		return key{}, fail(name, ErrNotRSA,
			fmt.Sprintf("the private key (line %d) is PKCS#8 X25519; %s", line, clbRSAOnly), fixRSA)
	default:
		return key{}, fail(name, ErrNotRSA,
			fmt.Sprintf("the private key (line %d) is PKCS#8 of type %T; %s", line, parsed, clbRSAOnly), fixRSA)
	}
}

// looksLikeKey reports whether der parses as a private key of any kind.
func looksLikeKey(der []byte) bool {
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return true
	}
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return true
	}
	_, err := x509.ParseECPrivateKey(der)
	return err == nil
}

func parsePKCS8(der []byte) (*rsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key")
	}
	return rk, nil
}

// weakRSABits recognises crypto/rsa's refusal of keys under 1024 bits
// ("crypto/rsa: 512-bit keys are insecure (see https://go.dev/pkg/crypto/rsa#hdr-Minimum_key_size)")
// and returns the size it names.
func weakRSABits(errs ...error) (int, bool) {
	for _, err := range errs {
		if err == nil {
			continue
		}
		msg := err.Error()
		i := strings.Index(msg, "-bit key")
		if i < 0 || !strings.Contains(msg, "insecure") {
			continue
		}
		j := i
		for j > 0 && msg[j-1] >= '0' && msg[j-1] <= '9' {
			j--
		}
		if n, convErr := strconv.Atoi(msg[j:i]); convErr == nil {
			return n, true
		}
	}
	return 0, false
}

func unknownBlock(name string, line int, typ string) error {
	problem, fix := "", ""
	switch typ {
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		problem = "is a certificate signing request (CSR), not a certificate"
		fix = "upload the certificate your CA issued for this request (fullchain.pem)"
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		problem = "is a public key, not a private key or certificate"
		fix = "upload the private key (privkey.pem) that belongs to the certificate"
	case "OPENSSH PRIVATE KEY":
		problem = "is an OpenSSH key, not a TLS private key"
		fix = "upload the private key the certificate was issued for (privkey.pem)"
	case "PKCS7":
		problem = "is a PKCS#7 bundle"
		fix = "extract the certificates: openssl pkcs7 -print_certs -in file.p7b -out fullchain.pem"
	case "TRUSTED CERTIFICATE":
		problem = "is an OpenSSL TRUSTED CERTIFICATE (with trust settings)"
		fix = "convert it to a plain certificate: openssl x509 -in file.pem -out cert.pem"
	case "X509 CRL":
		problem = "is a certificate revocation list"
		fix = "remove it: upload only the certificate chain and the private key"
	default:
		problem = fmt.Sprintf("is of type %s, which is neither a certificate nor a private key", label(typ))
		fix = "remove it: upload only CERTIFICATE blocks and one RSA PRIVATE KEY block"
	}
	return fail(name, ErrUnknownBlock, fmt.Sprintf("the PEM block at line %d %s", line, problem), fix)
}

func corruptBlock(name string, n int, typ string, line int) error {
	return fail(name, ErrCorrupt,
		fmt.Sprintf("PEM block #%d (type %s, line %d) cannot be decoded: it is truncated, its END line is missing or does not match, or its base64 is broken",
			n, label(typ), line),
		"upload the file again, complete and unchanged (transfer it as binary, not through an editor)")
}

// beginType returns the label of the BEGIN line at the start of b.
func beginType(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	s := strings.TrimPrefix(string(line), "-----BEGIN")
	s = strings.TrimSpace(s)
	s, _, _ = strings.Cut(s, "-----")
	return strings.TrimSpace(s)
}

// label quotes a PEM block label for a message when it looks like one
// (upper-case letters, digits, spaces and a little punctuation, at most 40
// characters). Anything else, which might be base64 of a key pasted into
// the BEGIN line, is not repeated.
func label(typ string) string {
	if typ == "" || len(typ) > 40 {
		return "(unrecognised)"
	}
	for _, r := range typ {
		if !(r >= 'A' && r <= 'Z') && !(r >= '0' && r <= '9') && !strings.ContainsRune(" #._-", r) {
			return "(unrecognised)"
		}
	}
	return strconv.Quote(typ)
}

func lineOf(data []byte, offset int) int {
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// checkOutside accepts text between blocks (openssl writes "Bag Attributes"
// and "subject=" lines) but refuses binary data and stray END lines.
func checkOutside(name string, data []byte, offset int, outside []byte) error {
	if i := bytes.Index(outside, endMarker); i >= 0 {
		return fail(name, ErrCorrupt,
			fmt.Sprintf("line %d has an END line without its BEGIN line", lineOf(data, offset+i)),
			"upload the file again, complete and unchanged")
	}
	if i := bytes.Index(outside, []byte("-----")); i >= 0 {
		return fail(name, ErrCorrupt,
			fmt.Sprintf("line %d has a broken BEGIN or END line (the file may be truncated)", lineOf(data, offset+i)),
			"upload the file again, complete and unchanged")
	}
	if !utf8.Valid(outside) {
		return fail(name, ErrCorrupt, "the file has binary data outside its PEM blocks",
			"upload the PEM file again, unchanged (transfer it as binary, not through an editor)")
	}
	for _, r := range string(outside) {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return fail(name, ErrCorrupt, "the file has binary data outside its PEM blocks",
				"upload the PEM file again, unchanged (transfer it as binary, not through an editor)")
		}
	}
	return nil
}

// classifyNonPEM explains a file without any BEGIN line.
func classifyNonPEM(name string, data []byte) error {
	if utf16Text(data) {
		return fail(name, ErrNotPEM, "the file is UTF-16 text (as some Windows editors save it), not ASCII PEM",
			"save it as plain ASCII or UTF-8 (without BOM) and upload it again, e.g. iconv -f UTF-16 -t ASCII in.pem > out.pem")
	}
	if cs, err := x509.ParseCertificates(data); err == nil && len(cs) > 0 {
		return fail(name, ErrDER, "the file is a DER (binary) certificate, not PEM",
			"convert with openssl x509 -inform der -in cert.der -out fullchain.pem (and add the intermediates)")
	}
	if _, err := x509.ParsePKCS1PrivateKey(data); err == nil {
		return fail(name, ErrDER, "the file is a DER (binary) private key, not PEM",
			"convert with openssl rsa -inform der -in key.der -out privkey.pem")
	}
	if _, err := x509.ParsePKCS8PrivateKey(data); err == nil {
		return fail(name, ErrDER, "the file is a DER (binary) PKCS#8 private key, not PEM",
			"convert with openssl pkcs8 -inform der -nocrypt -in key.der -out key.pem, then openssl rsa -in key.pem -out privkey.pem")
	}
	var raw asn1.RawValue
	if len(data) > 0 && data[0] == 0x30 {
		if rest, err := asn1.Unmarshal(data, &raw); err == nil && len(rest) == 0 {
			return fail(name, ErrDER, "the file is binary DER (ASN.1) data, perhaps PKCS#12 (.pfx/.p12) or PKCS#7, not PEM",
				"export PEM: openssl pkcs12 -in file.pfx -nodes -out bundle.pem for PKCS#12, openssl x509 -inform der for a DER certificate")
		}
	}
	compact := strings.Join(strings.Fields(string(data)), "")
	if len(compact) >= 16 {
		if _, err := base64.StdEncoding.DecodeString(compact); err == nil {
			return fail(name, ErrNotPEM, "the file is base64 text without the -----BEGIN/-----END lines",
				"upload the PEM file as your CA issued it, with its -----BEGIN …----- and -----END …----- lines")
		}
	}
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		return fail(name, ErrNotPEM, "the file is binary data, neither PEM nor a DER certificate",
			"upload PEM files: the certificate chain (fullchain.pem) and the private key (privkey.pem)")
	}
	return fail(name, ErrNotPEM, "the file is not PEM (it has no -----BEGIN line)",
		"upload PEM files: the certificate chain (fullchain.pem) and the private key (privkey.pem)")
}

// utf16Text recognises UTF-16 text: a UTF-16 byte order mark, or ASCII with
// a NUL after (or before) nearly every character.
func utf16Text(data []byte) bool {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return true
	}
	if len(data) < 16 {
		return false
	}
	even, odd := 0, 0
	for i, b := range data {
		if b == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	half := len(data) / 2
	return odd >= half*9/10 || even >= half*9/10
}

// parseECKey parses a SEC 1 "EC PRIVATE KEY" block (Options.AllowECDSA).
func parseECKey(name string, line int, block *pem.Block) (key, error) {
	if strings.Contains(strings.ToUpper(block.Headers["Proc-Type"]), "ENCRYPTED") || block.Headers["DEK-Info"] != "" {
		return key{}, fail(name, ErrEncryptedKey,
			fmt.Sprintf("the private key (line %d) is encrypted (Proc-Type: 4,ENCRYPTED)", line),
			"remove the passphrase: openssl ec -in key.pem -out privkey.pem")
	}
	k, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return key{}, fail(name, ErrCorrupt,
			fmt.Sprintf("the private key (line %d, EC PRIVATE KEY) cannot be parsed: its content is not a valid key", line),
			"upload the private key exactly as it was generated (privkey.pem)")
	}
	return ecKey(name, line, k, false)
}

// ecKey accepts an ECDSA key on P-256 or P-384 (what ALB and NLB serve).
func ecKey(name string, line int, k *ecdsa.PrivateKey, converted bool) (key, error) {
	switch k.Curve.Params().Name {
	case "P-256", "P-384":
		return key{ec: k, file: name, converted: converted}, nil
	}
	return key{}, fail(name, ErrNotRSA,
		fmt.Sprintf("the private key (line %d) is ECDSA on %s; ALB and NLB take P-256 or P-384 (and CLB RSA only)", line, k.Curve.Params().Name),
		"issue the certificate with a P-256 key (certbot --key-type ecdsa --elliptic-curve secp256r1, lego --key-type ec256)")
}
