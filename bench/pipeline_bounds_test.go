package bench

import (
	"testing"
	"time"
)

func TestPipelineBound(t *testing.T) {
	tests := []struct {
		name  string
		job   PipelineJob
		qps   float64
		burst int
		want  time.Duration
	}{
		// (50 - 20) / 20 = 1.5 s + 7 rounds x 20 ms.
		{"50 listeners at 20 QPS", PipelineJob{LBs: 5, Listeners: 10, Concurrency: 16}, 20, 20, 1640 * time.Millisecond},
		// (200 - 20) / 20 = 9 s + 7 rounds.
		{"200 listeners at 20 QPS", PipelineJob{LBs: 20, Listeners: 10, Concurrency: 16}, 20, 20, 9140 * time.Millisecond},
		// No limit: 50 calls in rounds of 16 = 4 rounds, 3 beyond the first.
		{"50 listeners, no limit", PipelineJob{LBs: 5, Listeners: 10, Concurrency: 16}, 0, 0, 200 * time.Millisecond},
		// With the lock: 7 more dependent rounds (acquire 3, read again 2, release 2).
		{"50 listeners at 20 QPS, locked", PipelineJob{LBs: 5, Listeners: 10, Concurrency: 16, Lock: true}, 20, 20, 1780 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PipelineBound(tc.job, tc.qps, tc.burst, 20*time.Millisecond); got != tc.want {
				t.Errorf("PipelineBound = %v, want %v", got, tc.want)
			}
		})
	}
	if c := (PipelineJob{LBs: 20, Listeners: 10, Concurrency: 16}).Calls()["DescribeLoadBalancerListeners"]; c != 4 {
		t.Errorf("listener listings for 20 load balancers = %d, want 4 (2 for discovery, 2 for verification)", c)
	}
}
