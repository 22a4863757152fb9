package aliyun

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fakeSLB is an httptest SLB RPC endpoint: each action answers through a
// handler function; every request's parameters are recorded.
type fakeSLB struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	calls    []url.Values
	handlers map[string]func(q url.Values, n int) (int, any)
	counts   map[string]int
	delay    map[string]time.Duration // per action, before answering
}

func newFakeSLB(t *testing.T) *fakeSLB {
	f := &fakeSLB{t: t, handlers: map[string]func(url.Values, int) (int, any){}, counts: map[string]int{}, delay: map[string]time.Duration{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSLB) endpoint() string { return f.srv.URL }

func (f *fakeSLB) on(action string, h func(q url.Values, n int) (int, any)) { f.handlers[action] = h }

func (f *fakeSLB) count(action string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[action]
}

func (f *fakeSLB) callsOf(action string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, c := range f.calls {
		if c.Get("Action") == action {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeSLB) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	q := r.Form
	action := q.Get("Action")
	f.mu.Lock()
	f.calls = append(f.calls, q)
	n := f.counts[action]
	f.counts[action] = n + 1
	h := f.handlers[action]
	d := f.delay[action]
	f.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
		}
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if h == nil {
		w.WriteHeader(400)
		_ = json.NewEncoder(w).Encode(map[string]string{"RequestId": "RID-unknown", "Code": "InvalidAction", "Message": "unknown action " + action})
		return
	}
	status, body := h(q, n)
	w.WriteHeader(status)
	switch b := body.(type) {
	case string:
		_, _ = w.Write([]byte(b))
	default:
		_ = json.NewEncoder(w).Encode(b)
	}
}

func apiErr(code, msg string) map[string]string {
	return map[string]string{"RequestId": "RID-" + code, "HostId": "slb.aliyuncs.com", "Code": code, "Message": msg}
}

func ok(fields map[string]any) map[string]any {
	out := map[string]any{"RequestId": "RID-ok"}
	for k, v := range fields {
		out[k] = v
	}
	return out
}
