package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// message builds the one notification of an invocation, or reports false
// when there is nothing a person needs to hear about: waiting for the other
// half, an ignored event, an unchanged state or a dry run stay silent.
// A rotation, a rejection, a rollback or a failure is announced; a target
// left not serving the new certificate comes first, in the title and in the
// lines (the result lists its targets worst first).
func message(res rotation.Result, err error) (notify.Message, bool) {
	targets, switched, rolledBack, deleted, errs := res.Counts()
	name := res.Name
	if name == "" {
		name = "(unknown pair)"
	}
	retry := ""
	if err != nil {
		retry = ", Function Compute will retry"
	}
	m := notify.Message{Severity: "info"}
	switch {
	case (res.Status == rotation.StatusFailed || res.Status == rotation.StatusPartial) && len(res.Targets) > 0 && res.Targets[0].State != rotation.StateServing:
		first := res.Targets[0]
		m.Severity = "warning"
		if first.State == rotation.StateNotServed || first.State == rotation.StateUnknown {
			m.Severity = "critical"
		}
		m.Title = fmt.Sprintf("certificate %s: %s: %s is %s, %d of %d targets serve the new certificate%s",
			name, strings.ToUpper(string(res.Status)), where(first), first.State, switched, targets, retry)
		m.Summary = res.Reason
	case err != nil:
		m.Severity = "critical"
		m.Title = fmt.Sprintf("certificate %s: rotation failed, Function Compute will retry", name)
		m.Summary = err.Error()
	case res.Status == rotation.StatusRejected:
		m.Severity = "warning"
		m.Title = fmt.Sprintf("certificate %s: rejected", name)
		m.Summary = res.Reason
	case res.Status == rotation.StatusRotated:
		m.Title = fmt.Sprintf("certificate %s: rotated on %d of %d targets", name, switched, targets)
		if rolledBack > 0 || errs > 0 {
			m.Severity = "warning"
		}
	case rolledBack > 0 || errs > 0:
		m.Severity = "warning"
		m.Title = fmt.Sprintf("certificate %s: %s with %d rolled back and %d errors", name, res.Status, rolledBack, errs)
	default:
		return notify.Message{}, false
	}
	if res.Fingerprint != "" {
		line := "fingerprint " + res.Fingerprint
		if res.NotAfter != nil {
			line += ", expires " + res.NotAfter.UTC().Format(time.DateOnly)
		}
		if m.Summary == "" {
			m.Summary = line
		} else {
			m.Lines = append(m.Lines, line)
		}
	}
	for _, t := range res.Targets {
		switch {
		case t.State == rotation.StateNotServed:
			m.Lines = append(m.Lines, fmt.Sprintf("%s: NOT SERVED: the API reports %s but a handshake serves another certificate, and it could not be rolled back", where(t), t.To))
		case t.State == rotation.StateUnknown:
			m.Lines = append(m.Lines, fmt.Sprintf("%s: UNKNOWN: switching %s -> %s did not complete or could not be verified", where(t), t.From, t.To))
		case t.RolledBack:
			m.Lines = append(m.Lines, where(t)+": rolled back to "+t.From+" (the new certificate was not served)")
		case t.State == rotation.StateNotSwitched:
			m.Lines = append(m.Lines, where(t)+": not switched, still on "+t.From)
		case t.Verified != "":
			m.Lines = append(m.Lines, fmt.Sprintf("%s: %s -> %s (verified: %s)", where(t), t.From, t.To, t.Verified))
		}
	}
	if deleted > 0 {
		m.Lines = append(m.Lines, fmt.Sprintf("%d superseded certificate(s) deleted", deleted))
	}
	m.Lines = append(m.Lines, res.Errors...)
	return m, true
}

// where names a target in a notification.
func where(t rotation.TargetResult) string {
	w := fmt.Sprintf("%s/%s:%d", t.Region, t.LoadBalancerID, t.ListenerPort)
	if t.Domain != "" {
		w += " (SNI " + t.Domain + ")"
	}
	return w
}

// announce sends the invocation's notification. A failed notification never
// fails the rotation: it is added to the result's errors (and so to the log
// line) instead.
func (h *Handler) announce(ctx context.Context, res rotation.Result, err error) rotation.Result {
	if h.Notifier == nil {
		return res
	}
	m, ok := message(res, err)
	if !ok {
		return res
	}
	if nerr := h.Notifier.Notify(ctx, m); nerr != nil {
		res.Errors = append(res.Errors, "notification: "+nerr.Error())
	}
	return res
}
