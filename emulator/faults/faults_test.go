package faults

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func sequence(seed int64, n int) []Decision {
	inj := New(seed)
	inj.Set(Rule{ThrottleRate: 0.2, ServerErrorRate: 0.2, TimeoutRate: 0.1, ResetRate: 0.1, Latency: time.Millisecond})
	out := make([]Decision, n)
	for k := range out {
		action := "A"
		if k%3 == 0 {
			action = "B"
		}
		out[k] = inj.Decide(action)
	}
	return out
}

func TestDecideReplaysWithSameSeed(t *testing.T) {
	a, b := sequence(42, 500), sequence(42, 500)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed and call sequence gave different decisions")
	}
	c := sequence(43, 500)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical decisions")
	}
}

func TestDecideRates(t *testing.T) {
	tests := []struct {
		name  string
		rule  Rule
		check func(ActionStats) bool
	}{
		{"no faults", Rule{}, func(s ActionStats) bool { return s.Throttled+s.Errors+s.Timeouts+s.Resets == 0 }},
		{"always throttle", Rule{ThrottleRate: 1}, func(s ActionStats) bool { return s.Throttled == s.Calls }},
		{"always 5xx", Rule{ServerErrorRate: 1}, func(s ActionStats) bool { return s.Errors == s.Calls }},
		{"always timeout", Rule{TimeoutRate: 1}, func(s ActionStats) bool { return s.Timeouts == s.Calls }},
		{"always reset", Rule{ResetRate: 1}, func(s ActionStats) bool { return s.Resets == s.Calls }},
		{"half throttle", Rule{ThrottleRate: 0.5}, func(s ActionStats) bool { return s.Throttled > 400 && s.Throttled < 600 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inj := New(1)
			inj.Set(tc.rule)
			statuses := map[int]bool{}
			for range 1000 {
				d := inj.Decide("X")
				if d.ServerError {
					statuses[d.Status] = true
				}
			}
			s := inj.Stats()["X"]
			if s.Calls != 1000 || !tc.check(s) {
				t.Fatalf("stats %+v do not match rule %+v", s, tc.rule)
			}
			if tc.rule.ServerErrorRate == 1 && !(statuses[500] && statuses[503]) {
				t.Fatalf("5xx statuses %v, want both 500 and 503", statuses)
			}
		})
	}
}

func TestActionRuleOverridesDefault(t *testing.T) {
	inj := New(7)
	inj.Set(Rule{ThrottleRate: 1})
	inj.Set(Rule{Action: "Quiet", Latency: 5 * time.Millisecond})
	if d := inj.Decide("Quiet"); d.Faulty() || d.Delay != 5*time.Millisecond {
		t.Fatalf("Quiet: %+v", d)
	}
	if d := inj.Decide("Other"); !d.Throttle {
		t.Fatalf("Other: %+v, want throttle from the default rule", d)
	}
	inj.Clear()
	if d := inj.Decide("Other"); d.Faulty() || d.Delay != 0 {
		t.Fatalf("after Clear: %+v", d)
	}
	if got := inj.Stats()["Other"].Calls; got != 2 {
		t.Fatalf("calls %d, want 2 (Clear keeps stats)", got)
	}
	inj.ResetStats()
	if len(inj.Stats()) != 0 {
		t.Fatal("ResetStats kept counters")
	}
}

func TestQPSBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	inj := New(1)
	inj.SetClock(func() time.Time { return now })
	inj.Set(Rule{Action: "Upload", QPS: 5})
	allowed := 0
	for range 20 {
		if d := inj.Decide("Upload"); !d.Throttle {
			allowed++
		} else if !d.QPSLimited {
			t.Fatal("throttle without QPSLimited")
		}
	}
	if allowed != 5 {
		t.Fatalf("allowed %d in one instant, want burst 5", allowed)
	}
	now = now.Add(400 * time.Millisecond) // 2 tokens
	allowed = 0
	for range 10 {
		if !inj.Decide("Upload").Throttle {
			allowed++
		}
	}
	if allowed != 2 {
		t.Fatalf("allowed %d after 400ms at 5 QPS, want 2", allowed)
	}
	if d := inj.Decide("Describe"); d.Throttle {
		t.Fatal("QPS rule leaked to another action")
	}
	if s := inj.Stats()["Upload"]; s.Throttled != 23 {
		t.Fatalf("throttled %d, want 23", s.Throttled)
	}
}

