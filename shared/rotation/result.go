package rotation

import (
	"errors"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// Status is the outcome of one rotation: the shared vocabulary of every
// function (package outcome).
type Status = outcome.Status

// The statuses of a Result.
const (
	StatusRotated   = outcome.Rotated   // every target now serves the new certificate
	StatusUnchanged = outcome.Unchanged // every target already served it (or there was none)
	StatusWaiting   = outcome.Waiting   // the other half is missing or does not match yet
	StatusRejected  = outcome.Rejected  // a permanent problem; see Reason and Errors
	StatusIgnored   = outcome.Ignored   // not an event or object the rotation handles
	StatusPlanned   = outcome.Planned   // a dry run: planned only; Targets is the plan
	StatusPartial   = outcome.Partial   // some targets serve the new certificate, others do not (see Targets' State)
	StatusFailed    = outcome.Failed    // no target serves it, and one is left in a bad or unknown state, or a transient failure
	// StatusDryRun is the former name of StatusPlanned.
	//
	// Deprecated: use StatusPlanned.
	StatusDryRun = StatusPlanned
)

// Verification of a switched target.
const (
	VerifiedAPI          = "api"           // the API reports the new id; no handshake was made
	VerifiedTLS          = "tls"           // a handshake served the new fingerprint
	VerifiedProbeSkipped = "probe-skipped" // the API reports the new id; the address was unreachable
)

// States of a target at the end of a rotation (TargetResult.State), worst
// first.
const (
	// StateNotServed: the API reports the new certificate but a handshake
	// serves another one, and the target could not be rolled back (the
	// rollback failed, or there was no previous certificate).
	StateNotServed = "not-served"
	// StateUnknown: what the target references is not known (the switch's
	// or the verification's answer was lost, or time ran out).
	StateUnknown = "unknown"
	// StateRolledBack: the new certificate was not served; the target is
	// back on its previous certificate (From).
	StateRolledBack = "rolled-back"
	// StateNotSwitched: the switch was refused; the target still
	// references From.
	StateNotSwitched = "not-switched"
	// StatePlanned: a dry run's target, not switched.
	StatePlanned = "planned"
	// StateServing: the target serves the new certificate (Verified says
	// how that was checked).
	StateServing = "serving"
)

// stateRank orders the states worst first (Result.Targets lists the
// targets in this order).
var stateRank = map[string]int{StateNotServed: 5, StateUnknown: 4, StateRolledBack: 3, StateNotSwitched: 2, StatePlanned: 1, StateServing: 0}

// Result is the function's return value and the content of its log line.
type Result struct {
	Status      Status                  `json:"status"`
	Reason      string                  `json:"reason,omitempty"`
	Name        string                  `json:"name,omitempty"`
	Fingerprint string                  `json:"fingerprint,omitempty"`
	SHA256      string                  `json:"sha256,omitempty"`
	NotAfter    *time.Time              `json:"notAfter,omitempty"`
	Domains     []string                `json:"domains,omitempty"`
	Regions     map[string]RegionResult `json:"regions,omitempty"`
	Targets     []TargetResult          `json:"targets"`
	// Skipped are the places left on a certificate that expires after the
	// pair's (never rotate backwards; deploy.yaml's force: true moves them).
	Skipped []SkippedTarget      `json:"skipped,omitempty"`
	Deleted []DeletedCertificate `json:"deleted"`
	// Kept are superseded certificates cleanup found referenced after all
	// (attached since the inventory): kept, not an error.
	Kept   []KeptCertificate `json:"kept,omitempty"`
	Errors []string          `json:"errors"`
}

// RegionResult says which server certificate serves the pair in a region.
type RegionResult struct {
	ServerCertificateID string `json:"serverCertificateId"`
	// Reused is true when a certificate with the same fingerprint existed.
	Reused bool `json:"reused"`
}

// TargetResult is one listener default certificate or domain extension.
type TargetResult struct {
	// Product is "alb" or "nlb" for those products ("" is a CLB target).
	Product        string `json:"product,omitempty"`
	Region         string `json:"region"`
	LoadBalancerID string `json:"loadBalancerId"`
	ListenerPort   int    `json:"listenerPort"`
	Domain         string `json:"domain,omitempty"`
	// From is the certificate id before, To the id after ("" in a dry run
	// when the certificate is still to be uploaded).
	From string `json:"from"`
	To   string `json:"to"`
	// State is where the target stands at the end: serving, not-served,
	// unknown, rolled-back, not-switched or planned (the State* constants).
	State string `json:"state"`
	// Verified is api, tls or probe-skipped for a target in state serving
	// ("" for every other state).
	Verified   string `json:"verified,omitempty"`
	RolledBack bool   `json:"rolledBack"`
	// Source is "explicit" (deploy.yaml) or "discovered".
	Source string `json:"source,omitempty"`
}

// SkippedTarget is a listener default certificate or domain extension the
// rotation left alone because it serves a certificate that expires later
// than the pair's.
type SkippedTarget struct {
	// Product is "alb" or "nlb" for those products ("" is a CLB place).
	Product        string `json:"product,omitempty"`
	Region         string `json:"region"`
	LoadBalancerID string `json:"loadBalancerId"`
	ListenerPort   int    `json:"listenerPort"`
	Domain         string `json:"domain,omitempty"`
	// Serving is the certificate id it serves, ServingNotAfter its expiry.
	Serving         string    `json:"serving"`
	ServingNotAfter time.Time `json:"servingNotAfter"`
	Source          string    `json:"source,omitempty"`
	Reason          string    `json:"reason"`
}

// DeletedCertificate is a superseded certificate that cleanup removed.
type DeletedCertificate struct {
	Region              string `json:"region"`
	ServerCertificateID string `json:"serverCertificateId"`
	Name                string `json:"name"`
}

// KeptInUse is the Reason of a KeptCertificate the API refused to delete
// because a listener or extension references it.
const KeptInUse = "in-use"

// KeptCertificate is a superseded certificate cleanup meant to delete and
// kept because the API reported it still referenced.
type KeptCertificate struct {
	Region              string `json:"region"`
	ServerCertificateID string `json:"serverCertificateId"`
	Name                string `json:"name"`
	Reason              string `json:"reason"`
}

// NewResult is an empty result with status, its lists non-nil (so that
// they encode as [] rather than null).
func NewResult(status Status) Result {
	return Result{Status: status, Targets: []TargetResult{}, Deleted: []DeletedCertificate{}, Errors: []string{}}
}

// Ended is the result of a request that ended early with status and
// reason (a rejection's reason is also its error).
func Ended(status Status, reason string) Result {
	return NewResult(status).end(status, reason)
}

// end returns r ended early with status and reason; a rejection's reason is
// also added to its errors.
func (r Result) end(status Status, reason string) Result {
	r.Status, r.Reason = status, reason
	if status == StatusRejected {
		r.Errors = append(r.Errors, reason)
	}
	return r
}

// Counts summarises a result for the log line.
func (r Result) Counts() (targets, switched, rolledBack, deleted, errs int) {
	for _, t := range r.Targets {
		if t.From != t.To && t.State == StateServing {
			switched++
		}
		if t.RolledBack {
			rolledBack++
		}
	}
	return len(r.Targets), switched, rolledBack, len(r.Deleted), len(r.Errors)
}

// ErrUnknownTarget is reported (wrapped) for an explicit target that does not
// exist.
var ErrUnknownTarget = errors.New("target does not exist")
