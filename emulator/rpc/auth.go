package rpc

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"sort"
	"strings"
	"time"
)

// MaxClockSkew is how far a request's Timestamp may be from the server clock.
const MaxClockSkew = 15 * time.Minute

// Account is an access key a service accepts. A non-empty SecurityToken
// makes it an STS key: requests signed with it must carry that token.
type Account struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// String never shows the secret or the token.
func (a Account) String() string { return "Account{" + a.AccessKeyID + " [redacted]}" }

// DefaultAccounts returns the local test keys: a plain AccessKey pair and an
// STS triple.
func DefaultAccounts() []Account {
	return []Account{
		{AccessKeyID: "LTAI5tLocalCloudKey01", AccessKeySecret: "local-cloud-secret-0001"},
		{AccessKeyID: "STS.LocalCloudSTSKey01", AccessKeySecret: "local-cloud-sts-secret-01", SecurityToken: "local-cloud-security-token-01"},
	}
}

// percentEncode is RFC 3986 encoding as the RPC signature uses it: unreserved
// characters stay, every other byte becomes %XY (upper-case hex).
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// StringToSign builds the RPC string to sign from every parameter except
// Signature (empty values included), for the given HTTP method.
func StringToSign(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = percentEncode(k) + "=" + percentEncode(params[k])
	}
	return strings.ToUpper(method) + "&" + percentEncode("/") + "&" + percentEncode(strings.Join(parts, "&"))
}

// Sign returns the base64 HMAC-SHA1 signature of stringToSign with
// secret+"&" as the key.
func Sign(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// authenticate checks the key, signature, STS token, timestamp and nonce.
func (s *Service) authenticate(method string, p map[string]string) *Error {
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureNonce", "Timestamp"} {
		if _, ok := p[name]; !ok {
			if name == "Timestamp" && p["TimeStamp"] != "" {
				continue
			}
			return Missing(name)
		}
	}
	if m := p["SignatureMethod"]; m != "" && m != "HMAC-SHA1" {
		return Errorf(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards: SignatureMethod %s is not supported.", m)
	}
	if v := p["SignatureVersion"]; v != "" && v != "1.0" {
		return Errorf(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards: SignatureVersion %s is not supported.", v)
	}
	acct, ok := s.accounts[p["AccessKeyId"]]
	if !ok {
		return Errorf(400, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	sts := StringToSign(method, p)
	want := Sign(acct.AccessKeySecret, sts)
	if subtle.ConstantTimeCompare([]byte(want), []byte(p["Signature"])) != 1 {
		return Errorf(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:%s", sts)
	}
	if acct.SecurityToken != "" {
		tok, ok := p["SecurityToken"]
		switch {
		case !ok || tok == "":
			return Errorf(400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed: an STS AccessKeyId needs its SecurityToken.")
		case subtle.ConstantTimeCompare([]byte(tok), []byte(acct.SecurityToken)) != 1:
			return Errorf(400, "InvalidSecurityToken.MismatchWithAccessKey", "Specified SecurityToken mismatch with the AccessKey.")
		}
	}
	ts := p["Timestamp"]
	if ts == "" {
		ts = p["TimeStamp"]
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", ts)
	if err != nil {
		return Errorf(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	}
	// SDK clients stamp requests with the wall clock, so the window is
	// checked against it even when Options.Now fakes the server's time.
	now := time.Now()
	if d := now.Sub(t); d > MaxClockSkew || d < -MaxClockSkew {
		return Errorf(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	}
	return s.useNonce(acct.AccessKeyID+"\x00"+p["SignatureNonce"], now)
}

// useNonce records a nonce, refusing one seen within the skew window.
func (s *Service) useNonce(key string, now time.Time) *Error {
	s.nonceMu.Lock()
	defer s.nonceMu.Unlock()
	if len(s.nonces) > 4096 && now.Sub(s.noncePurge) > time.Minute {
		s.noncePurge = now
		for k, at := range s.nonces {
			if now.Sub(at) > 2*MaxClockSkew {
				delete(s.nonces, k)
			}
		}
	}
	if at, ok := s.nonces[key]; ok && now.Sub(at) <= 2*MaxClockSkew {
		return Errorf(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	s.nonces[key] = now
	return nil
}
