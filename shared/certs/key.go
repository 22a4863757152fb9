package certs

import (
	"fmt"
	"log/slog"
)

// Redacted is what every printed form of a PrivateKey shows.
const Redacted = "[REDACTED]"

// PrivateKey holds a normalised PKCS#1 "RSA PRIVATE KEY" PEM. Printing it in
// any way (fmt verbs, slog, JSON, text marshalling) shows "[REDACTED]"; only
// PEM returns the text, for the upload call.
type PrivateKey struct {
	pem string
}

// PEM returns the key as PKCS#1 PEM text. Never log it.
func (k PrivateKey) PEM() string { return k.pem }

// IsZero reports whether the key is empty.
func (k PrivateKey) IsZero() bool { return k.pem == "" }

// String returns "[REDACTED]".
func (PrivateKey) String() string { return Redacted }

// GoString returns "[REDACTED]".
func (PrivateKey) GoString() string { return Redacted }

// Format prints "[REDACTED]" for every verb (%x, %q, %+v included).
func (PrivateKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue makes slog print "[REDACTED]".
func (PrivateKey) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON returns "[REDACTED]" as a JSON string.
func (PrivateKey) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText returns "[REDACTED]" (used by YAML and other encoders).
func (PrivateKey) MarshalText() ([]byte, error) { return []byte(Redacted), nil }
