package slb

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
)

// applyFault consults the injector for rec.Action and, when it asks for a
// fault, answers (or holds, or resets) the request; it reports whether it did.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, rec *RequestRecord) bool {
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

// applyLostAnswer consults the injector once a write action has taken effect
// and, when it draws a lost answer, answers with that fault instead of the
// result; it reports whether it did.
func (s *Server) applyLostAnswer(w http.ResponseWriter, r *http.Request, rec *RequestRecord) bool {
	if !IsWrite(rec.Action) {
		return false
	}
	return s.answerFault(w, r, rec, s.faults.DecideAfter(rec.Action), "lost ")
}

// IsWrite reports whether action changes state (everything but Describe* and
// List*): the actions whose answer DecideAfter may lose after they applied.
func IsWrite(action string) bool {
	_, known := actions[action]
	return known && !strings.HasPrefix(action, "Describe") && !strings.HasPrefix(action, "List")
}

// answerFault answers with the fault d asks for (prefixing rec.Fault with
// kind); it reports whether there was one.
func (s *Server) answerFault(w http.ResponseWriter, r *http.Request, rec *RequestRecord, d faults.Decision, kind string) bool {
	unavailable := errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	switch {
	case d.Throttle:
		rec.Fault = kind + "throttle"
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(400, "Throttling", "Request was denied due to request throttling."))
	case d.ServerError && d.Status == 500:
		rec.Fault = kind + "5xx"
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(500, "InternalError", "The request processing has failed due to some unknown error, exception or failure."))
	case d.ServerError:
		rec.Fault = kind + "5xx"
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, unavailable)
	case d.Timeout:
		rec.Fault = kind + "timeout"
		faults.Hold(r.Context(), 0)
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, unavailable)
	case d.Reset:
		rec.Fault = kind + "reset"
		if faults.Reset(w) {
			rec.Status = 0
			return true
		}
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, unavailable)
	default:
		return false
	}
	return true
}

func (s *Server) writeError(w http.ResponseWriter, requestID string, e *apiError) (int, string) {
	writeJSON(w, e.Status, obj{
		"RequestId": requestID,
		"HostId":    "slb.aliyuncs.com",
		"Code":      e.Code,
		"Message":   e.Message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + e.Code + "&product=Slb",
	})
	return e.Status, e.Code
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = 500
		body = []byte(`{"Code":"InternalError","Message":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) requestID() string {
	s.logMu.Lock()
	s.reqN++
	n := s.reqN
	s.logMu.Unlock()
	return fmt.Sprintf("5E1A0C47-%04X-4%03X-8000-%012X", (n>>24)&0xffff, (n>>12)&0xfff, n)
}

func (s *Server) record(rec RequestRecord) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(s.log) >= s.opts.MaxRequestLog {
		s.log = append(s.log[:0], s.log[len(s.log)/2:]...)
	}
	s.log = append(s.log, rec)
}

var redactedParams = map[string]bool{"PrivateKey": true, "Signature": true, "SecurityToken": true}

func redact(p map[string]string) map[string]string {
	out := make(map[string]string, len(p))
	for k, v := range p {
		if redactedParams[k] {
			v = "[redacted]"
		}
		out[k] = v
	}
	return out
}
