package oss

import (
	"bytes"
	"maps"
	"net/http"
)

// heldAnswer buffers the answer of a write so that, once the write has taken
// effect, an injected fault can replace it (Options.FaultsAfter). A nil
// *heldAnswer is a request whose answer goes straight to the client.
type heldAnswer struct {
	orig   http.ResponseWriter
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldAnswer) Header() http.Header { return h.header }

func (h *heldAnswer) WriteHeader(status int) {
	if h.status == 0 {
		h.status = status
	}
}

func (h *heldAnswer) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(p)
}

// holdAnswer swaps c.w for a buffer when c is a write and FaultsAfter is set.
func (s *Server) holdAnswer(c *reqCtx) *heldAnswer {
	if s.faultsAfter == nil || !isWrite(c.r.Method) {
		return nil
	}
	h := &heldAnswer{orig: c.w, header: c.w.Header().Clone()}
	c.w = h
	return h
}

// isWrite reports whether a request with this method changes state.
func isWrite(method string) bool {
	return method == http.MethodPut || method == http.MethodPost || method == http.MethodDelete
}

// finish sends the held answer, or, when the write succeeded and FaultsAfter
// draws a fault, answers with that fault instead (the write stays applied).
func (h *heldAnswer) finish(s *Server, c *reqCtx) {
	if h == nil {
		return
	}
	c.w = h.orig
	if h.status < 300 {
		if f := s.faultsAfter(c.action); f.ServerError || f.Timeout || f.Reset {
			s.answerFault(c, Fault{ServerError: f.ServerError, Status: f.Status, Timeout: f.Timeout, Reset: f.Reset})
			return
		}
	}
	maps.Copy(h.orig.Header(), h.header)
	h.orig.WriteHeader(h.status)
	_, _ = h.orig.Write(h.body.Bytes())
}

// SetVersioning turns a bucket's versioning on (enabled or suspended: OSS
// then ignores x-oss-forbid-overwrite and answers writes with a
// x-oss-version-id) or off (never versioned).
func (s *Server) SetVersioning(bucketName string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[bucketName]; ok {
		b.versioned = on
	}
}
