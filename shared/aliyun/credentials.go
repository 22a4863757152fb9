package aliyun

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

// Environment variables that carry credentials outside Function Compute (FC
// 3.0 also sets them for the function's role).
const (
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
)

const redacted = "[REDACTED]"

// Credentials is an access key pair, optionally with the STS security token
// that goes with a temporary key. Its String, GoString, LogValue and
// MarshalJSON never show the secret or the token.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// IsZero reports whether no access key is set.
func (c Credentials) IsZero() bool { return c.AccessKeyID == "" && c.AccessKeySecret == "" }

// STS reports whether the credentials carry a security token.
func (c Credentials) STS() bool { return c.SecurityToken != "" }

// String shows the key id and whether a secret and a token are present.
func (c Credentials) String() string {
	return fmt.Sprintf("Credentials{AccessKeyID: %q, AccessKeySecret: %s, SecurityToken: %s}",
		c.AccessKeyID, presence(c.AccessKeySecret), presence(c.SecurityToken))
}

// GoString is String, so that %#v cannot print the secret either.
func (c Credentials) GoString() string { return c.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q) use String.
func (c Credentials) Format(f fmt.State, verb rune) {
	_, _ = f.Write([]byte(c.String()))
}

// LogValue renders the credentials for log/slog without the secret or token.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("access_key_id", c.AccessKeyID),
		slog.String("access_key_secret", presence(c.AccessKeySecret)),
		slog.String("security_token", presence(c.SecurityToken)),
	)
}

// MarshalJSON renders the credentials without the secret or token.
func (c Credentials) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AccessKeyID     string `json:"accessKeyId"`
		AccessKeySecret string `json:"accessKeySecret"`
		SecurityToken   string `json:"securityToken"`
	}{c.AccessKeyID, presence(c.AccessKeySecret), presence(c.SecurityToken)})
}

func presence(s string) string {
	if s == "" {
		return "(empty)"
	}
	return redacted
}

// secrets returns the values that must never appear in any text.
func (c Credentials) secrets() []string {
	var out []string
	for _, s := range []string{c.AccessKeySecret, c.SecurityToken} {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

// CredentialsFromEnv reads ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET and the optional
// ALIBABA_CLOUD_SECURITY_TOKEN through getenv. The error names every missing
// variable.
func CredentialsFromEnv(getenv func(string) string) (Credentials, error) {
	if getenv == nil {
		return Credentials{}, fmt.Errorf("aliyun: credentials: no environment given")
	}
	c := Credentials{
		AccessKeyID:     strings.TrimSpace(getenv(EnvAccessKeyID)),
		AccessKeySecret: strings.TrimSpace(getenv(EnvAccessKeySecret)),
		SecurityToken:   strings.TrimSpace(getenv(EnvSecurityToken)),
	}
	var missing []string
	if c.AccessKeyID == "" {
		missing = append(missing, EnvAccessKeyID)
	}
	if c.AccessKeySecret == "" {
		missing = append(missing, EnvAccessKeySecret)
	}
	if len(missing) > 0 {
		return Credentials{}, fmt.Errorf("aliyun: credentials: %s not set: set them (and %s for an STS key) or run inside Function Compute with a role",
			strings.Join(missing, " and "), EnvSecurityToken)
	}
	return c, nil
}

// CredentialsFromContext prefers the STS triple that Function Compute puts in
// the invocation context (fccontext) and falls back to CredentialsFromEnv.
func CredentialsFromContext(ctx context.Context, getenv func(string) string) (Credentials, error) {
	if fctx, ok := fccontext.FromContext(ctx); ok && fctx != nil {
		cr := fctx.Credentials
		if cr.AccessKeyId != "" && cr.AccessKeySecret != "" {
			return Credentials{
				AccessKeyID:     cr.AccessKeyId,
				AccessKeySecret: cr.AccessKeySecret,
				SecurityToken:   cr.SecurityToken,
			}, nil
		}
	}
	return CredentialsFromEnv(getenv)
}
