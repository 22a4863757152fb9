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

// RotationJob is one rotation as the product must do it, independent of
// any run: what is in the region and whether the lock is used. Its Rounds
// and Calls are the model the rotation benchmarks take their bounds from.
type RotationJob struct {
	// LoadBalancers and Listeners (per load balancer) of the one region,
	// every listener a target (no SNI extensions).
	LoadBalancers, Listeners int
	// Lock: the cross-instance lease lock is taken (production wiring).
	Lock bool
	// PreviousGeneration: an earlier rotation left a released generation,
	// collected at release (2 deletes).
	PreviousGeneration bool
	// CleanupDeletes is the number of superseded certificates of ours
	// beyond KEEP that cleanup deletes.
	CleanupDeletes int
}

// Rounds is the job's chain of dependent requests (each needs the answer of
// the one before):
//
//	read the pair        2  list the pair's objects, then get both halves (concurrently)
//	lock                 3  list the lock, create the next generation, list to confirm
//	read again (locked)  2  decide under the lock: list, then get both halves
//	plan                 3  certificates || load balancers, then listeners, then extensions
//	upload               2  upload, then list certificates (convergence check)
//	switch, verify       2  switch the targets (concurrently), then one listener listing
//	cleanup              1  delete superseded certificates (concurrently), when any
//	release              2  list the lock, write the release marker
//	collect              2  delete the previous generation and its marker (one after the other)
//
// Without the lock: 9 rounds (+1 with cleanup). The TLS probe is a
// handshake to the listener, not an API call with the injected latency.
func (j RotationJob) Rounds() int {
	r := 2 + 3 + 2 + 2 // read, plan, upload, switch and verify
	if j.CleanupDeletes > 0 {
		r++
	}
	if j.Lock {
		r += lockRounds // lock, read again, release
		if j.PreviousGeneration {
			r += 2
		}
	}
	return r
}

// Calls is the fewest calls per action the job needs (SLB actions by name,
// OSS ones prefixed "oss:"), with the API's page sizes (see
// MinimalSweepCalls) for the one region.
func (j RotationJob) Calls() map[string]int {
	targets := j.LoadBalancers * j.Listeners
	inv := MinimalSweepCalls(1, j.LoadBalancers, j.Listeners)
	c := map[string]int{
		"DescribeServerCertificates":            2, // plan, convergence check
		"DescribeLoadBalancers":                 inv["DescribeLoadBalancers"],
		"DescribeLoadBalancerListeners":         2 * inv["DescribeLoadBalancerListeners"], // plan, verification
		"DescribeDomainExtensions":              inv["DescribeDomainExtensions"],
		"UploadServerCertificate":               1,
		"SetLoadBalancerHTTPSListenerAttribute": targets,
		"oss:ListObjectsV2":                     1,
		"oss:GetObject":                         2,
	}
	if j.CleanupDeletes > 0 {
		c["DeleteServerCertificate"] = j.CleanupDeletes
	}
	if j.Lock {
		c["oss:ListObjectsV2"] += 1 + 2 + 1 // read again; acquire and confirm; release
		c["oss:GetObject"] += 2             // read again
		c["oss:PutObject"] = 2              // the generation, its release marker
		if j.PreviousGeneration {
			c["oss:DeleteObject"] = 2
		}
	}
	return c
}

// Bound is the least time the job can take with latency on every call and
// a per-action token bucket of qps (burst tokens at the start; qps 0 = no
// limit): the dependent rounds x latency, or the busiest action's calls
// beyond the burst / qps, whichever is longer.
func (j RotationJob) Bound(latency time.Duration, qps float64, burst int) time.Duration {
	return max(time.Duration(j.Rounds())*latency, QPSBound(j.Calls(), qps, burst))
}
