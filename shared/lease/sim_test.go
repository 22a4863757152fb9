package lease_test

import (
	"context"
	"math/rand"
	"time"
)

// sim runs goroutines one at a time on a virtual clock: every goroutine
// blocks in sim.block until the scheduler wakes it, and the scheduler wakes,
// among the goroutines whose wake-up time has come, one chosen by the seed.
// So one seed is one interleaving, replayed exactly.
type sim struct {
	rnd   *rand.Rand
	now   time.Time
	queue []*waiter
	yield chan struct{}
	live  int
	steps int
}

type waiter struct {
	at   time.Time
	wake chan struct{}
}

// simEpoch is far in the real future, so contexts with virtual deadlines
// never end on their own while a test runs.
var simEpoch = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

func newSim(seed int64) *sim {
	return &sim{rnd: rand.New(rand.NewSource(seed)), now: simEpoch, yield: make(chan struct{})}
}

// block parks the running goroutine until virtual time at (or later).
func (s *sim) block(at time.Time) { s.park(at, s.yield) }

// park queues the running goroutine for at, tells parked, and waits.
func (s *sim) park(at time.Time, parked chan struct{}) {
	w := &waiter{at: at, wake: make(chan struct{})}
	s.queue = append(s.queue, w)
	parked <- struct{}{}
	<-w.wake
}

// sleep implements lease.Options.Sleep on the virtual clock.
func (s *sim) sleep(ctx context.Context, d time.Duration) bool {
	s.block(s.now.Add(d))
	return ctx.Err() == nil
}

// spawn starts fn as a goroutine of the simulation, first run at at.
func (s *sim) spawn(at time.Time, fn func()) {
	s.live++
	started := make(chan struct{})
	go func() {
		s.park(at, started)
		fn()
		s.live--
		s.yield <- struct{}{}
	}()
	<-started
}

// run schedules until every goroutine has ended or maxSteps wake-ups.
func (s *sim) run(maxSteps int) bool {
	for s.live > 0 {
		if s.steps++; s.steps > maxSteps {
			return false
		}
		earliest := s.queue[0].at
		for _, w := range s.queue[1:] {
			if w.at.Before(earliest) {
				earliest = w.at
			}
		}
		if earliest.After(s.now) {
			s.now = earliest
		}
		var ready []int
		for i, w := range s.queue {
			if !w.at.After(s.now) {
				ready = append(ready, i)
			}
		}
		i := ready[s.rnd.Intn(len(ready))]
		w := s.queue[i]
		s.queue = append(s.queue[:i], s.queue[i+1:]...)
		w.wake <- struct{}{}
		<-s.yield
	}
	return true
}

// delay draws a network delay: mostly short, sometimes long enough to
// outlive a lease.
func (s *sim) delay() time.Duration {
	switch p := s.rnd.Float64(); {
	case p < 0.6:
		return time.Duration(s.rnd.Int63n(int64(50 * time.Millisecond)))
	case p < 0.95:
		return time.Duration(s.rnd.Int63n(int64(2 * time.Second)))
	default:
		return time.Duration(s.rnd.Int63n(int64(40 * time.Second)))
	}
}
