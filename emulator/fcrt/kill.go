package fcrt

import (
	"errors"
	"fmt"
	"sort"
)

// ErrNoSuchInstance is returned by KillInstance for an instance id that is
// not a live instance of the function.
var ErrNoSuchInstance = errors.New("fcrt: instance not found")

// InstanceInfo describes one live instance of a function.
type InstanceInfo struct {
	// ID is the instance's FC_INSTANCE_ID (AsyncRecord.InstanceID).
	ID string `json:"id"`
	// PID is the process id of the function's process.
	PID int `json:"pid"`
	// RequestIDs are the invocations the instance is running: handed out
	// through /invocation/next and not answered yet (at most one).
	RequestIDs []string `json:"requestIds,omitempty"`
}

// Instances returns the live instances of function, oldest first.
func (rt *Runtime) Instances(function string) ([]InstanceInfo, error) {
	f, err := rt.function(function)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	live := append([]*instance(nil), f.live...)
	f.mu.Unlock()
	out := make([]InstanceInfo, 0, len(live))
	for _, inst := range live {
		if !inst.alive() {
			continue
		}
		info := InstanceInfo{ID: inst.id, PID: inst.cmd.Process.Pid}
		inst.mu.Lock()
		for id := range inst.inflt {
			info.RequestIDs = append(info.RequestIDs, id)
		}
		inst.mu.Unlock()
		sort.Strings(info.RequestIDs)
		out = append(out, info)
	}
	return out, nil
}

// KillInstance kills one instance of function with SIGKILL (its whole
// process group), like FC losing an instance (a crash, an OOM kill, the
// host reclaimed): nothing of the function runs after it, no deferred code,
// no release of what it holds. The invocation it was running ends with
// ProcessExited (an asynchronous one is retried like any failed attempt)
// and the next invocation starts a new instance. KillInstance returns once
// the process is gone.
func (rt *Runtime) KillInstance(function, instanceID string) error {
	f, err := rt.function(function)
	if err != nil {
		return err
	}
	f.mu.Lock()
	var target *instance
	for _, inst := range f.live {
		if inst.id == instanceID {
			target = inst
		}
	}
	f.mu.Unlock()
	if target == nil || !target.alive() {
		return fmt.Errorf("%w: %s of %s", ErrNoSuchInstance, instanceID, function)
	}
	// kill waits for the process; the invocation's goroutine sees the
	// instance dead and replaces it (an idle one is dropped the next time
	// the pool is read).
	target.kill()
	return nil
}
