// Package notifytest provides the recording notifier of the tests.
package notifytest

import (
	"context"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
)

// Recorder is a notify.Notifier that keeps every message it delivers, in
// order. FailWith makes it behave like a broken webhook. Its zero value is
// ready; it is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	msgs []notify.Message
	err  error
}

var _ notify.Notifier = (*Recorder)(nil)

// Notify records m, or returns the error FailWith set (then m is not
// delivered, so not recorded).
func (r *Recorder) Notify(_ context.Context, m notify.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	m.Lines = append([]string(nil), m.Lines...)
	r.msgs = append(r.msgs, m)
	return nil
}

// FailWith makes every later Notify return err (nil: deliver again).
func (r *Recorder) FailWith(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.err = err
}

// Messages returns the messages delivered so far (a copy).
func (r *Recorder) Messages() []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]notify.Message(nil), r.msgs...)
}

// Len is the number of messages delivered so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}
