package lease_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
)

// modelSeeds is the number of seeded interleavings per design;
// LEASE_MODEL_SEEDS raises it for the long run.
func modelSeeds(t *testing.T, def int) int {
	if v := os.Getenv("LEASE_MODEL_SEEDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("LEASE_MODEL_SEEDS=%q: want a positive count", v)
		}
		return n
	}
	return def
}

const modelSkew = 2 * time.Second

// acquireFunc is one design under test: it takes the lock or fails, and
// returns the holder's deadline (by its own clock) and its release.
type acquireFunc func(ctx context.Context, st lease.Store, owner string, o lease.Options) (deadline time.Time, release func(context.Context) error, err error)

func newDesign(ctx context.Context, st lease.Store, owner string, o lease.Options) (time.Time, func(context.Context) error, error) {
	lk, err := lease.Acquire(ctx, st, "b", "www", owner, o)
	if err != nil {
		return time.Time{}, nil, err
	}
	return lk.Deadline(), lk.Release, nil
}

// modelRun is the result of one seeded interleaving.
type modelRun struct {
	contenders, holdings, calls int
	double                      string
	permanent                   int // Acquire calls that ended with a permanent error
	malformedUntil              time.Time
	early                       bool // a holding began before a malformed top generation's bound
}

// runModel plays one seed: 2 to 5 contenders, each a few invocations with
// their own deadline and clock (offsets within the skew), against modelOSS.
func runModel(t *testing.T, seed int64, design acquireFunc, m *modelOSS, malformed bool) modelRun {
	s := newSim(seed)
	m.sim, m.objs = s, map[string]modelObject{}
	m.lossRate = 0.2
	run := modelRun{contenders: 2 + s.rnd.Intn(4)}
	if malformed {
		junk := []byte("{not a lease")
		if s.rnd.Intn(2) == 0 {
			junk = bytes.Repeat([]byte("x"), lease.MaxSize+1+s.rnd.Intn(100))
		}
		m.objs["locks/www/g00000000000000000005"] = modelObject{junk, s.now}
		run.malformedUntil = s.now.Add(20 * time.Second)
	}
	var holdings []interval
	for i := range run.contenders {
		offset := time.Duration(s.rnd.Int63n(int64(modelSkew))) - modelSkew/2
		clock := func() time.Time { return s.now.Add(offset) }
		opts := lease.Options{Skew: modelSkew, Margin: time.Second, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second,
			MalformedAfter: 20 * time.Second, Now: clock, Sleep: s.sleep,
			Jitter: func(n time.Duration) time.Duration { return time.Duration(s.rnd.Int63n(int64(n))) }}
		attempts := 2 + s.rnd.Intn(3)
		s.spawn(s.now.Add(time.Duration(s.rnd.Int63n(int64(3*time.Second)))), func() {
			for a := range attempts {
				timeout := 2*time.Second + time.Duration(s.rnd.Int63n(int64(30*time.Second)))
				ctx, cancel := context.WithDeadline(context.Background(), clock().Add(timeout))
				deadline, release, err := design(ctx, m, fmt.Sprintf("c%d/a%d", i, a), opts)
				if err != nil {
					if apierr.Permanent(err) && !errors.Is(err, lease.ErrLocked) {
						run.permanent++
					}
					cancel()
					s.block(s.now.Add(s.delay()))
					continue
				}
				start := s.now
				if start.Before(run.malformedUntil.Add(-modelSkew)) {
					run.early = true
				}
				// Work, sometimes past the deadline (a stalled holder).
				s.block(s.now.Add(time.Duration(s.rnd.Int63n(int64(timeout * 13 / 10)))))
				end := deadline.Add(-offset) // true time at which its clock reads the deadline
				if s.now.Before(end) {
					end = s.now
				}
				holdings = append(holdings, interval{fmt.Sprintf("c%d/a%d", i, a), start, end})
				if s.rnd.Intn(10) > 0 { // else: it crashed without releasing
					_ = release(ctx)
				}
				cancel()
			}
		})
	}
	if !s.run(500000) {
		t.Fatalf("seed %d: no end after 500000 steps (livelock)", seed)
	}
	run.holdings, run.calls = len(holdings), m.calls
	run.double = doubleHolders(holdings)
	return run
}

// modelTotals sums the runs of one design.
type modelTotals struct {
	seeds, contenders, holdings, calls, doubles, permanent, malformedSeeds, malformedHeld, early int
	first                                                                                        string
}

func playModel(t *testing.T, seeds int, design acquireFunc, mk func() *modelOSS) modelTotals {
	var tot modelTotals
	for seed := int64(1); seed <= int64(seeds); seed++ {
		malformed := seed%5 == 0
		r := runModel(t, seed, design, mk(), malformed)
		tot.seeds++
		tot.contenders += r.contenders
		tot.holdings += r.holdings
		tot.calls += r.calls
		tot.permanent += r.permanent
		if r.double != "" {
			if tot.doubles == 0 {
				tot.first = fmt.Sprintf("seed %d: %s", seed, r.double)
			}
			tot.doubles++
		}
		if malformed {
			tot.malformedSeeds++
			if r.holdings > 0 {
				tot.malformedHeld++
			}
			if r.early {
				tot.early++
			}
		}
	}
	return tot
}

