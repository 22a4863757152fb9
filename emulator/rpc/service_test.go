package rpc

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// signed builds a signed GET query for action with extra parameters.
func signed(a Account, nonce string, extra map[string]string) string {
	p := map[string]string{"Action": "Echo", "Version": "2000-01-01", "AccessKeyId": a.AccessKeyID, "SignatureNonce": nonce,
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z"), "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "Format": "JSON"}
	for k, v := range extra {
		p[k] = v
	}
	p["Signature"] = Sign(a.AccessKeySecret, StringToSign("GET", p))
	q := url.Values{}
	for k, v := range p {
		q.Set(k, v)
	}
	return q.Encode()
}

// TestServeRedactsAndNumbers: secrets never reach the log; request ids
// carry the service's prefix; a bad signature and a reused nonce are refused.
func TestServeRedactsAndNumbers(t *testing.T) {
	s, err := New(Options{Product: "Test", Host: "test.aliyuncs.com", Version: "2000-01-01", RequestIDPrefix: "7E570000"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Serve(w, r, func(string, map[string]string) (map[string]any, *Error) { return map[string]any{"Ok": true}, nil })
	}))
	defer hs.Close()
	a := DefaultAccounts()[0]
	get := func(q string) int {
		resp, err := http.Get(hs.URL + "/?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(signed(a, "n1", map[string]string{"Key": "-----BEGIN PRIVATE KEY-----x", "PrivateKey": "k"})); got != 200 {
		t.Fatalf("signed call: %d", got)
	}
	if got := get(signed(a, "n1", nil)); got != 400 {
		t.Fatalf("reused nonce: %d", got)
	}
	bad := strings.Replace(signed(a, "n2", nil), "Signature=", "Signature=x", 1)
	if got := get(bad); got != 400 {
		t.Fatalf("bad signature: %d", got)
	}
	log := s.Requests()
	if len(log) != 3 || !strings.HasPrefix(log[0].RequestID, "7E570000-") || log[1].Code != "SignatureNonceUsed" || log[2].Code != "SignatureDoesNotMatch" {
		t.Fatalf("log %+v", log)
	}
	for _, k := range []string{"Key", "PrivateKey", "Signature"} {
		if log[0].Params[k] != "[redacted]" {
			t.Fatalf("%s logged as %q", k, log[0].Params[k])
		}
	}
}

// TestLoseAnswers: the next n successful calls of the action take effect
// and then lose their answer (the connection reset); the call after them
// is answered again.
func TestLoseAnswers(t *testing.T) {
	s, err := New(Options{Version: "2000-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Serve(w, r, func(string, map[string]string) (map[string]any, *Error) { applied++; return map[string]any{}, nil })
	}))
	defer hs.Close()
	s.LoseAnswers("Echo", 2)
	a := DefaultAccounts()[0]
	for i, wantLost := range []bool{true, true, false} {
		resp, err := http.Get(hs.URL + "/?" + signed(a, "lose"+string(rune('a'+i)), nil))
		if lost := err != nil; lost != wantLost {
			t.Fatalf("call %d: err %v, want lost %v", i, err, wantLost)
		}
		if err == nil {
			resp.Body.Close()
		}
	}
	log := s.Requests()
	if applied != 3 || len(log) != 3 || log[0].Fault != "answer lost" || log[1].Fault != "answer lost" || log[2].Status != 200 {
		t.Fatalf("applied %d, log %+v", applied, log)
	}
}

// A call whose answer is lost is in the request log by the time the client
// sees the reset.
func TestLostCallLoggedBeforeTheClientSeesIt(t *testing.T) {
	s, err := New(Options{Version: "2000-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Serve(w, r, func(string, map[string]string) (map[string]any, *Error) { return map[string]any{}, nil })
	}))
	defer hs.Close()
	const n = 200
	s.LoseAnswers("Echo", n)
	a := DefaultAccounts()[0]
	for i := range n {
		if resp, err := http.Get(hs.URL + "/?" + signed(a, fmt.Sprintf("logged%d", i), nil)); err == nil {
			resp.Body.Close()
			t.Fatalf("call %d answered although its answer was to be lost", i)
		}
		if got := len(s.Requests()); got != i+1 {
			t.Fatalf("after %d lost answers the log holds %d calls", i+1, got)
		}
	}
}
