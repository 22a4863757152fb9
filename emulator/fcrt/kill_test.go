package fcrt

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
)

// waitRunning polls Instances until an instance runs request id.
func waitRunning(t *testing.T, rt *Runtime, fn, id string) InstanceInfo {
	t.Helper()
	for range 500 {
		insts, err := rt.Instances(fn)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range insts {
			if slices.Contains(in.RequestIDs, id) {
				return in
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no instance of %s runs %s", fn, id)
	return InstanceInfo{}
}

// TestKillInstanceAsyncRetried: an instance killed in the middle of an
// asynchronous invocation ends that attempt (ProcessExited); FC's retry
// runs on a new instance and succeeds.
func TestKillInstanceAsyncRetried(t *testing.T) {
	rt := newRuntime(t, Options{})
	if err := rt.Deploy(FunctionSpec{Name: "victim", Binary: echoBinary(t), Timeout: 10 * time.Second, AsyncRetries: 2}); err != nil {
		t.Fatal(err)
	}
	id, err := rt.InvokeAsync("victim", []byte(`{"op":"sleep","ms":300}`))
	if err != nil {
		t.Fatal(err)
	}
	victim := waitRunning(t, rt, "victim", id)
	if victim.PID == 0 || victim.ID == "" {
		t.Fatalf("instance info %+v", victim)
	}
	if err := rt.KillInstance("victim", victim.ID); err != nil {
		t.Fatal(err)
	}
	if !fcrttest.ProcessGone(victim.PID) {
		t.Fatalf("process %d still runs after KillInstance returned", victim.PID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := rt.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	recs := rt.AsyncResults()
	if len(recs) != 1 {
		t.Fatalf("%d async records", len(recs))
	}
	r := recs[0]
	if r.Status != "succeeded" || r.Attempts != 2 {
		t.Errorf("record %+v: want succeeded after 2 attempts", r)
	}
	if r.InstanceID == victim.ID || r.InstanceID == "" {
		t.Errorf("the retry ran on instance %q; want a new one (killed %s)", r.InstanceID, victim.ID)
	}
	insts, _ := rt.Instances("victim")
	for _, in := range insts {
		if in.ID == victim.ID {
			t.Errorf("killed instance %s still listed", victim.ID)
		}
	}
}

// TestKillInstanceSyncAndErrors: a killed synchronous invocation answers
// ProcessExited (never retried); unknown ids and functions are errors; an
// idle instance can be killed and the next call starts another.
func TestKillInstanceSyncAndErrors(t *testing.T) {
	rt := newRuntime(t, Options{})
	if err := rt.Deploy(FunctionSpec{Name: "echo", Binary: echoBinary(t), Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	if err := rt.KillInstance("echo", "nope"); !errors.Is(err, ErrNoSuchInstance) {
		t.Errorf("unknown instance: %v", err)
	}
	if err := rt.KillInstance("nothing", "nope"); !errors.Is(err, ErrNoSuchFunction) {
		t.Errorf("unknown function: %v", err)
	}
	if _, err := rt.Instances("nothing"); !errors.Is(err, ErrNoSuchFunction) {
		t.Errorf("Instances of unknown function: %v", err)
	}

	type out struct {
		res     []byte
		errType string
		err     error
	}
	done := make(chan out, 1)
	go func() {
		res, errType, err := rt.Invoke(context.Background(), "echo", []byte(`{"op":"sleep","ms":5000}`))
		done <- out{res, errType, err}
	}()
	var victim InstanceInfo
	for range 500 {
		insts, _ := rt.Instances("echo")
		if len(insts) == 1 && len(insts[0].RequestIDs) == 1 {
			victim = insts[0]
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if victim.ID == "" {
		t.Fatal("the synchronous invocation never reached an instance")
	}
	start := time.Now()
	if err := rt.KillInstance("echo", victim.ID); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if o.err != nil || o.errType != ErrTypeUnhandled || !strings.Contains(string(o.res), "ProcessExited") {
		t.Errorf("killed sync invocation: %q %v %s", o.errType, o.err, o.res)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("the caller waited %s: the kill did not end the invocation", time.Since(start))
	}
	if err := rt.KillInstance("echo", victim.ID); !errors.Is(err, ErrNoSuchInstance) {
		t.Errorf("second kill of %s: %v", victim.ID, err)
	}

	// An idle instance.
	idle := invokeEcho(t, rt, "echo", `{}`)
	insts, _ := rt.Instances("echo")
	if len(insts) != 1 || insts[0].PID != idle.PID || len(insts[0].RequestIDs) != 0 {
		t.Fatalf("instances %+v; want the idle one (pid %d)", insts, idle.PID)
	}
	if err := rt.KillInstance("echo", insts[0].ID); err != nil {
		t.Fatal(err)
	}
	if got := invokeEcho(t, rt, "echo", `{}`); got.PID == idle.PID {
		t.Error("the killed idle instance ran the next invocation")
	}
}
