package aliyun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// APIError is a failed cloud call as this package reports it. Its text is
// built here from the fields below only ("slb: UploadServerCertificate in
// cn-zhangjiakou: KeyFormatError (HTTP 400, request id X): message") and
// never includes request parameters, headers, the string to sign, the access
// key secret or the security token.
type APIError struct {
	Service    string // "slb" or "oss"
	Action     string // API action, e.g. "UploadServerCertificate", "GetObject"
	Region     string // region (SLB) or bucket/key (OSS) the call was about
	Code       string // the service's error code; "" for transport failures
	Message    string // the service's message, shortened and scrubbed
	HTTPStatus int    // 0 for transport failures
	RequestID  string
	// Attempts is how many times the call was tried.
	Attempts int
	// Kind is the apierr sentinel the error answers to (nil if none).
	Kind error

	cause error // transport cause, for errors.Is(err, context.DeadlineExceeded)
}

// Error renders the error without any request parameter.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Service)
	b.WriteString(": ")
	b.WriteString(e.Action)
	if e.Region != "" {
		b.WriteString(" in ")
		b.WriteString(e.Region)
	}
	b.WriteString(": ")
	code := e.Code
	if code == "" && e.HTTPStatus == 0 {
		code = "transport error"
	} else if code == "" {
		code = "error"
	}
	b.WriteString(code)
	var paren []string
	if e.HTTPStatus != 0 {
		paren = append(paren, fmt.Sprintf("HTTP %d", e.HTTPStatus))
	}
	if e.RequestID != "" {
		paren = append(paren, "request id "+e.RequestID)
	}
	if e.Attempts > 1 {
		paren = append(paren, fmt.Sprintf("after %d attempts", e.Attempts))
	}
	if len(paren) > 0 {
		b.WriteString(" (" + strings.Join(paren, ", ") + ")")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is answers for the apierr kind of the error.
func (e *APIError) Is(target error) bool {
	return e.Kind != nil && target == e.Kind
}

// Unwrap exposes a context error (deadline, cancellation) that ended the call.
func (e *APIError) Unwrap() error {
	if errors.Is(e.cause, context.DeadlineExceeded) || errors.Is(e.cause, context.Canceled) {
		return e.cause
	}
	return nil
}

// Transient reports whether retrying the call may help.
func (e *APIError) Transient() bool { return e.Kind == apierr.ErrTransient }

// Throttled reports whether the service refused the call as over its rate
// limit (a request to slow down: retried until the ctx deadline).
func (e *APIError) Throttled() bool { return throttleCode(e.Code, e.HTTPStatus) }

// throttleCode reports whether a service error code (or, without one, the
// HTTP status) means "over the rate limit": Throttling, Throttling.User,
// Rejected.Throttling, Throttled, OSS-style SlowDown, or HTTP 429.
func throttleCode(code string, status int) bool {
	switch {
	case code == "":
		return status == 429
	case strings.HasPrefix(code, "Throttling"), strings.HasSuffix(code, ".Throttling"), code == "Throttled", code == "SlowDown":
		return true
	}
	return false
}

// transientCodes are retried whatever their HTTP status.
var transientCodes = map[string]bool{
	"ServiceUnavailable":                true,
	"SystemBusy":                        true,
	"OperationBusy":                     true,
	"InternalError":                     true,
	"ServiceIsConfiguring":              true,
	"ServiceIsStopping":                 true,
	"BackendServer.configuring":         true,
	"DomainExtensionProcessing":         true,
	"OperationFailed.TokenIsProcessing": true,
	"UnknownError":                      true,
	"RequestTimeout":                    true, // OSS
	"InternalServerError":               true,
	"SlbIsBusy":                         true,
}

var conflictCodes = map[string]bool{
	"ListenerAlreadyExists":             true,
	"CertificateAndPrivateKeyIsRefered": true,
	"DomainAlreadyExists":               true,
	"FileAlreadyExists":                 true, // OSS forbid-overwrite
	"BucketAlreadyExists":               true,
	"OperationConflict":                 true,
	"LX_REQUEST_TOKEN_CONFLICT":         true,
	"NameRepeat":                        true, // CAS: the certificate name is taken
	"CertificateInUse":                  true, // CAS: delete while a listener uses it
}

var invalidCodes = map[string]bool{
	"CertificateNotMatchPrivateKey": true,
	"PrivateKeyEncryption":          true,
	"KeyFormatError":                true,
	"IdempotentParameterMismatch":   true,
	"BackendServersMalformed":       true,
	"UnsupportedParameter":          true,
	"InvalidArgument":               true, // OSS
	"InvalidObjectName":             true, // OSS
	"InvalidBucketName":             true, // OSS
	"EntityTooLarge":                true, // OSS
	"InvalidDigest":                 true, // OSS
	"MalformedXML":                  true, // OSS
}

var notFoundCodes = map[string]bool{
	"ListenerNotFound":                   true,
	"CheckedListenerNotFound":            true,
	"InvalidParameter.DomainExtensionId": true,
	"DomainNotExisted":                   true,
	"NoSuchKey":                          true, // OSS
	"NoSuchBucket":                       true, // OSS
}

var accessDeniedCodes = map[string]bool{
	"SignatureDoesNotMatch": true,
	"IncompleteSignature":   true,
	"AccessDenied":          true, // OSS
	"NoPermission":          true,
	"InvalidAccessKeyId":    true,
	"Unauthorized":          true,
}

// classify maps a service error code, message and HTTP status to an apierr
// kind. Unknown 4xx codes default by status (404 not found, 401/403 access
// denied, 409 conflict, else invalid); 5xx and 429 are transient.
func classify(code, message string, status int) error {
	switch {
	case code == "":
		// fall through to the status rules
	case throttleCode(code, status):
		return apierr.ErrTransient
	case transientCodes[code]:
		return apierr.ErrTransient
	case strings.HasPrefix(code, "Forbidden") || strings.HasPrefix(code, "InvalidAccessKeyId") ||
		strings.HasPrefix(code, "InvalidSecurityToken") || accessDeniedCodes[code]:
		return apierr.ErrAccessDenied
	case notFoundCodes[code] || strings.HasPrefix(code, "ResourceNotFound") || strings.HasSuffix(code, ".NotFound") || strings.HasSuffix(code, "NotFound") ||
		strings.Contains(message, "The specified resource does not exist"):
		return apierr.ErrNotFound
	case code == "OverQuota" || strings.Contains(code, "QuotaExceed") || strings.Contains(code, "QUOTA_EXCEEDED") ||
		strings.Contains(code, "OverLimit") || strings.Contains(code, "LimitExceed") || strings.Contains(code, "TooMany") ||
		strings.Contains(code, "QUANTITY_INVALID"):
		return apierr.ErrQuota
	case conflictCodes[code] || strings.HasSuffix(code, "AlreadyExists") || strings.HasSuffix(code, "AlreadyExist") ||
		strings.HasPrefix(code, "ResourceAlready") || strings.HasPrefix(code, "Conflict."):
		return apierr.ErrConflict
	case invalidCodes[code] || strings.HasPrefix(code, "InvalidParameter") || strings.HasPrefix(code, "MissingParameter") ||
		strings.HasPrefix(code, "Invalid"):
		return apierr.ErrInvalid
	}
	switch {
	case status >= 500 || status == 429:
		return apierr.ErrTransient
	case status == 404:
		return apierr.ErrNotFound
	case status == 401 || status == 403:
		return apierr.ErrAccessDenied
	case status == 409:
		return apierr.ErrConflict
	case status >= 400:
		return apierr.ErrInvalid
	}
	return nil
}

// transportKind tells whether a transport failure is transient and whether
// the request may have reached the server (ambiguous: a retried non
// idempotent call could run twice).
func transportKind(err error) (transient, ambiguous bool) {
	switch {
	case err == nil:
		return false, false
	case errors.Is(err, context.Canceled):
		return false, false
	case errors.Is(err, context.DeadlineExceeded):
		return true, true
	case errors.Is(err, syscall.ECONNREFUSED):
		return true, false
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.EPIPE):
		return true, true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true, true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true, oe.Op != "dial"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout, false
	}
	msg := err.Error()
	for _, s := range []string{"Client.Timeout", "timeout", "connection reset", "broken pipe", "EOF", "server closed"} {
		if strings.Contains(msg, s) {
			return true, true
		}
	}
	if strings.Contains(msg, "connection refused") {
		return true, false
	}
	return false, false
}

// transportMessage describes a transport failure without the request URL
// (which carries every parameter, the signature and the security token).
func transportMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

const maxMessage = 400

// cleanMessage shortens a service message, cuts off any echoed string to
// sign and removes the given secrets.
func cleanMessage(msg string, secrets []string) string {
	lower := strings.ToLower(msg)
	for _, marker := range []string{"string to sign", "stringtosign", "canonical request", "canonicalrequest"} {
		if i := strings.Index(lower, marker); i >= 0 {
			msg = strings.TrimSpace(msg[:i]) + " [string to sign removed]"
			lower = strings.ToLower(msg)
		}
	}
	msg = scrub(msg, secrets)
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "…"
	}
	return msg
}

// scrub replaces every secret (and its URL-escaped forms) in s.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			s = strings.ReplaceAll(s, form, redacted)
		}
	}
	return s
}
