package oss

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// maxSkew is how far the request date may be from the server clock.
const maxSkew = 15 * time.Minute

// signedSubResources are the query parameters that take part in a V1
// signature (the SDK's signKeyList).
var signedSubResources = map[string]bool{}

func init() {
	for _, k := range []string{"acl", "uploads", "location", "cors",
		"logging", "website", "referer", "lifecycle",
		"delete", "append", "tagging", "objectMeta",
		"uploadId", "partNumber", "security-token",
		"position", "img", "style", "styleName",
		"replication", "replicationProgress",
		"replicationLocation", "cname", "bucketInfo",
		"comp", "qos", "live", "status", "vod",
		"startTime", "endTime", "symlink",
		"x-oss-process", "response-content-type", "x-oss-traffic-limit",
		"response-content-language", "response-expires",
		"response-cache-control", "response-content-disposition",
		"response-content-encoding", "udf", "udfName", "udfImage",
		"udfId", "udfImageDesc", "udfApplication",
		"udfApplicationLog", "restore", "callback", "callback-var", "qosInfo",
		"policy", "stat", "encryption", "versions", "versioning", "versionId", "requestPayment",
		"x-oss-request-payer", "sequential",
		"inventory", "inventoryId", "continuation-token", "asyncFetch",
		"worm", "wormId", "wormExtend", "withHashContext",
		"x-oss-enable-md5", "x-oss-enable-sha1", "x-oss-enable-sha256",
		"x-oss-hash-ctx", "x-oss-md5-ctx", "transferAcceleration",
		"regionList", "cloudboxes", "x-oss-ac-source-ip", "x-oss-ac-subnet-mask", "x-oss-ac-vpc-id", "x-oss-ac-forward-allow",
		"metaQuery", "resourceGroup", "rtc", "x-oss-async-process", "responseHeader"} {
		signedSubResources[k] = true
	}
}

// authFailure is a refused request: status, OSS code, message and extra
// XML elements for the error body.
type authFailure struct {
	status int
	code   string
	msg    string
	extra  [][2]string
}

// authenticate checks the request's Authorization header. It returns the
// access key id on success.
func (s *Server) authenticate(r *http.Request, q url.Values, bucket, key string) (string, *authFailure) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return "", &authFailure{http.StatusForbidden, "AccessDenied", "You have no right to access this resource: anonymous access is not allowed.", nil}
	}
	var (
		date string
		t    time.Time
		err  error
	)
	if d := r.Header.Get("X-Oss-Date"); d != "" {
		date = d
		t, err = time.Parse("20060102T150405Z", d)
		if err != nil {
			t, err = time.Parse(http.TimeFormat, d)
		}
	} else if d := r.Header.Get("Date"); d != "" {
		date = d
		t, err = time.Parse(http.TimeFormat, d)
	} else {
		return "", &authFailure{http.StatusForbidden, "AccessDenied", "OSS authentication requires a valid Date.", nil}
	}
	if err != nil {
		return "", &authFailure{http.StatusForbidden, "AccessDenied", "OSS authentication requires a valid Date.", nil}
	}
	now := s.now()
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return "", &authFailure{http.StatusForbidden, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.",
			[][2]string{{"RequestTime", date}, {"ServerTime", now.UTC().Format("2006-01-02T15:04:05.000Z")}}}
	}
	switch {
	case strings.HasPrefix(authz, "OSS "):
		return s.authV1(r, q, bucket, key, authz[len("OSS "):])
	case strings.HasPrefix(authz, "OSS4-HMAC-SHA256 "):
		return s.authV4(r, q, bucket, key, authz[len("OSS4-HMAC-SHA256 "):], date, t)
	default:
		return "", &authFailure{http.StatusBadRequest, "InvalidArgument", "Authorization header is invalid.", nil}
	}
}

