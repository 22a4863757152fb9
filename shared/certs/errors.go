package certs

import "github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"

// Error is the one refusal of an input: which file (or file and field), what
// is wrong, how to fix it. It answers errors.Is(err, apierr.ErrInvalid), so
// every handler classifies it as permanent without reading its text. It
// never contains private key material.
type Error struct {
	// File is the object key (or file name) the problem is in; a problem in
	// one field of a file names the field in Problem.
	File string
	// Kind is a stable machine-readable name of the problem (see the Err*
	// sentinels; e.g. "key-mismatch"); empty for refusals outside this
	// package's checks.
	Kind string
	// Problem says what is wrong, in words.
	Problem string
	// Fix says what to do about it.
	Fix string
	// Err is the underlying cause, if any; errors.Is and errors.As see it.
	Err error
}

// Error returns "<file>: <problem>; fix: <fix>" ("<file>: <problem>"
// without a fix).
func (e *Error) Error() string {
	s := e.File + ": " + e.Problem
	if e.Fix != "" {
		s += "; fix: " + e.Fix
	}
	return s
}

// Is reports whether target is apierr.ErrInvalid (a refusal is permanent:
// the same input is refused again) or the sentinel of e's kind, so that
// errors.Is(err, certs.ErrKeyMismatch) works.
func (e *Error) Is(target error) bool {
	if target == apierr.ErrInvalid {
		return true
	}
	k, ok := target.(kind)
	return ok && e.Kind != "" && string(k) == e.Kind
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// kind is the type of the sentinels; its value is the Error.Kind it matches.
type kind string

func (k kind) Error() string { return "certs: " + string(k) }

// The kinds of refusal. Match them with errors.Is; Error.Kind holds the same
// string as the sentinel's text without the "certs: " prefix.
var (
	// ErrNotPEM: the file is neither PEM nor DER (text or binary garbage).
	ErrNotPEM error = kind("not-pem")
	// ErrDER: the file is binary DER; it must be converted to PEM.
	ErrDER error = kind("der")
	// ErrNoCertificate: no certificate in any of the files.
	ErrNoCertificate error = kind("no-certificate")
	// ErrNoKey: no private key in any of the files (the other half of a
	// pair may not have arrived yet).
	ErrNoKey error = kind("no-key")
	// ErrTwoKeys: more than one (different) private key.
	ErrTwoKeys error = kind("two-keys")
	// ErrKeyMismatch: the key matches no certificate given. The rotation
	// treats it as "waiting": the other half may not have been replaced yet.
	ErrKeyMismatch error = kind("key-mismatch")
	// ErrExpired: the leaf's NotAfter is in the past.
	ErrExpired error = kind("expired")
	// ErrNotYetValid: the leaf's NotBefore is in the future.
	ErrNotYetValid error = kind("not-yet-valid")
	// ErrValidityTooShort: the leaf is valid for less than MinValidDays.
	ErrValidityTooShort error = kind("validity-too-short")
	// ErrWeakKey: an RSA key under 2048 bits.
	ErrWeakKey error = kind("weak-key")
	// ErrNotRSA: an ECDSA, Ed25519 or other non-RSA key or leaf; Classic
	// Load Balancer accepts RSA certificates only.
	ErrNotRSA error = kind("not-rsa")
	// ErrEncryptedKey: the key is encrypted (Proc-Type 4,ENCRYPTED or
	// "ENCRYPTED PRIVATE KEY").
	ErrEncryptedKey error = kind("encrypted-key")
	// ErrChainGap: an intermediate is missing between the supplied
	// certificates; the message names the missing issuer.
	ErrChainGap error = kind("chain-gap")
	// ErrChainLoop: the certificates issue each other in a circle.
	ErrChainLoop error = kind("chain-loop")
	// ErrUnrelated: a certificate does not belong to the leaf's chain.
	ErrUnrelated error = kind("unrelated-certificate")
	// ErrUnknownBlock: a PEM block of a type that is neither a certificate
	// nor a private key (CSR, public key, CRL, PKCS#7, OpenSSH key, …).
	ErrUnknownBlock error = kind("unknown-block")
	// ErrTooLarge: the file is larger than MaxObjectSize.
	ErrTooLarge error = kind("too-large")
	// ErrEmpty: the file is empty or blank (or no file was given).
	ErrEmpty error = kind("empty")
	// ErrCorrupt: a PEM block is truncated or its base64 or DER is broken,
	// or there is binary data between the blocks.
	ErrCorrupt error = kind("corrupt")
)

// fail builds an *Error of kind k.
func fail(file string, k error, problem, fix string) *Error {
	return &Error{File: file, Kind: string(k.(kind)), Problem: problem, Fix: fix}
}
