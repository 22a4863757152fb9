package slb

import (
	"encoding/json"
	"fmt"
	"net/http"

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
	switch {
	case d.Throttle:
		rec.Fault = "throttle"
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(400, "Throttling", "Request was denied due to request throttling."))
		return true
	case d.ServerError && d.Status == 500:
		rec.Fault = "5xx"
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(500, "InternalError", "The request processing has failed due to some unknown error, exception or failure."))
		return true
	case d.ServerError:
		rec.Fault = "5xx"
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."))
		return true
	case d.Timeout:
		rec.Fault = "timeout"
		faults.Hold(r.Context(), 0)
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."))
		return true
	case d.Reset:
		rec.Fault = "reset"
		if faults.Reset(w) {
			rec.Status = 0
			return true
		}
		rec.Status, rec.Code = s.writeError(w, rec.RequestID, errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."))
		return true
	}
	return false
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
