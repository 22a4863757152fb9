package bench

import (
	"math"
	"time"
)

// PipelineJob is one rotation of one pair onto every HTTPS listener of LBs
// load balancers with Listeners listeners each, in one region, all listener
// default targets (no domain extensions), as rotate-on-upload runs it.
type PipelineJob struct {
	LBs, Listeners int
	// Concurrency is the rotation's CONCURRENCY (s.yaml: 16).
	Concurrency int
	// Lock: the pair's lease lock is taken as rotate-on-upload takes it
	// (RotationJob.Rounds: 3 rounds to acquire, 2 to read the pair again
	// under it, 2 to release).
	Lock bool
}

// lockRounds are the dependent rounds the lease lock adds (see Lock).
const lockRounds = 3 + 2 + 2

// Targets is the number of listeners the job switches.
func (j PipelineJob) Targets() int { return j.LBs * j.Listeners }

// Calls is the job's API calls per action, from the rotation's design (the
// counts TestRotateCallCounts pins), first rotation of a fresh cloud (the
// replaced certificate is the user's: no cleanup delete).
func (j PipelineJob) Calls() map[string]int {
	n, chunks := j.Targets(), (j.LBs+verifyIDsPerCall-1)/verifyIDsPerCall
	c := map[string]int{
		"ListObjects":                           1,
		"GetObject":                             2,
		"DescribeServerCertificates":            2, // plan, after the upload
		"DescribeLoadBalancers":                 1,
		"DescribeLoadBalancerListeners":         2 * chunks, // discovery, verification
		"DescribeDomainExtensions":              n,          // discovery
		"UploadServerCertificate":               1,
		"SetLoadBalancerHTTPSListenerAttribute": n,
	}
	if j.Lock {
		c["ListObjects"] += 1 + 2 + 1 // read again; acquire and confirm; release
		c["GetObject"] += 2           // read again
		c["PutObject"] = 2            // the generation, its release marker
	}
	return c
}

// verifyIDsPerCall is how many load balancers one listener listing names.
const verifyIDsPerCall = 10

// RoundsOutsideWaves is the job's dependent round trips outside the
// per-listener waves: list objects -> get both halves -> list certificates
// || load balancers -> list listeners -> upload -> list certificates
// (convergence) -> [switch wave] -> verification listing. The handshakes
// add no injected latency.
const RoundsOutsideWaves = 7

// PipelineBound is the least time the job can take with latency on every
// call and, when qps > 0, a token bucket of qps with burst tokens per
// action: the slowest action's wave, (its calls - burst) / qps (or, without
// a limit, its calls in rounds of concurrency), plus the dependent rounds
// outside the waves. It is computed from the job, never from a run's log.
func PipelineBound(j PipelineJob, qps float64, burst int, latency time.Duration) time.Duration {
	wave := 0.0
	c := max(1, j.Concurrency)
	for _, n := range j.Calls() {
		rounds := math.Ceil(float64(n)/float64(c)) - 1 // the first is among RoundsOutsideWaves' neighbours
		w := rounds * latency.Seconds()
		if qps > 0 {
			w = math.Max(w, float64(n-burst)/qps)
		}
		wave = math.Max(wave, w)
	}
	rounds := RoundsOutsideWaves
	if j.Lock {
		rounds += lockRounds
	}
	return time.Duration(wave*float64(time.Second)) + time.Duration(rounds)*latency
}
