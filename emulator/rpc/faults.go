package rpc

import (
	"net/http"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
)

// applyFault consults the injector for rec.Action and, when it asks for a
// fault, answers (or holds, or resets) the request; it reports whether it did.
func (s *Service) applyFault(w http.ResponseWriter, r *http.Request, rec *entry) bool {
	d := s.faults.Decide(rec.Action)
	if d == (faults.Decision{}) {
		return false
	}
	if !faults.Sleep(r.Context(), d.Delay) {
		rec.Status, rec.Fault = 499, "client gone during latency"
		return true
	}
	return s.answerFault(w, r, rec, d, "")
}

// answerFault answers with the fault d asks for (prefixing rec.Fault with
// kind, "lost " for an answer lost after the action applied); it reports
// whether there was one.
func (s *Service) answerFault(w http.ResponseWriter, r *http.Request, rec *entry, d faults.Decision, kind string) bool {
	unavailable := Errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	switch {
	case d.Throttle:
		rec.Fault = kind + "throttle"
		rec.Status, rec.Code = s.WriteError(w, rec.RequestID, Errorf(400, "Throttling", "Request was denied due to request throttling."))
	case d.ServerError && d.Status == 500:
		rec.Fault = kind + "5xx"
		rec.Status, rec.Code = s.WriteError(w, rec.RequestID, Errorf(500, "InternalError", "The request processing has failed due to some unknown error, exception or failure."))
	case d.ServerError:
		rec.Fault = kind + "5xx"
		rec.Status, rec.Code = s.WriteError(w, rec.RequestID, unavailable)
	case d.Timeout:
		rec.Fault = kind + "timeout"
		faults.Hold(r.Context(), 0)
		rec.Status, rec.Code = s.WriteError(w, rec.RequestID, unavailable)
	case d.Reset:
		rec.Fault = kind + "reset"
		if faults.Reset(w, func() { rec.Status = 0; s.logOnce(rec) }) {
			return true
		}
		rec.Status, rec.Code = s.WriteError(w, rec.RequestID, unavailable)
	default:
		return false
	}
	return true
}