// TestModelNeverTwoHolders: thousands of seeded interleavings of 2 to 5
// contenders, delays and lost answers (before applied, applied then lost,
// applied after the client gave up) on every call, clocks apart by up to
// the skew, holders that stall past their deadline or crash: the lease
// never has two holders, and a malformed or oversized top generation is
// passed over after its bound. The old design (one lock object, broken by
// an unconditional delete) has double holders under the same model.
func TestModelNeverTwoHolders(t *testing.T) {
	seeds := modelSeeds(t, 2000)
	unversioned := func() *modelOSS { return &modelOSS{} }
	got := playModel(t, seeds, newDesign, unversioned)
	t.Logf("generations: %d interleavings, %d contenders, %d holdings, %d store calls, %d double holders; malformed top: %d seeds, %d with a holder, %d held early",
		got.seeds, got.contenders, got.holdings, got.calls, got.doubles, got.malformedSeeds, got.malformedHeld, got.early)
	if got.doubles != 0 {
		t.Errorf("%d of %d interleavings had two holders; first: %s", got.doubles, got.seeds, got.first)
	}
	if got.holdings < got.seeds {
		t.Errorf("only %d holdings in %d interleavings: the model hardly exercises holding", got.holdings, got.seeds)
	}
	if got.early != 0 || got.malformedHeld < got.malformedSeeds/2 {
		t.Errorf("malformed top generation: %d seeds held before its bound, %d of %d ever held", got.early, got.malformedHeld, got.malformedSeeds)
	}

	old := playModel(t, seeds, legacyDesign, unversioned)
	t.Logf("old design: %d interleavings, %d holdings, %d double holders; first: %s", old.seeds, old.holdings, old.doubles, old.first)
	if old.doubles == 0 {
		t.Error("the old design shows no double holder: the model is not adversarial enough to tell")
	}
}

// TestModelVersionedBucket: OSS ignores forbid-overwrite in a bucket with
// versioning enabled or suspended. The adapter refuses such a put (it sees
// the version id), so nobody ever holds and Acquire ends with a permanent
// error; a store that did not refuse would give two holders.
func TestModelVersionedBucket(t *testing.T) {
	seeds := modelSeeds(t, 600) / 3
	got := playModel(t, seeds, newDesign, func() *modelOSS { return &modelOSS{versioned: true} })
	t.Logf("versioned, refused: %d interleavings, %d holdings, %d permanent errors", got.seeds, got.holdings, got.permanent)
	if got.holdings != 0 || got.permanent == 0 {
		t.Errorf("versioned bucket: %d holdings, %d permanent errors; want none and some", got.holdings, got.permanent)
	}
	blind := playModel(t, seeds, newDesign, func() *modelOSS { return &modelOSS{versioned: true, noDetect: true} })
	t.Logf("versioned, not refused: %d interleavings, %d double holders", blind.seeds, blind.doubles)
	if blind.doubles == 0 {
		t.Error("a versioned bucket without the refusal shows no double holder: the model cannot tell why the refusal exists")
	}
}

// legacyDesign is the lock this package replaced (one object
// locks/<name>.lock; an expired lease is read, then deleted unconditionally,
// then contended for again; a breaker that won checks again after
// BaseDelay), kept here only to show that the model finds its double holders.
func legacyDesign(ctx context.Context, st lease.Store, owner string, o lease.Options) (time.Time, func(context.Context) error, error) {
	const key = "locks/www.lock"
	start := o.Now()
	dl, _ := ctx.Deadline()
	waitUntil := dl.Add(-min(o.Margin, dl.Sub(start)/2))
	body, _ := json.Marshal(lease.Lease{Owner: owner, Expires: dl.Add(o.Skew)})
	mine := func() bool {
		data, err := st.Get(ctx, "b", key, lease.MaxSize)
		var cur lease.Lease
		return err == nil && json.Unmarshal(data, &cur) == nil && cur.Owner == owner
	}
	release := func(ctx context.Context) error {
		if !mine() {
			return lease.ErrLost
		}
		return st.Delete(ctx, "b", key)
	}
	broke := false
	for try := 0; ; try++ {
		created, err := st.PutIfAbsent(ctx, "b", key, body, "")
		if err != nil {
			return time.Time{}, nil, err
		}
		if created && (!broke || (o.Sleep(ctx, o.BaseDelay) && mine())) {
			return dl, release, nil
		}
		if created {
			broke = false
			continue
		}
		data, err := st.Get(ctx, "b", key, lease.MaxSize)
		if errors.Is(err, apierr.ErrNotFound) {
			continue
		} else if err != nil {
			return time.Time{}, nil, err
		}
		var cur lease.Lease
		perr := json.Unmarshal(data, &cur)
		if perr == nil && cur.Owner == owner {
			return dl, release, nil
		}
		if perr != nil || !o.Now().Before(cur.Expires) {
			if err := st.Delete(ctx, "b", key); err != nil {
				return time.Time{}, nil, err
			}
			broke = true
			continue
		}
		if o.Now().Add(o.MaxDelay).After(waitUntil) || !o.Sleep(ctx, o.MaxDelay/2) {
			return time.Time{}, nil, lease.ErrLocked
		}
	}
}
