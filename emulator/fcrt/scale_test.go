package fcrt

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
)

// invokeConcurrently runs n synchronous invocations of payload at once.
func invokeConcurrently(t *testing.T, rt *Runtime, name, payload string, n int) []echoOut {
	t.Helper()
	outs := make([]echoOut, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, errType, err := rt.Invoke(context.Background(), name, []byte(payload))
			if err != nil || errType != "" {
				errs[i] = fmt.Errorf("invoke %d: %s %v %s", i, errType, err, res)
				return
			}
			errs[i] = json.Unmarshal(res, &outs[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return outs
}

func instanceIDs(outs []echoOut) map[string]bool {
	ids := map[string]bool{}
	for _, o := range outs {
		ids[o.InstanceID] = true
	}
	return ids
}

func TestScaleOut(t *testing.T) {
	tests := []struct {
		name          string
		maxInstances  int
		concurrent    int
		wantInstances int
	}{
		{"two at once on two instances", 0, 2, 2},
		{"bounded by MaxInstances", 2, 5, 2},
		{"one instance serialises", 1, 3, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newRuntime(t, Options{})
			if err := rt.Deploy(FunctionSpec{Name: "slow", Binary: echoBinary(t), Timeout: 10 * time.Second, MaxInstances: tt.maxInstances}); err != nil {
				t.Fatal(err)
			}
			outs := invokeConcurrently(t, rt, "slow", `{"op":"sleep","ms":400}`, tt.concurrent)
			ids := instanceIDs(outs)
			if ids[""] {
				t.Fatalf("an invocation without FC_INSTANCE_ID: %+v", outs)
			}
			if len(ids) != tt.wantInstances {
				t.Fatalf("%d distinct instances %v; want %d", len(ids), ids, tt.wantInstances)
			}
			pids := map[int]bool{}
			for _, o := range outs {
				pids[o.PID] = true
			}
			if len(pids) != tt.wantInstances {
				t.Errorf("%d distinct processes; want %d", len(pids), tt.wantInstances)
			}
			d := rt.Dump()
			if len(d.Functions) != 1 || d.Functions[0].Instances != tt.wantInstances || len(d.Functions[0].PIDs) != tt.wantInstances || d.Functions[0].Invocations != tt.concurrent {
				t.Errorf("dump %+v", d.Functions)
			}
			// Idle instances stay warm: the next call reuses one of them.
			if next := invokeEcho(t, rt, "slow", `{}`); !ids[next.InstanceID] {
				t.Errorf("a new instance %s started while %v were idle", next.InstanceID, ids)
			}
		})
	}
}

func TestAsyncInvocationsRunConcurrently(t *testing.T) {
	rt := newRuntime(t, Options{})
	if err := rt.Deploy(FunctionSpec{Name: "slow", Binary: echoBinary(t), Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := rt.InvokeAsync("slow", []byte(`{"op":"sleep","ms":400}`)); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range rt.AsyncResults() {
		if r.Status != "succeeded" || r.InstanceID == "" {
			t.Fatalf("record %+v", r)
		}
		var out echoOut
		if err := json.Unmarshal(r.Result, &out); err != nil || out.InstanceID != r.InstanceID {
			t.Fatalf("record instance %s, function saw %s (%v)", r.InstanceID, out.InstanceID, err)
		}
		ids[r.InstanceID] = true
	}
	if len(ids) != 3 {
		t.Fatalf("%d instances for 3 concurrent async invocations; want 3", len(ids))
	}
}

func TestCloseKillsAllInstances(t *testing.T) {
	rt := New(Options{Credentials: testCreds})
	if err := rt.Deploy(FunctionSpec{Name: "slow", Binary: echoBinary(t), Timeout: 10 * time.Second, MaxInstances: 3}); err != nil {
		t.Fatal(err)
	}
	outs := invokeConcurrently(t, rt, "slow", `{"op":"sleep","ms":300}`, 3)
	pids := rt.Dump().Functions[0].PIDs
	if len(pids) != 3 {
		t.Fatalf("pids %v; want 3 running instances", pids)
	}
	for _, o := range outs {
		if !slices.Contains(pids, o.PID) || fcrttest.ProcessGone(o.PID) {
			t.Fatalf("instance %d not running before Close (%v)", o.PID, pids)
		}
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range pids {
		waitGone(t, pid)
	}
}
