package bench

import (
	"testing"
	"time"
)

func TestRotationBound(t *testing.T) {
	tests := []struct {
		name  string
		job   RotationJob
		qps   float64
		burst int
		want  time.Duration
	}{
		// (50 - 20) / 20 = 1.5 s + 7 rounds x 20 ms.
		{"50 listeners at 20 QPS", RotationJob{5, 10, 16}, 20, 20, 1640 * time.Millisecond},
		// (200 - 20) / 20 = 9 s + 7 rounds.
		{"200 listeners at 20 QPS", RotationJob{20, 10, 16}, 20, 20, 9140 * time.Millisecond},
		// No limit: 50 calls in rounds of 16 = 4 rounds, 3 beyond the first.
		{"50 listeners, no limit", RotationJob{5, 10, 16}, 0, 0, 200 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RotationBound(tc.job, tc.qps, tc.burst, 20*time.Millisecond); got != tc.want {
				t.Errorf("RotationBound = %v, want %v", got, tc.want)
			}
		})
	}
	if c := (RotationJob{20, 10, 16}).Calls()["DescribeLoadBalancerListeners"]; c != 4 {
		t.Errorf("listener listings for 20 load balancers = %d, want 4 (2 for discovery, 2 for verification)", c)
	}
}
