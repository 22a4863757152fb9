// Package certs is the pure PEM/X.509 logic of the product: it validates and
// normalises a certificate/key pair the way a Classic Load Balancer (SLB API
// 2014-05-15) wants it, decides which domains a certificate covers (RFC 6125
// wildcards), names uploaded server certificates, and classifies expiry.
//
// Nothing here does I/O or reads the clock: every function that depends on
// the time takes now. Every refusal is an *Error that names the file, the
// problem and the fix, and answers errors.Is for one of the Err* kinds.
// No error, String or JSON form ever contains private key material: the
// normalised key lives in a PrivateKey, whose every printed form is
// "[REDACTED]" and whose text is only returned by PEM().
//
// Choices worth knowing:
//   - A self-signed root at the end of the chain is accepted and dropped from
//     Bundle.CertPEM (CLB documents the root as optional and usually omitted);
//     it is kept in Bundle.Root.
//   - The same certificate or the same key given twice (for example a
//     fullchain.pem that also holds the key, next to privkey.pem) is
//     de-duplicated; two different keys are refused.
//   - Text outside PEM blocks (openssl's "Bag Attributes" or "subject=" lines,
//     comments) is ignored; binary data outside blocks and a BEGIN line whose
//     block cannot be decoded are refused as corrupt.
//   - A certificate that the leaf's chain does not pass through is refused by
//     name (ErrUnrelated); a missing link is ErrChainGap naming the missing
//     issuer.
package certs
