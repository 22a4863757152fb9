package acmeca

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
)

// answerChallenge serves a challenge POST the way Let's Encrypt answers
// one: validation is asynchronous, so the answer never says the challenge
// is already valid. Pebble without its random sleep can finish validating
// before it writes the answer; a client reading "valid" there skips polling
// the authorization, and the window in which a run waits for the CA (the
// TXT record published, the answer given) closes before anyone can observe
// it. A "valid" answer becomes "processing" (without "validated"); the
// authorization, which clients poll next, says valid. An answer without
// Retry-After gets "Retry-After: 1" (Pebble sends none, and clients then
// wait their own default of seconds). It returns the answer's status.
func answerChallenge(next http.Handler, w http.ResponseWriter, r *http.Request) int {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if rec.Code == http.StatusOK {
		body = processing(body)
	}
	h := w.Header()
	for k, v := range rec.Header() {
		h[k] = v
	}
	h.Del("Content-Length")
	if h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
	return rec.Code
}

// processing rewrites a challenge object whose status is "valid" to
// "processing"; any other body is returned as it is.
func processing(body []byte) []byte {
	var ch map[string]any
	if json.Unmarshal(body, &ch) != nil || ch["status"] != "valid" {
		return body
	}
	ch["status"] = "processing"
	delete(ch, "validated")
	out, err := json.Marshal(ch)
	if err != nil {
		return body
	}
	return out
}
