package pause

import (
	"context"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	live := context.Background()
	done, cancel := context.WithCancel(context.Background())
	cancel()

	start := time.Now()
	if !For(live, 20*time.Millisecond) {
		t.Fatal("For on a live context did not report the delay elapsed")
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Fatalf("For returned after %v, before the 20ms delay", waited)
	}

	start = time.Now()
	if For(done, time.Hour) {
		t.Fatal("For on a done context reported the delay elapsed")
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("For on a done context waited %v", waited)
	}

	for _, d := range []time.Duration{0, -time.Second} {
		if !For(live, d) {
			t.Errorf("For(live, %v) = false, want true", d)
		}
		// Deterministic: a done context is never reported as a full delay.
		for range 100 {
			if For(done, d) {
				t.Fatalf("For(done, %v) = true, want false", d)
			}
		}
	}
}

func TestForEndsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if For(ctx, time.Hour) {
		t.Fatal("For reported an hour elapsed")
	}
	if waited := time.Since(start); waited < 15*time.Millisecond || waited > 5*time.Second {
		t.Fatalf("For returned after %v, want about the 20ms of the context", waited)
	}
}
