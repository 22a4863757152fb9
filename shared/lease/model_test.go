package lease_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
)

// modelOSS is OSS as the lock meets it, under the simulation: every call is
// delayed on the way in and on the way out, and may lose its answer before
// it is applied, after it is applied, or be applied after the client has
// already been told it failed (a request that outlives the client's
// timeout). Unversioned: PutObject with forbid-overwrite is atomic.
// Versioned: OSS ignores forbid-overwrite, every put stores a new current
// version, and the adapter (seeing the version id) reports an error.
type modelOSS struct {
	sim       *sim
	objs      map[string]modelObject
	versioned bool
	// noDetect makes a versioned put report created=true (an adapter that
	// ignores the version id): the case the adapter's refusal exists for.
	noDetect bool
	lossRate float64
	calls    int
}

type modelObject struct {
	data     []byte
	modified time.Time
}

var errLost = fmt.Errorf("model oss: answer lost: %w", apierr.ErrTransient)

// call runs op against the bucket with the simulation's delays and faults.
func (m *modelOSS) call(op func() error) error {
	m.calls++
	s := m.sim
	s.block(s.now.Add(s.delay()))
	p := s.rnd.Float64()
	switch {
	case p < m.lossRate/3: // lost before it was applied
		s.block(s.now.Add(s.delay()))
		return errLost
	case p < 2*m.lossRate/3: // applied, then the answer lost
		_ = op()
		s.block(s.now.Add(s.delay()))
		return errLost
	case p < m.lossRate: // the client gave up; the request lands later
		s.spawn(s.now.Add(s.delay()+s.delay()), func() { _ = op() })
		return errLost
	}
	err := op()
	s.block(s.now.Add(s.delay()))
	return err
}

func (m *modelOSS) PutIfAbsent(_ context.Context, _, key string, data []byte, _ string) (bool, error) {
	created := false
	err := m.call(func() error {
		if _, ok := m.objs[key]; ok && !m.versioned {
			created = false
			return nil
		}
		m.objs[key] = modelObject{append([]byte(nil), data...), m.sim.now}
		created = true
		if m.versioned && !m.noDetect {
			return fmt.Errorf("model oss: put %s: versioned bucket ignores forbid-overwrite: %w", key, apierr.ErrInvalid)
		}
		return nil
	})
	return created && err == nil, err
}

func (m *modelOSS) Get(_ context.Context, _, key string, maxSize int64) ([]byte, error) {
	var out []byte
	err := m.call(func() error {
		o, ok := m.objs[key]
		if !ok {
			return fmt.Errorf("model oss: get %s: %w", key, apierr.ErrNotFound)
		}
		if int64(len(o.data)) > maxSize {
			return fmt.Errorf("model oss: get %s: over %d bytes: %w", key, maxSize, apierr.ErrInvalid)
		}
		out = append([]byte(nil), o.data...)
		return nil
	})
	return out, err
}

func (m *modelOSS) List(_ context.Context, _, prefix string) ([]lease.Object, error) {
	var out []lease.Object
	err := m.call(func() error {
		out = out[:0]
		for _, k := range slices.Sorted(maps.Keys(m.objs)) {
			if strings.HasPrefix(k, prefix) {
				out = append(out, lease.Object{Key: k, LastModified: m.objs[k].modified})
			}
		}
		return nil
	})
	return out, err
}

func (m *modelOSS) Delete(_ context.Context, _, key string) error {
	return m.call(func() error { delete(m.objs, key); return nil })
}

// interval is one holding, in true (simulated) time.
type interval struct {
	who        string
	start, end time.Time
}

// doubleHolders returns a description of the first overlap of two
// holdings, or "".
func doubleHolders(iv []interval) string {
	sort.Slice(iv, func(i, j int) bool { return iv[i].start.Before(iv[j].start) })
	for i := range iv {
		for j := i + 1; j < len(iv) && iv[j].start.Before(iv[i].end); j++ {
			if iv[j].start.Before(iv[j].end) {
				return fmt.Sprintf("%s holds [%s, %s) and %s holds [%s, %s)", iv[i].who, iv[i].start.Sub(simEpoch),
					iv[i].end.Sub(simEpoch), iv[j].who, iv[j].start.Sub(simEpoch), iv[j].end.Sub(simEpoch))
			}
		}
	}
	return ""
}
