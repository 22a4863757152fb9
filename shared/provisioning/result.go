package provisioning

import (
	"errors"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// Statuses of a Result: provisioning's part of the one vocabulary
// (package outcome).
const (
	StatusApplied   = outcome.Applied
	StatusUnchanged = outcome.Unchanged
	StatusPlanned   = outcome.Planned
	StatusDestroyed = outcome.Destroyed
	StatusAbsent    = outcome.Absent
	StatusRejected  = outcome.Rejected
	StatusFailed    = outcome.Failed
)

// Change is one write apply made (or, in a plan, would make).
type Change struct {
	// Op is create, update, delete, replace, upload or start.
	Op string `json:"op"`
	// Resource names what is changed, e.g. "listener 80" or
	// "backend i-8vb...".
	Resource string `json:"resource"`
	Detail   string `json:"detail,omitempty"`
}

// String renders "op resource (detail)".
func (c Change) String() string {
	s := c.Op + " " + c.Resource
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// ListenerState is a listener as it stands after apply.
type ListenerState struct {
	Port          int    `json:"port"`
	Status        string `json:"status"`
	CertificateID string `json:"certificateId"`
}

// CertificateRef is the server certificate used for one pair.
type CertificateRef struct {
	Pair        string `json:"pair"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	// Reused is true when a certificate with the same fingerprint existed.
	Reused bool `json:"reused"`
}

// KeptCertificate is a certificate destroy did not delete, and why.
type KeptCertificate struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Result is the outcome of Apply, Plan or Destroy, and the function's return
// value. It never holds key material.
type Result struct {
	Action         string            `json:"action"`
	Status         outcome.Status    `json:"status"`
	Region         string            `json:"region"`
	Name           string            `json:"name"`
	LoadBalancerID string            `json:"loadBalancerId,omitempty"`
	Address        string            `json:"address,omitempty"`
	Listeners      []ListenerState   `json:"listeners,omitempty"`
	Certificates   []CertificateRef  `json:"certificates,omitempty"`
	Changes        []Change          `json:"changes"`
	RolledBack     []Change          `json:"rolledBack,omitempty"`
	RollbackErrors []string          `json:"rollbackErrors,omitempty"`
	Kept           []KeptCertificate `json:"kept,omitempty"`
	Warnings       []string          `json:"warnings,omitempty"`
	Problems       []string          `json:"problems,omitempty"`
	Error          string            `json:"error,omitempty"`
}

// Rejected builds the result for a payload refused before any call.
func Rejected(action string, err error) Result {
	res := Result{Action: action, Status: StatusRejected, Changes: []Change{}, Error: err.Error()}
	var ve *ValidationError
	if errors.As(err, &ve) {
		res.Problems = ve.Strings()
	}
	return res
}
