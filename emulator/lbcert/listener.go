package lbcert

import (
	"slices"
	"time"
)

// Assoc is one additional certificate of a listener.
type Assoc struct {
	ID     string `json:"certificate_id"`
	Status string `json:"status"`
}

// Listener is the certificate state of one ALB or NLB listener.
type Listener struct {
	ID      string  `json:"listener_id"`
	Status  string  `json:"status"`
	Default string  `json:"default_certificate,omitempty"`
	Extra   []Assoc `json:"additional_certificates"`
	// PendingDefault is the default certificate a running job will set.
	PendingDefault string `json:"pending_default_certificate,omitempty"`
	// Job is the id of the job in progress ("" none).
	Job string `json:"job,omitempty"`
}

// Busy reports whether a job is in progress (writes are refused).
func (l *Listener) Busy() bool { return l.Job != "" }

// Has reports whether id is the default or an additional certificate
// (pending ones included).
func (l *Listener) Has(id string) bool {
	return l.Default == id || l.PendingDefault == id || l.extraIndex(id) >= 0
}

func (l *Listener) extraIndex(id string) int {
	return slices.IndexFunc(l.Extra, func(a Assoc) bool { return a.ID == id })
}

// Serving returns the default and the additional certificates a handshake
// may use now: Associating ones are not served yet, Dissociating ones still
// are.
func (l *Listener) Serving() (def string, extra []string) {
	for _, a := range l.Extra {
		if a.Status != Associating {
			extra = append(extra, a.ID)
		}
	}
	return l.Default, extra
}

// begin marks l Configuring under a new job whose end runs finish and then
// returns l to Running.
func (l *Listener) begin(t *Jobs, now time.Time, spec JobSpec, finish func(ok bool)) *Job {
	l.Status = Configuring
	j := t.Start(now, spec, func(ok bool) {
		finish(ok)
		l.Status, l.Job = Running, ""
	})
	l.Job = j.ID
	return j
}

// SetDefault replaces the default certificate when the job succeeds.
func (l *Listener) SetDefault(t *Jobs, now time.Time, spec JobSpec, id string) *Job {
	l.PendingDefault = id
	return l.begin(t, now, spec, func(ok bool) {
		if ok {
			l.Default = id
		}
		l.PendingDefault = ""
	})
}

// Update runs apply when the job succeeds (other attributes).
func (l *Listener) Update(t *Jobs, now time.Time, spec JobSpec, apply func()) *Job {
	return l.begin(t, now, spec, func(ok bool) {
		if ok && apply != nil {
			apply()
		}
	})
}

// Associate adds ids as Associating; they become Associated when the job
// succeeds and disappear when it fails.
func (l *Listener) Associate(t *Jobs, now time.Time, spec JobSpec, ids []string) *Job {
	for _, id := range ids {
		l.Extra = append(l.Extra, Assoc{ID: id, Status: Associating})
	}
	return l.begin(t, now, spec, func(ok bool) {
		for _, id := range ids {
			if i := l.extraIndex(id); i >= 0 {
				if ok {
					l.Extra[i].Status = Associated
				} else {
					l.Extra = slices.Delete(l.Extra, i, i+1)
				}
			}
		}
	})
}

// Dissociate marks ids Dissociating; they disappear when the job succeeds
// and are Associated again when it fails.
func (l *Listener) Dissociate(t *Jobs, now time.Time, spec JobSpec, ids []string) *Job {
	for _, id := range ids {
		if i := l.extraIndex(id); i >= 0 {
			l.Extra[i].Status = Dissociating
		}
	}
	return l.begin(t, now, spec, func(ok bool) {
		for _, id := range ids {
			if i := l.extraIndex(id); i >= 0 {
				if ok {
					l.Extra = slices.Delete(l.Extra, i, i+1)
				} else {
					l.Extra[i].Status = Associated
				}
			}
		}
	})
}

// AssociatedIndex returns the index of an additional certificate that is
// Associated (not in transition), or -1.
func (l *Listener) AssociatedIndex(id string) int {
	i := l.extraIndex(id)
	if i >= 0 && l.Extra[i].Status != Associated {
		return -1
	}
	return i
}

// Copy returns a deep copy.
func (l *Listener) Copy() Listener {
	c := *l
	c.Extra = append([]Assoc{}, l.Extra...)
	return c
}
