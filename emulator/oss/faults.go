package oss

import (
	"net/http"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
)

// applyFault carries out an injected fault; it reports whether the request
// should proceed.
func (s *Server) applyFault(c *reqCtx, f Fault) bool {
	if f.Delay > 0 && !s.delay(c, f.Delay) {
		return false
	}
	return s.answerFault(c, f)
}

// delay waits d (or until the server closes); false when the client went
// away first.
func (s *Server) delay(c *reqCtx, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.r.Context().Done():
		c.status = 499
		return false
	case <-s.closing:
	}
	return true
}

// answerFault answers with the fault f asks for; it reports whether the
// request should proceed (no fault).
func (s *Server) answerFault(c *reqCtx, f Fault) bool {
	switch {
	case f.Reset:
		c.status, c.code = 0, "ConnectionReset"
		if faults.Reset(c.w, func() { s.logOnce(c) }) {
			return false
		}
		panic(http.ErrAbortHandler)
	case f.Timeout:
		c.status, c.code = 0, "Timeout"
		select {
		case <-c.r.Context().Done():
		case <-s.closing:
		}
		return false
	case f.Throttle:
		c.fail(http.StatusServiceUnavailable, "ServiceUnavailable", "Please reduce your request rate.")
		return false
	case f.ServerError && f.Status == http.StatusServiceUnavailable:
		c.fail(http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable. Please try again.")
		return false
	case f.ServerError:
		c.fail(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return false
	}
	return true
}