// account looks up an access key and checks the STS token.
func (s *Server) account(r *http.Request, ak string) (Account, *authFailure) {
	acc, ok := s.accounts[ak]
	if !ok {
		return Account{}, &authFailure{http.StatusForbidden, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.",
			[][2]string{{"OSSAccessKeyId", ak}}}
	}
	tok := r.Header.Get("X-Oss-Security-Token")
	if acc.SecurityToken != "" && tok == "" {
		return Account{}, &authFailure{http.StatusForbidden, "InvalidAccessKeyId", "The security token you provided is missing: this access key id requires one.",
			[][2]string{{"OSSAccessKeyId", ak}}}
	}
	if acc.SecurityToken != "" && !hmac.Equal([]byte(tok), []byte(acc.SecurityToken)) {
		return Account{}, &authFailure{http.StatusForbidden, "InvalidSecurityToken", "The security token you provided is invalid.", nil}
	}
	if acc.SecurityToken == "" && tok != "" {
		return Account{}, &authFailure{http.StatusForbidden, "InvalidSecurityToken", "The security token you provided is invalid.", nil}
	}
	return acc, nil
}

// StringToSignV1 builds the V1 string to sign of a request as OSS does.
func StringToSignV1(r *http.Request, q url.Values, bucket, key string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(r.Header.Get("Content-MD5") + "\n")
	b.WriteString(r.Header.Get("Content-Type") + "\n")
	b.WriteString(r.Header.Get("Date") + "\n")
	var names []string
	vals := map[string]string{}
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-") && len(v) > 0 {
			names = append(names, lk)
			vals[lk] = v[0]
		}
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString(n + ":" + vals[n] + "\n")
	}
	switch {
	case bucket == "":
		b.WriteString("/")
	default:
		b.WriteString("/" + bucket + "/" + key)
	}
	var subs []string
	for k := range q {
		if signedSubResources[k] {
			subs = append(subs, k)
		}
	}
	sort.Strings(subs)
	for i, k := range subs {
		if i == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("&")
		}
		b.WriteString(k)
		if v := q.Get(k); v != "" {
			b.WriteString("=" + v)
		}
	}
	return b.String()
}

func (s *Server) authV1(r *http.Request, q url.Values, bucket, key, cred string) (string, *authFailure) {
	i := strings.LastIndex(cred, ":")
	if i <= 0 {
		return "", &authFailure{http.StatusBadRequest, "InvalidArgument", "Authorization header is invalid.", nil}
	}
	ak, sig := strings.TrimSpace(cred[:i]), strings.TrimSpace(cred[i+1:])
	acc, f := s.account(r, ak)
	if f != nil {
		return "", f
	}
	sts := StringToSignV1(r, q, bucket, key)
	m := hmac.New(sha1.New, []byte(acc.AccessKeySecret))
	m.Write([]byte(sts))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return "", signatureMismatch(ak, sig, sts)
	}
	return ak, nil
}

func signatureMismatch(ak, sig, sts string) *authFailure {
	return &authFailure{http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
		[][2]string{{"StringToSign", sts}, {"StringToSignBytes", hexBytes(sts)}, {"SignatureProvided", sig}, {"OSSAccessKeyId", ak}}}
}

func hexBytes(s string) string {
	parts := make([]string, len(s))
	for i := 0; i < len(s); i++ {
		parts[i] = hex.EncodeToString([]byte{s[i]})
	}
	return strings.Join(parts, " ")
}

// escapeV4 escapes an object key for the V4 canonical URI: RFC 3986
// unreserved characters and '/' are kept.
func escapeV4(key string) string {
	e := strings.ReplaceAll(url.QueryEscape(key), "+", "%20")
	return strings.ReplaceAll(e, "%2F", "/")
}

