// Package fclog builds the product's slog logger: JSON lines with
// snake_case keys, the Function Compute request id and function name taken
// from the invocation context, and a last line of defence that drops
// attributes carrying secrets or private key material.
package fclog

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

// Keys added from the invocation context.
const (
	KeyRequestID    = "request_id"
	KeyFunctionName = "function_name"
)

// New returns a JSON logger writing to w at level, whose records carry
// request_id and function_name when the ctx passed to the *Context logging
// methods comes from a Function Compute invocation. Attributes that look
// secret are replaced (see Redact).
func New(w io.Writer, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: Redact})
	return slog.New(Handler{inner: h})
}

// ParseLevel maps debug|info|warn|warning|error (any case) to a level;
// anything else is info.
func ParseLevel(s string) slog.Level {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Handler wraps a slog.Handler and adds the FC request id and function
// name from the record's ctx.
type Handler struct{ inner slog.Handler }

// NewHandler wraps inner.
func NewHandler(inner slog.Handler) Handler { return Handler{inner: inner} }

// Enabled reports whether the inner handler handles level.
func (h Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle adds request_id and function_name (when ctx has them) and passes
// the record on.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if fctx, ok := fccontext.FromContext(ctx); ok && fctx != nil {
			if fctx.RequestID != "" {
				r.AddAttrs(slog.String(KeyRequestID, fctx.RequestID))
			}
			if fctx.Function.Name != "" {
				r.AddAttrs(slog.String(KeyFunctionName, fctx.Function.Name))
			}
		}
	}
	return h.inner.Handle(ctx, r)
}

// WithAttrs returns a handler whose records carry attrs.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{inner: h.inner.WithAttrs(attrs)}
}

// WithGroup returns a handler that nests later attributes under name.
func (h Handler) WithGroup(name string) slog.Handler {
	return Handler{inner: h.inner.WithGroup(name)}
}

// Redacted replaces a dropped value.
const Redacted = "[REDACTED]"

// secretKeys are attribute names (or name suffixes after _ or .) whose
// values are never logged.
var secretKeys = []string{
	"access_key_secret", "accesskeysecret", "secret_access_key",
	"security_token", "securitytoken", "sts_token",
	"private_key", "privatekey", "key_pem", "keypem",
	"secret", "password", "passwd", "token", "sign", "signature", "authorization",
}

// Redact is a slog ReplaceAttr function: it replaces the value of an
// attribute whose key names a secret (access_key_secret, security_token,
// private_key, secret, sign, …), and inside any other string or error value
// it replaces only the PEM private key material (RedactKeyMaterial), so a
// reason that talks about a key (e.g. "encrypted (Proc-Type: 4,ENCRYPTED)")
// is logged as it is.
func Redact(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	if SecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() == slog.KindString && LooksLikePrivateKey(a.Value.String()) {
		return slog.String(a.Key, RedactKeyMaterial(a.Value.String()))
	}
	if a.Value.Kind() == slog.KindAny {
		if err, ok := a.Value.Any().(error); ok && LooksLikePrivateKey(err.Error()) {
			return slog.String(a.Key, RedactKeyMaterial(err.Error()))
		}
	}
	return a
}

// SecretKey reports whether an attribute key names a secret.
func SecretKey(key string) bool {
	k := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	for _, s := range secretKeys {
		if k == s || strings.HasSuffix(k, "_"+s) || strings.HasSuffix(k, "."+s) {
			return true
		}
	}
	return false
}

// LooksLikePrivateKey reports whether s contains a PEM private key marker
// (BEGIN or END of an RSA, EC, PKCS#8, encrypted or OpenSSH private key).
func LooksLikePrivateKey(s string) bool {
	return keyMarker.MatchString(s)
}

var (
	keyMarker = regexp.MustCompile(`-----(BEGIN|END) [A-Z0-9 ]*PRIVATE KEY-----`)
	// A whole block; a BEGIN without its END runs to the end of the text.
	keyBlock = regexp.MustCompile(`(?s)-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)
	// What is left of a block cut before its BEGIN: everything up to its END.
	keyTail = regexp.MustCompile(`(?s)^.*-----END [A-Z0-9 ]*PRIVATE KEY-----`)
)

// RedactKeyMaterial replaces every PEM private key block of s (headers such
// as Proc-Type and DEK-Info included) with Redacted and keeps the rest of
// the text. A block cut at either end is redacted up to where it was cut.
func RedactKeyMaterial(s string) string {
	s = keyBlock.ReplaceAllString(s, Redacted)
	return keyTail.ReplaceAllString(s, Redacted)
}
