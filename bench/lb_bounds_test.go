package bench

import (
	"testing"
	"time"
)

func TestLBJobBound(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name string
		job  LBJob
		want time.Duration
	}{
		// 18 rounds (11 + 7 for the lock) + one switch (3 rounds + 2 s).
		{"one ALB listener, lock", LBJob{ALB: 1, Concurrency: 16, Configuring: 2 * time.Second, Lock: true}, 21*20*ms + 2*time.Second},
		{"one ALB listener, lock, previous generation", LBJob{ALB: 1, Concurrency: 16, Configuring: 2 * time.Second, Lock: true, PreviousGeneration: true}, 23*20*ms + 2*time.Second},
		{"previous generation without the lock is nothing", LBJob{ALB: 1, Concurrency: 16, Configuring: 2 * time.Second, PreviousGeneration: true}, 14*20*ms + 2*time.Second},
		{"one ALB listener, lock, previous generation, cleanup", LBJob{ALB: 1, Concurrency: 16, Configuring: 2 * time.Second, Lock: true, PreviousGeneration: true, Cleanup: true}, 24*20*ms + 2*time.Second},
		{"one ALB listener, no lock", LBJob{ALB: 1, Concurrency: 16, Configuring: 2 * time.Second}, 14*20*ms + 2*time.Second},
		// 30 ALB/NLB switches in 16 slots: two waves of 2.06 s.
		{"50 mixed", LBJob{CLB: 20, ALB: 15, NLB: 15, Concurrency: 16, Configuring: 2 * time.Second, Lock: true}, 18*20*ms + 2*(60*ms+2*time.Second)},
		// 16 switches fit one wave.
		{"one wave", LBJob{ALB: 8, NLB: 8, Concurrency: 16, Configuring: time.Second}, 11*20*ms + 60*ms + time.Second},
		// CLB only: 40 one-round switches in 16 slots, 3 waves.
		{"CLB only", LBJob{CLB: 40, Concurrency: 16}, 11*20*ms + 3*20*ms},
		// Slot time dominates: 3 long switches in 2 slots with many CLB
		// ones: (3 x 1.06 s + 200 x 20 ms) / 2 = 3.59 s > 2 waves.
		{"slot time", LBJob{CLB: 200, ALB: 3, Concurrency: 2, Configuring: time.Second}, 11*20*ms + (3*(60*ms+time.Second)+200*20*ms)/2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.job.Bound(20 * ms); got != tc.want {
				t.Fatalf("Bound = %v, want %v", got, tc.want)
			}
		})
	}
}