// CanonicalRequestV4 builds the V4 canonical request as OSS does.
func CanonicalRequestV4(r *http.Request, q url.Values, bucket, key string, additional []string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	switch {
	case bucket == "":
		b.WriteString("/")
	case key == "":
		b.WriteString("/" + bucket + "/")
	default:
		b.WriteString("/" + bucket + "/" + escapeV4(key))
	}
	b.WriteString("\n")
	var keys []string
	enc := map[string]string{}
	for k, v := range q {
		ek := url.QueryEscape(k)
		keys = append(keys, ek)
		if len(v) > 0 && v[0] != "" {
			enc[ek] = strings.ReplaceAll(url.QueryEscape(v[0]), "+", "%20")
		} else {
			enc[ek] = ""
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteString("&")
		}
		b.WriteString(k)
		if enc[k] != "" {
			b.WriteString("=" + enc[k])
		}
	}
	b.WriteString("\n")
	addl := map[string]bool{}
	for _, a := range additional {
		addl[strings.ToLower(a)] = true
	}
	var names []string
	vals := map[string]string{}
	for k, v := range r.Header {
		lk := strings.ToLower(k)
		if lk == "content-md5" || lk == "content-type" || strings.HasPrefix(lk, "x-oss-") || addl[lk] {
			if len(v) > 0 {
				names = append(names, lk)
				vals[lk] = strings.Trim(v[0], " ")
			}
		}
	}
	if addl["host"] {
		names = append(names, "host")
		vals["host"] = r.Host
	}
	sort.Strings(names)
	for _, n := range names {
		b.WriteString(n + ":" + vals[n] + "\n")
	}
	b.WriteString("\n")
	b.WriteString(strings.Join(additional, ";") + "\n")
	payload := r.Header.Get("X-Oss-Content-Sha256")
	if payload == "" {
		payload = "UNSIGNED-PAYLOAD"
	}
	b.WriteString(payload)
	return b.String()
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// SignV4 returns the hex V4 signature of stringToSign.
func SignV4(secret, day, region, stringToSign string) string {
	k := hmacSHA256([]byte("aliyun_v4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, "oss")
	k = hmacSHA256(k, "aliyun_v4_request")
	return hex.EncodeToString(hmacSHA256(k, stringToSign))
}

func (s *Server) authV4(r *http.Request, q url.Values, bucket, key, rest, date string, t time.Time) (string, *authFailure) {
	bad := &authFailure{http.StatusBadRequest, "InvalidArgument", "Authorization header is invalid.", nil}
	var cred, sig string
	var additional []string
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return "", bad
		}
		switch k {
		case "Credential":
			cred = v
		case "Signature":
			sig = v
		case "AdditionalHeaders":
			if v != "" {
				additional = strings.Split(v, ";")
			}
		}
	}
	fields := strings.Split(cred, "/")
	if len(fields) != 5 || sig == "" || fields[3] != "oss" || fields[4] != "aliyun_v4_request" {
		return "", bad
	}
	ak, day, region := fields[0], fields[1], fields[2]
	if _, err := time.Parse("20060102", day); err != nil || day != t.UTC().Format("20060102") {
		return "", &authFailure{http.StatusBadRequest, "InvalidArgument", "Invalid signing date in Authorization header.", nil}
	}
	if region == "" {
		return "", &authFailure{http.StatusBadRequest, "InvalidArgument", "Invalid signing region in Authorization header.", nil}
	}
	if p := r.Header.Get("X-Oss-Content-Sha256"); p != "UNSIGNED-PAYLOAD" {
		return "", &authFailure{http.StatusBadRequest, "InvalidArgument", "x-oss-content-sha256 must be UNSIGNED-PAYLOAD.", nil}
	}
	acc, f := s.account(r, ak)
	if f != nil {
		return "", f
	}
	if bucket != "" {
		if br, ok := s.bucketRegion(bucket); ok && br != region {
			return "", &authFailure{http.StatusBadRequest, "InvalidArgument", "Invalid signing region in Authorization header: the bucket is in " + br + ".", nil}
		}
	}
	cr := CanonicalRequestV4(r, q, bucket, key, additional)
	h := sha256.Sum256([]byte(cr))
	sts := "OSS4-HMAC-SHA256\n" + date + "\n" + day + "/" + region + "/oss/aliyun_v4_request\n" + hex.EncodeToString(h[:])
	want := SignV4(acc.AccessKeySecret, day, region, sts)
	if !hmac.Equal([]byte(want), []byte(sig)) {
		f := signatureMismatch(ak, sig, sts)
		f.extra = append(f.extra, [2]string{"CanonicalRequest", cr})
		return "", f
	}
	return ak, nil
}
