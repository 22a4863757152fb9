package bench

import (
	"math"
	"sort"
	"time"
)

// CriticalRounds is the length of the longest chain of requests in which
// each one started after the previous one could have completed (its start
// plus latency, the latency every call is given). With a fixed latency on
// every call this is the number of dependent round trips the run actually
// made: the run cannot have taken less than CriticalRounds x latency.
func CriticalRounds(starts []time.Time, latency time.Duration) int {
	if len(starts) == 0 {
		return 0
	}
	ts := append([]time.Time(nil), starts...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	depth := make([]int, len(ts))
	best := 0
	for j := range ts {
		depth[j] = 1
		for i := 0; i < j; i++ {
			if !ts[j].Before(ts[i].Add(latency)) && depth[i]+1 > depth[j] {
				depth[j] = depth[i] + 1
			}
		}
		best = max(best, depth[j])
	}
	return best
}

// QPSBound is the least time the calls can take under a per-action token
// bucket of qps with burst tokens available at the start: the busiest
// action needs (calls - burst) / qps after its burst. calls maps an action
// to its number of successful calls.
func QPSBound(calls map[string]int, qps float64, burst int) time.Duration {
	if qps <= 0 {
		return 0
	}
	worst := 0.0
	for _, n := range calls {
		worst = math.Max(worst, float64(n-burst)/qps)
	}
	return time.Duration(worst * float64(time.Second))
}

// MinimalSweepCalls is the fewest inventory calls per action for regions
// regions of lbs load balancers with listeners HTTPS listeners each, with
// the API's page sizes: DescribeLoadBalancers 100 per page,
// DescribeLoadBalancerListeners 10 load balancers per call and 100
// listeners per page, DescribeServerCertificates one call (no paging),
// DescribeDomainExtensions one call per listener.
func MinimalSweepCalls(regions, lbs, listeners int) map[string]int {
	listenerCalls := 0
	for g := 0; g < lbs; g += 10 {
		listenerCalls += max(1, (min(10, lbs-g)*listeners+99)/100)
	}
	return map[string]int{
		"DescribeServerCertificates":    regions,
		"DescribeLoadBalancers":         regions * max(1, (lbs+99)/100),
		"DescribeLoadBalancerListeners": regions * listenerCalls,
		"DescribeDomainExtensions":      regions * lbs * listeners,
	}
}

// Sum adds up a per-action count.
func Sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
