// Package outcome is the one status vocabulary of every function's result
// (rotate-on-upload, expiry-check, provision and the ones that follow). A
// status says what the fleet serves now, never better than it is; the README
// has the table of what each status means for the user and for Function
// Compute's retries.
package outcome

// Status is the outcome of one invocation, the "status" field of its result
// and of its log line.
type Status string

// The statuses. Success reports which of them need nothing from the user.
const (
	// Rotated: every target of the pair serves the new certificate (verified
	// by handshake, or by API where the address was unreachable). Never
	// returned when a target was rolled back or left in another state.
	Rotated Status = "rotated"
	// Unchanged: nothing needed doing; every target already served it,
	// nothing serves the pair's domains, every such place serves a later
	// certificate (never rotate backwards; the reason names both expiries),
	// or (provision) the instance already matches.
	Unchanged Status = "unchanged"
	// Waiting: the other half of the pair is missing or does not match yet;
	// the later event completes the work.
	Waiting Status = "waiting"
	// Ignored: the event or object is not one this function handles.
	Ignored Status = "ignored"
	// Planned: a dry run or plan; nothing was written.
	Planned Status = "planned"
	// Applied: provisioning created or corrected what differed.
	Applied Status = "applied"
	// Destroyed: provisioning removed what it had created.
	Destroyed Status = "destroyed"
	// Absent: there was nothing to destroy.
	Absent Status = "absent"
	// OK: the expiry check ran and found nothing failing.
	OK Status = "ok"
	// Partial: some of the work is done and some is not; the result names
	// what is left and in what state, worst first. rotate-on-upload fails
	// the invocation (FC retries) when a target is left not served or
	// unknown, or a call failed transiently; expiry-check does not (its
	// next timer run converges).
	Partial Status = "partial"
	// Rejected: a permanent problem (bad input, unknown target, quota,
	// permissions); nothing was half-applied and retrying cannot help until
	// the user fixes what the reason names.
	Rejected Status = "rejected"
	// Issued: a new certificate was issued by the ACME CA and written to the
	// bucket as the pair's fullchain.pem and privkey.pem; the rotation
	// deploys it (its own result and notification say when it is served).
	Issued Status = "issued"
	// Deferred: the work was postponed on purpose and the result says until
	// when and why (a renewal backing off after a failed order, or rate
	// limited by the CA). Not a success: the user may have to act, and FC
	// retrying does not help (the backoff decides when the next try is).
	Deferred Status = "deferred"
	// Failed: the work did not complete (a transient failure, or a target
	// left not serving the new certificate after a failed rollback or with
	// nothing to roll back to, named first); the invocation returns an error
	// so that FC's asynchronous retry runs again, unless the cause is
	// permanent (expiry-check: every region refused, the result says why).
	Failed Status = "failed"
)

// All lists every status, in the README table's order.
var All = []Status{Rotated, Unchanged, Waiting, Ignored, Planned, Applied, Destroyed, Absent, OK, Issued, Partial, Deferred, Rejected, Failed}

// Success reports whether s needs nothing from the user: the work is done,
// was not needed, or completes by itself (waiting). Unknown statuses are not
// successes.
func (s Status) Success() bool {
	switch s {
	case Rotated, Unchanged, Waiting, Ignored, Planned, Applied, Destroyed, Absent, OK, Issued:
		return true
	}
	return false
}
