package bench

import "time"

// LBJob is one rotation of one pair onto CLB, ALB and NLB listeners of one
// region, every listener a default-certificate target, as rotate-on-upload
// runs it with LB_PRODUCTS naming the products. Its Bound is the model the
// load balancer benchmarks compare with, computed from the job, never from
// a run's request log.
type LBJob struct {
	// CLB, ALB and NLB are the listeners of each product the pair reaches.
	CLB, ALB, NLB int
	// Concurrency is the rotation's CONCURRENCY (s.yaml: 16), shared by the
	// switches of every product.
	Concurrency int
	// Configuring is how long an ALB or NLB write keeps its listener
	// Configuring (the job's duration).
	Configuring time.Duration
	// Lock: the pair's lease lock is taken (lockRounds).
	Lock bool
	// PreviousGeneration: an earlier rotation of the pair left a released
	// lock generation, collected at release (2 deletes, one after the
	// other).
	PreviousGeneration bool
	// Cleanup: cleanup deletes superseded certificates of ours (one round,
	// the deletes side by side).
	Cleanup bool
}

// Rounds outside the switches, each needing the answer of the one before
// (products and regions run side by side, so a round counts once):
//
//	read the pair      2  list the pair's objects, then get both halves
//	plan               4  load balancers || certificates (SLB, CAS), then
//	                      listeners, then each listener's certificates or
//	                      domain extensions, then the SNI listing || the CAS
//	                      lookup by fingerprint
//	upload             2  upload (SLB || CAS), then list (convergence check)
//	verify             3  read the listener back, then the listener listing,
//	                      then its certificates
//
// plus 1 when cleanup deletes, lockRounds with the lock, and 2 when it
// collects a previous generation.
const lbRoundsOutsideSwitches = 2 + 4 + 2 + 3

// lbSwitchRounds are the rounds of one ALB or NLB switch besides the job's
// Configuring time: read the listener's status, write, read the job that
// reports it finished.
const lbSwitchRounds = 3

// Switches is the least time the switch phase takes: every ALB and NLB
// switch holds one of Concurrency slots for lbSwitchRounds x latency plus
// Configuring, a CLB switch for one round; with c slots the n long
// switches need ceil(n/c) of them one after the other, and all the slot
// time divided by c is also a floor.
func (j LBJob) Switches(latency time.Duration) time.Duration {
	c := max(1, j.Concurrency)
	long := time.Duration(lbSwitchRounds)*latency + j.Configuring
	n := j.ALB + j.NLB
	waves := time.Duration((n+c-1)/c) * long
	total := (time.Duration(n)*long + time.Duration(j.CLB)*latency) / time.Duration(c)
	if n == 0 && j.CLB > 0 {
		waves = time.Duration((j.CLB+c-1)/c) * latency
	}
	return max(waves, total)
}

// Rounds is the job's dependent rounds outside the switch phase.
func (j LBJob) Rounds() int {
	r := lbRoundsOutsideSwitches
	if j.Cleanup {
		r++
	}
	if j.Lock {
		r += lockRounds
		if j.PreviousGeneration {
			r += 2
		}
	}
	return r
}

// Bound is the least time the job can take with latency on every call: its
// dependent rounds x latency plus the switch phase.
func (j LBJob) Bound(latency time.Duration) time.Duration {
	return time.Duration(j.Rounds())*latency + j.Switches(latency)
}
