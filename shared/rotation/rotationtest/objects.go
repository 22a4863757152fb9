// Package rotationtest provides in-memory fakes of the interfaces package
// rotation consumes (object store, TLS prober), for unit tests of the
// rotation and of the use cases built on it. The fake SLB is package
// clbtest's, the lock store package leasetest's.
package rotationtest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
)

// Objects is an in-memory bucket store implementing pairs.ObjectReader.
type Objects struct {
	mu   sync.Mutex
	data map[string][]byte
	gets []string
	// Err, when set, is returned by every call.
	Err error
}

var _ pairs.ObjectReader = (*Objects)(nil)

// Put stores an object.
func (o *Objects) Put(bucket, key string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.data == nil {
		o.data = map[string][]byte{}
	}
	o.data[bucket+"\x00"+key] = append([]byte(nil), data...)
}

// Delete removes an object.
func (o *Objects) Delete(bucket, key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.data, bucket+"\x00"+key)
}

// Gets returns the keys read so far (bucket/key).
func (o *Objects) Gets() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.gets...)
}

// Get implements pairs.ObjectReader.
func (o *Objects) Get(_ context.Context, bucket, key string, maxSize int64) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gets = append(o.gets, bucket+"/"+key)
	if o.Err != nil {
		return nil, o.Err
	}
	d, ok := o.data[bucket+"\x00"+key]
	if !ok {
		return nil, fmt.Errorf("fake oss: get %s/%s: %w", bucket, key, apierr.ErrNotFound)
	}
	if int64(len(d)) > maxSize {
		return nil, fmt.Errorf("fake oss: %s/%s is %d bytes, over %d: %w", bucket, key, len(d), maxSize, apierr.ErrInvalid)
	}
	return append([]byte(nil), d...), nil
}

// ListKeys implements pairs.ObjectReader.
func (o *Objects) ListKeys(_ context.Context, bucket, prefix string) ([]string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Err != nil {
		return nil, o.Err
	}
	var keys []string
	for k := range o.data {
		b, key, _ := strings.Cut(k, "\x00")
		if b == bucket && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	sort.Strings(keys)
	return keys, nil
}
