package fcrt

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestClientCall(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("x-fc-invocation-type") != "Sync" {
			http.Error(w, "missing headers", http.StatusBadRequest)
			return
		}
		if r.URL.Path == "/missing" {
			http.Error(w, "no such function", http.StatusNotFound)
			return
		}
		w.Header().Set("x-answer", "yes")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	hdr := map[string]string{"x-fc-invocation-type": "Sync"}
	c := Client{Base: srv.URL}

	out, h, err := c.Call(t.Context(), http.MethodPost, "/fine", []byte(`{}`), hdr)
	if err != nil || string(out) != `{"ok":true}` || h.Get("x-answer") != "yes" {
		t.Fatalf("Call = %q, %v, %v", out, h, err)
	}
	out, _, err = c.Call(t.Context(), http.MethodPost, "/missing", nil, hdr)
	if err == nil || !strings.Contains(err.Error(), "POST /missing: HTTP 404: no such function") || !strings.Contains(string(out), "no such function") {
		t.Errorf("404: %q, %v", out, err)
	}
	srv.Close()
	_, _, err = c.Call(t.Context(), http.MethodGet, "/fine", nil, nil)
	var ue *url.Error
	if !errors.As(err, &ue) || !strings.HasPrefix(err.Error(), "GET /fine: ") {
		t.Errorf("closed server: %v, want a *url.Error named by method and path", err)
	}
}
