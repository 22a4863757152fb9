// Package apierr names the kinds of failure the cloud adapters report, so that
// the use cases can decide what to do (reject, wait, retry) with errors.Is and
// without importing any SDK. An adapter's error type implements
// Is(target error) bool and answers for the kinds below.
package apierr

import "errors"

var (
	// ErrNotFound: the resource (object, certificate, listener, load
	// balancer, domain extension) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrQuota: a documented limit is reached (100 certificates per region,
	// 3 domain extensions per listener, listeners per instance).
	ErrQuota = errors.New("quota exceeded")
	// ErrInvalid: the service refused the request as malformed or
	// inconsistent (bad certificate, key mismatch, bad parameter). Retrying
	// the same request cannot help.
	ErrInvalid = errors.New("request refused as invalid")
	// ErrAccessDenied: credentials are missing, wrong, or lack permission.
	ErrAccessDenied = errors.New("access denied")
	// ErrConflict: the resource exists already or is in use (port in use,
	// certificate still referenced).
	ErrConflict = errors.New("conflict")
	// ErrTransient: throttling, 5xx, busy, timeouts or resets that persisted
	// through the adapter's own retries. The invocation should fail so that
	// Function Compute retries it later.
	ErrTransient = errors.New("transient failure")
)

// Permanent reports whether err is a failure that retrying cannot fix.
func Permanent(err error) bool {
	return err != nil && !errors.Is(err, ErrTransient) &&
		(errors.Is(err, ErrNotFound) || errors.Is(err, ErrQuota) ||
			errors.Is(err, ErrInvalid) || errors.Is(err, ErrAccessDenied) ||
			errors.Is(err, ErrConflict))
}
