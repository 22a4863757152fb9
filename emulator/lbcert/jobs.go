package lbcert

import (
	"fmt"
	"sort"
	"time"
)

// Job statuses.
const (
	JobProcessing = "Processing"
	JobSucceeded  = "Succeeded"
	JobFailed     = "Failed"
)

// Listener statuses.
const (
	Running     = "Running"
	Configuring = "Configuring"
	Stopped     = "Stopped"
)

// Association states of an additional certificate.
const (
	Associating  = "Associating"
	Associated   = "Associated"
	Dissociating = "Dissociating"
)

// Job is one asynchronous operation.
type Job struct {
	ID           string    `json:"id"`
	API          string    `json:"api_name"`
	OperateType  string    `json:"operate_type"`
	ResourceType string    `json:"resource_type"`
	ResourceID   string    `json:"resource_id"`
	Status       string    `json:"status"`
	ErrorCode    string    `json:"error_code,omitempty"`
	ErrorMessage string    `json:"error_message,omitempty"`
	Created      time.Time `json:"created"`
	Modified     time.Time `json:"modified"`
	Due          time.Time `json:"due"`

	fail bool
	done func(ok bool)
}

// JobSpec describes a job to start.
type JobSpec struct {
	API, OperateType, ResourceType, ResourceID string
	// Duration until the job is due.
	Duration time.Duration
	// Fail: the job ends Failed and its change is rolled back.
	Fail bool
}

// Jobs is a table of jobs. Not safe for concurrent use.
type Jobs struct {
	prefix  string
	seq     int
	byID    map[string]*Job
	order   []*Job
	pending []*Job
}

// NewJobs returns an empty table whose ids start with prefix.
func NewJobs(prefix string) *Jobs { return &Jobs{prefix: prefix, byID: map[string]*Job{}} }

// Start records a Processing job; done runs when it is settled, with ok
// false for a failed job.
func (t *Jobs) Start(now time.Time, spec JobSpec, done func(ok bool)) *Job {
	t.seq++
	j := &Job{ID: fmt.Sprintf("%s%08x-%04x-4%03x-a%03x-%012x", t.prefix, now.UnixNano()&0xffffffff, t.seq>>16&0xffff, t.seq&0xfff, t.seq>>12&0xfff, t.seq),
		API: spec.API, OperateType: spec.OperateType, ResourceType: spec.ResourceType, ResourceID: spec.ResourceID,
		Status: JobProcessing, Created: now, Modified: now, Due: now.Add(spec.Duration), fail: spec.Fail, done: done}
	t.byID[j.ID] = j
	t.order = append(t.order, j)
	t.pending = append(t.pending, j)
	return j
}

// Settle completes, in start order, every pending job due at now.
func (t *Jobs) Settle(now time.Time) {
	keep := t.pending[:0]
	for _, j := range t.pending {
		if now.Before(j.Due) {
			keep = append(keep, j)
			continue
		}
		j.Modified = j.Due
		if j.fail {
			j.Status, j.ErrorCode = JobFailed, "Job.Failed"
			j.ErrorMessage = "The asynchronous operation failed; the configuration was rolled back."
		} else {
			j.Status = JobSucceeded
		}
		if j.done != nil {
			j.done(!j.fail)
		}
	}
	clear(t.pending[len(keep):])
	t.pending = keep
}

// Get returns a job by id.
func (t *Jobs) Get(id string) (*Job, bool) {
	j, ok := t.byID[id]
	return j, ok
}

// All returns every job, oldest first (copies).
func (t *Jobs) All() []Job {
	out := make([]Job, 0, len(t.order))
	for _, j := range t.order {
		out = append(out, *j)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.Before(out[b].Created) })
	return out
}

// Expedite makes job id due at now and settles (seeding without waiting).
func (t *Jobs) Expedite(id string, now time.Time) {
	if j, ok := t.byID[id]; ok && now.Before(j.Due) {
		j.Due = now
	}
	t.Settle(now)
}
