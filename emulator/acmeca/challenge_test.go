package acmeca

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestChallengeAnswerNeverValid: the answer to a challenge POST says
// "processing" where Pebble already says "valid" (clients then poll the
// authorization, as with Let's Encrypt), carries Retry-After, and leaves
// every other answer as Pebble wrote it.
func TestChallengeAnswerNeverValid(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		body       string
		retryAfter string
		wantStatus string
		wantRetry  string
	}{
		{name: "valid becomes processing", code: 200, body: `{"type":"dns-01","status":"valid","validated":"2026-12-07T00:00:00Z","token":"t"}`, wantStatus: "processing", wantRetry: "1"},
		{name: "processing kept", code: 200, body: `{"type":"dns-01","status":"processing","token":"t"}`, wantStatus: "processing", wantRetry: "1"},
		{name: "pending kept", code: 200, body: `{"type":"dns-01","status":"pending","token":"t"}`, wantStatus: "pending", wantRetry: "1"},
		{name: "invalid kept", code: 200, body: `{"type":"dns-01","status":"invalid","token":"t"}`, wantStatus: "invalid", wantRetry: "1"},
		{name: "server's Retry-After kept", code: 200, body: `{"status":"processing"}`, retryAfter: "3", wantStatus: "processing", wantRetry: "3"},
		{name: "problem untouched", code: 400, body: `{"type":"urn:ietf:params:acme:error:malformed","status":400}`, wantRetry: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pebble := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Link", `<https://ca/authz/1>;rel="up"`)
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				w.WriteHeader(tt.code)
				w.Write([]byte(tt.body))
			})
			w := httptest.NewRecorder()
			if got := answerChallenge(pebble, w, httptest.NewRequest(http.MethodPost, "/chalZ/abc", nil)); got != tt.code || w.Code != tt.code {
				t.Fatalf("status %d (returned %d), want %d", w.Code, got, tt.code)
			}
			if w.Header().Get("Link") == "" || w.Header().Get("Retry-After") != tt.wantRetry {
				t.Errorf("headers %v", w.Header())
			}
			var ch map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &ch); err != nil {
				t.Fatal(err)
			}
			if tt.code != 200 {
				if w.Body.String() != tt.body {
					t.Errorf("problem rewritten: %s", w.Body.String())
				}
				return
			}
			if ch["status"] != tt.wantStatus || (tt.wantStatus == "processing" && ch["validated"] != nil) || ch["token"] != nil && ch["token"] != "t" {
				t.Errorf("answer %s", w.Body.String())
			}
		})
	}
}
