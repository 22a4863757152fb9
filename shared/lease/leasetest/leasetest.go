// Package leasetest is an in-memory lease.Store for tests: PutIfAbsent is
// atomic, like OSS PutObject with x-oss-forbid-overwrite on an unversioned
// bucket, and List returns keys in order with their LastModified.
package leasetest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
)

type object struct {
	data     []byte
	modified time.Time
}

// Store is an in-memory lease.Store. The zero value is ready to use.
type Store struct {
	mu    sync.Mutex
	data  map[string]object
	calls map[string]int
	// Err, when set, is returned by every call.
	Err error
	// LoseAnswer, when set, makes the next PutIfAbsent store its object
	// but fail (an answer lost on the way back).
	LoseAnswer bool
	// Now is the clock of LastModified (time.Now when nil).
	Now func() time.Time
}

var _ lease.Store = (*Store)(nil)

func (s *Store) begin(op string) error {
	if s.calls == nil {
		s.calls = map[string]int{}
	}
	if s.data == nil {
		s.data = map[string]object{}
	}
	s.calls[op]++
	return s.Err
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Calls returns how many times op (PutIfAbsent, Get, List, Delete) was called.
func (s *Store) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Set stores an object (overwriting), e.g. a lease of another holder.
func (s *Store) Set(bucket, key string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.begin("Set")
	s.data[bucket+"\x00"+key] = object{append([]byte(nil), data...), s.now()}
}

// Object returns a stored object.
func (s *Store) Object(bucket, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.data[bucket+"\x00"+key]
	return o.data, ok
}

// Keys returns the stored keys (bucket/key), sorted.
func (s *Store) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []string{}
	for k := range s.data {
		out = append(out, strings.Replace(k, "\x00", "/", 1))
	}
	sort.Strings(out)
	return out
}

// PutIfAbsent implements lease.Store.
func (s *Store) PutIfAbsent(_ context.Context, bucket, key string, data []byte, _ string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("PutIfAbsent"); err != nil {
		return false, err
	}
	k := bucket + "\x00" + key
	if _, ok := s.data[k]; ok {
		return false, nil
	}
	s.data[k] = object{append([]byte(nil), data...), s.now()}
	if s.LoseAnswer {
		s.LoseAnswer = false
		return false, fmt.Errorf("fake oss: put %s/%s: answer lost: %w", bucket, key, apierr.ErrTransient)
	}
	return true, nil
}

// Get implements lease.Store.
func (s *Store) Get(_ context.Context, bucket, key string, maxSize int64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("Get"); err != nil {
		return nil, err
	}
	o, ok := s.data[bucket+"\x00"+key]
	if !ok {
		return nil, fmt.Errorf("fake oss: get %s/%s: %w", bucket, key, apierr.ErrNotFound)
	}
	if int64(len(o.data)) > maxSize {
		return nil, fmt.Errorf("fake oss: %s/%s is %d bytes, over %d: %w", bucket, key, len(o.data), maxSize, apierr.ErrInvalid)
	}
	return append([]byte(nil), o.data...), nil
}

// List implements lease.Store.
func (s *Store) List(_ context.Context, bucket, prefix string) ([]lease.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("List"); err != nil {
		return nil, err
	}
	out := []lease.Object{}
	for k, o := range s.data {
		b, key, _ := strings.Cut(k, "\x00")
		if b == bucket && strings.HasPrefix(key, prefix) {
			out = append(out, lease.Object{Key: key, LastModified: o.modified})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements lease.Store.
func (s *Store) Delete(_ context.Context, bucket, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("Delete"); err != nil {
		return err
	}
	delete(s.data, bucket+"\x00"+key)
	return nil
}
