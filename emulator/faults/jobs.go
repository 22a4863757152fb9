package faults

import (
	"math/rand"
	"sort"
	"sync"
)

// JobRule makes asynchronous jobs (ALB and NLB writes) end Failed: the
// write is accepted and returns its JobId, and when the job is due it fails
// and the change is rolled back.
type JobRule struct {
	// Action is the API action whose jobs fail ("" = every action without
	// a rule of its own).
	Action string
	// FailRate is the probability a job of Action fails.
	FailRate float64
	// Next fails the next Next jobs of Action whatever FailRate says.
	Next int
}

// JobFaults decides which jobs fail. Safe for concurrent use; a nil
// *JobFaults fails nothing. Its random draws are its own, so adding job
// rules never changes the decisions of an Injector with the same seed.
type JobFaults struct {
	mu     sync.Mutex
	rnd    *rand.Rand
	rules  map[string]*JobRule
	failed map[string]int
}

// NewJobFaults returns a decider with no rules.
func NewJobFaults(seed int64) *JobFaults {
	return &JobFaults{rnd: rand.New(rand.NewSource(seed)), rules: map[string]*JobRule{}, failed: map[string]int{}}
}

// Set replaces the rule for r.Action.
func (j *JobFaults) Set(r JobRule) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rules[r.Action] = &r
}

// Clear removes every rule (counts are kept).
func (j *JobFaults) Clear() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.rules = map[string]*JobRule{}
}

// Rules returns the current rules sorted by action.
func (j *JobFaults) Rules() []JobRule {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]JobRule, 0, len(j.rules))
	for _, r := range j.rules {
		out = append(out, *r)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Action < out[b].Action })
	return out
}

// Fail decides whether the job an action is starting will fail. One random
// value is drawn per call.
func (j *JobFaults) Fail(action string) bool {
	if j == nil {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	u := j.rnd.Float64()
	r, ok := j.rules[action]
	if !ok {
		r, ok = j.rules[""]
	}
	if !ok {
		return false
	}
	fail := u < r.FailRate
	if r.Next > 0 {
		r.Next--
		fail = true
	}
	if fail {
		j.failed[action]++
	}
	return fail
}

// Failed returns how many jobs each action had fail.
func (j *JobFaults) Failed() map[string]int {
	if j == nil {
		return map[string]int{}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[string]int, len(j.failed))
	for k, v := range j.failed {
		out[k] = v
	}
	return out
}