func TestNilInjector(t *testing.T) {
	var inj *Injector
	if d := inj.Decide("X"); d != (Decision{}) {
		t.Fatalf("nil injector decided %+v", d)
	}
	if len(inj.Stats()) != 0 || inj.Rules() != nil {
		t.Fatal("nil injector has state")
	}
}

func TestConcurrentDecide(t *testing.T) {
	inj := New(3)
	inj.Set(Rule{ThrottleRate: 0.5, QPS: 1000})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				inj.Decide(string(rune('A' + g%2)))
			}
		}()
	}
	wg.Wait()
	s := inj.Stats()
	if s["A"].Calls+s["B"].Calls != 1600 {
		t.Fatalf("calls %+v", s)
	}
}

func TestHoldRespectsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { Hold(ctx, time.Hour); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Hold ignored a cancelled context")
	}
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep on a done context reported a full delay")
	}
	if !Sleep(context.Background(), 0) {
		t.Fatal("zero Sleep not complete")
	}
}

func TestResetClosesConnection(t *testing.T) {
	var before atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !Reset(w, func() { before.Store(true) }) {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		t.Fatalf("got a response (status %d), want a connection error", resp.StatusCode)
	}
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		t.Fatalf("got a timeout, want a reset: %v", err)
	}
	if !before.Load() {
		t.Fatal("the client saw the reset before Reset's before had run (an emulator's log would miss the request)")
	}
}

func TestDecideAfter(t *testing.T) {
	// LostRate leaves Decide's replay for a seed unchanged.
	withLost := func(seed int64) []Decision {
		inj := New(seed)
		inj.Set(Rule{ThrottleRate: 0.2, ServerErrorRate: 0.2, TimeoutRate: 0.1, ResetRate: 0.1, Latency: time.Millisecond, LostRate: 0.5})
		out := make([]Decision, 500)
		for k := range out {
			action := "A"
			if k%3 == 0 {
				action = "B"
			}
			out[k] = inj.Decide(action)
			inj.DecideAfter(action)
		}
		return out
	}
	if !reflect.DeepEqual(withLost(42), sequence(42, 500)) {
		t.Fatal("DecideAfter calls changed Decide's replay")
	}

	after := func(seed int64, rate float64) []Decision {
		inj := New(seed)
		inj.Set(Rule{LostRate: rate})
		out := make([]Decision, 2000)
		for k := range out {
			out[k] = inj.DecideAfter("W")
		}
		if st := inj.Stats()["W"]; st.Calls != 0 {
			t.Fatalf("DecideAfter counted %d calls (Decide counts them)", st.Calls)
		}
		return out
	}
	if !reflect.DeepEqual(after(7, 0.3), after(7, 0.3)) {
		t.Fatal("DecideAfter does not replay with the same seed")
	}
	counts := map[string]int{}
	for _, d := range after(7, 0.3) {
		switch {
		case d.Delay != 0 || d.Throttle:
			t.Fatalf("DecideAfter delayed or throttled: %+v", d)
		case d.ServerError && (d.Status == 500 || d.Status == 503):
			counts["5xx"]++
		case d.Timeout:
			counts["timeout"]++
		case d.Reset:
			counts["reset"]++
		case d.Faulty():
			t.Fatalf("odd decision %+v", d)
		}
	}
	lost := counts["5xx"] + counts["timeout"] + counts["reset"]
	if lost < 500 || lost > 700 || counts["5xx"] < 100 || counts["timeout"] < 100 || counts["reset"] < 100 {
		t.Fatalf("2000 draws at 0.3 lost %d (%v)", lost, counts)
	}
	for _, d := range after(7, 0) {
		if d.Faulty() {
			t.Fatal("LostRate 0 lost an answer")
		}
	}
	var nilInj *Injector
	if nilInj.DecideAfter("W").Faulty() {
		t.Fatal("nil injector lost an answer")
	}
}
