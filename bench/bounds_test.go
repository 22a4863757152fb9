package bench

import (
	"testing"
	"time"
)

func TestCriticalRounds(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	tests := []struct {
		name   string
		starts []time.Time
		want   int
	}{
		{"none", nil, 0},
		{"one", at(0), 1},
		{"parallel", at(0, 1, 2, 3), 1},
		{"sequential", at(0, 21, 42, 63), 4},
		{"fan-out then join", at(0, 20, 21, 22, 45), 3},
		{"unsorted", at(63, 0, 42, 21), 4},
		{"overlap shorter than latency", at(0, 10, 19), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CriticalRounds(tc.starts, 20*time.Millisecond); got != tc.want {
				t.Errorf("CriticalRounds = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestQPSBound(t *testing.T) {
	tests := []struct {
		name  string
		calls map[string]int
		want  time.Duration
	}{
		{"within burst", map[string]int{"A": 20}, 0},
		{"busiest action wins", map[string]int{"A": 60, "B": 30}, 2 * time.Second},
		{"empty", map[string]int{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := QPSBound(tc.calls, 20, 20); got != tc.want {
				t.Errorf("QPSBound = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMinimalSweepCalls(t *testing.T) {
	tests := []struct {
		name                 string
		regions, lbs, ls     int
		wantTotal, wantPages int
	}{
		// The expiry package's own test: 3 x (1 + 1 + 3 + 50) = 165.
		{"3x25x2", 3, 25, 2, 165, 3},
		// The size: 10 x (1 + 2 + 20 + 1000) = 10230.
		{"10x200x5", 10, 200, 5, 10230, 20},
		{"10x20x5", 10, 20, 5, 10 * (1 + 1 + 2 + 100), 10},
		{"listeners over a page", 1, 10, 15, 1 + 1 + 2 + 150, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := MinimalSweepCalls(tc.regions, tc.lbs, tc.ls)
			if got := Sum(m); got != tc.wantTotal {
				t.Errorf("total = %d (%v), want %d", got, m, tc.wantTotal)
			}
			if m["DescribeLoadBalancers"] != tc.wantPages {
				t.Errorf("DescribeLoadBalancers = %d, want %d", m["DescribeLoadBalancers"], tc.wantPages)
			}
		})
	}
}

func TestRotationJobModel(t *testing.T) {
	tests := []struct {
		name   string
		job    RotationJob
		rounds int
		calls  int
		lock   int // calls the lock adds (the lock's own and the second read of the pair)
	}{
		{"one listener, no lock", RotationJob{LoadBalancers: 1, Listeners: 1}, 9, 11, 0},
		{"one listener, first lock", RotationJob{LoadBalancers: 1, Listeners: 1, Lock: true}, 16, 19, 8},
		{"one listener, steady state", RotationJob{LoadBalancers: 1, Listeners: 1, Lock: true, PreviousGeneration: true, CleanupDeletes: 1}, 19, 22, 10},
		{"50 listeners on 5 LBs, lock", RotationJob{LoadBalancers: 5, Listeners: 10, Lock: true}, 16, 117, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.job.Calls()
			unlocked := tc.job
			unlocked.Lock = false
			lock := Sum(c) - Sum(unlocked.Calls())
			if got := tc.job.Rounds(); got != tc.rounds {
				t.Errorf("rounds %d, want %d", got, tc.rounds)
			}
			if got := Sum(c); got != tc.calls || lock != tc.lock {
				t.Errorf("calls %d (lock %d) %v, want %d (lock %d)", got, lock, c, tc.calls, tc.lock)
			}
		})
	}
	fan := RotationJob{LoadBalancers: 5, Listeners: 10, Lock: true}
	if got := fan.Bound(20*time.Millisecond, 20, 20); got != 1500*time.Millisecond {
		t.Errorf("fan-out bound %v, want (50-20)/20 QPS = 1.5 s", got)
	}
	if got := (RotationJob{LoadBalancers: 1, Listeners: 1, Lock: true}).Bound(20*time.Millisecond, 0, 0); got != 320*time.Millisecond {
		t.Errorf("one-listener bound %v, want 16 x 20 ms", got)
	}
}
