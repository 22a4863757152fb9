package notifytest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
)

func TestRecorder(t *testing.T) {
	ctx := context.Background()
	var r Recorder
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Notify(ctx, notify.Message{Title: "t", Lines: []string{"a"}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	broken := errors.New("webhook: HTTP 502")
	r.FailWith(broken)
	if err := r.Notify(ctx, notify.Message{Title: "lost"}); !errors.Is(err, broken) {
		t.Errorf("Notify with FailWith = %v, want %v", err, broken)
	}
	r.FailWith(nil)
	lines := []string{"x"}
	if err := r.Notify(ctx, notify.Message{Title: "last", Lines: lines}); err != nil {
		t.Fatal(err)
	}
	lines[0] = "changed by the caller"
	msgs := r.Messages()
	if r.Len() != 9 || len(msgs) != 9 || msgs[8].Title != "last" || msgs[8].Lines[0] != "x" {
		t.Errorf("recorded %d (%d): %+v; want 8 concurrent messages, none failed, then %q as sent", r.Len(), len(msgs), msgs, "last")
	}
}
