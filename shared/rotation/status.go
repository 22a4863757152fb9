package rotation

import (
	"fmt"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// ErrNotServed is returned (wrapped) when a rotation leaves a target that
// the API reports on the new certificate while a handshake serves another
// one, or a target in an unknown state (transient: a retry verifies again).
var ErrNotServed = fmt.Errorf("a target does not serve the new certificate: %w", apierr.ErrTransient)

// finalStatus is a switched rotation's status and reason from its targets
// (listed worst first): rotated when every target serves the new
// certificate (unchanged when they all already did), partial when some do
// and others do not, failed when none does and one is left not serving it
// or unknown, rejected when none does and every target is back on (or
// still on) its previous certificate. The reason names the first target
// that does not serve it and its state.
func finalStatus(targets []TargetResult) (Status, string) {
	serving, unchanged, bad := 0, 0, 0
	for _, t := range targets {
		switch t.State {
		case StateServing:
			serving++
			if t.From == t.To {
				unchanged++
			}
		case StateNotServed, StateUnknown:
			bad++
		}
	}
	left := len(targets) - serving
	var why string
	if left > 0 {
		t := targets[0] // worst first
		why = fmt.Sprintf("%d of %d targets do not serve the new certificate; first %s: %s", left, len(targets), describeTarget(t), t.State)
	}
	switch {
	case left == 0 && unchanged == len(targets):
		return StatusUnchanged, alreadyServing(len(targets))
	case left == 0:
		return StatusRotated, ""
	case serving > 0:
		return StatusPartial, why
	case bad > 0:
		return StatusFailed, why
	default:
		return StatusRejected, "no target serves the new certificate: " + why
	}
}

// notServed reports whether a target is left not serving the new
// certificate or in an unknown state.
func notServed(targets []TargetResult) bool {
	for _, t := range targets {
		if t.State == StateNotServed || t.State == StateUnknown {
			return true
		}
	}
	return false
}

// describeTarget names a target: region/lb:port, and the domain of an
// extension.
func describeTarget(t TargetResult) string {
	s := fmt.Sprintf("%s/%s:%d", t.Region, t.LoadBalancerID, t.ListenerPort)
	if t.Domain != "" {
		s += " (" + t.Domain + ")"
	}
	return s
}

// alreadyServing is the reason of a rotation whose every target already
// served the pair's certificate (a second event of the same upload, or a
// sweep that found the fleet current).
func alreadyServing(n int) string {
	if n == 1 {
		return "the one place that serves these domains already serves this certificate"
	}
	return fmt.Sprintf("all %d places that serve these domains already serve this certificate", n)
}
