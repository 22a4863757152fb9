package main

import (
	"context"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// message builds the one notification of an invocation, or reports false
// when there is nothing a person needs to hear about: waiting for the other
// half, an ignored event, an unchanged state or a dry run stay silent.
// A rotation, a rejection, a rollback or a failure is announced.
func message(res rotation.Result, err error) (notify.Message, bool) {
	targets, switched, rolledBack, deleted, errs := res.Counts()
	name := res.Name
	if name == "" {
		name = "(unknown pair)"
	}
	m := notify.Message{Severity: "info"}
	switch {
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
		where := fmt.Sprintf("%s/%s:%d", t.Region, t.LoadBalancerID, t.ListenerPort)
		if t.Domain != "" {
			where += " (SNI " + t.Domain + ")"
		}
		switch {
		case t.RolledBack:
			m.Lines = append(m.Lines, where+": rolled back to "+t.From+" (the new certificate was not served)")
		case t.Verified != "":
			m.Lines = append(m.Lines, fmt.Sprintf("%s: %s -> %s (verified: %s)", where, t.From, t.To, t.Verified))
		}
	}
	if deleted > 0 {
		m.Lines = append(m.Lines, fmt.Sprintf("%d superseded certificate(s) deleted", deleted))
	}
	m.Lines = append(m.Lines, res.Errors...)
	return m, true
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
