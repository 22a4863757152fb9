package lease

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Object is what the lock needs to know of one listed object.
type Object struct {
	Key          string
	LastModified time.Time
}

// Store is what the lock needs from object storage (*aliyun.OSS through
// Adapt). PutIfAbsent must be atomic, like OSS PutObject with
// x-oss-forbid-overwrite: true on an unversioned bucket, and report an
// existing object as created=false with a nil error; where the store cannot
// promise that (a bucket with versioning enabled or suspended, where OSS
// ignores the header) it must fail with an error instead of reporting
// created=true. Get reports a missing object with an error that Is
// apierr.ErrNotFound and an object over maxSize with one that Is
// apierr.ErrInvalid; List returns every object under prefix (all pages,
// read-after-write consistent, as OSS is); Delete of a missing object returns
// nil. Nothing else is assumed: no conditional delete, no compare-and-swap.
type Store interface {
	PutIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string) (created bool, err error)
	Get(ctx context.Context, bucket, key string, maxSize int64) ([]byte, error)
	List(ctx context.Context, bucket, prefix string) ([]Object, error)
	Delete(ctx context.Context, bucket, key string) error
}

// objectStore is Store with the lister's own object type (*aliyun.OSS).
type objectStore[O any] interface {
	PutIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string) (created bool, err error)
	Get(ctx context.Context, bucket, key string, maxSize int64) ([]byte, error)
	List(ctx context.Context, bucket, prefix string) ([]O, error)
	Delete(ctx context.Context, bucket, key string) error
}

// Adapt fits a store whose List returns its own object type (*aliyun.OSS,
// with func(o aliyun.ObjectInfo) lease.Object { return lease.Object{Key:
// o.Key, LastModified: o.LastModified} }) to Store.
func Adapt[O any](s objectStore[O], info func(O) Object) Store {
	return adapted[O]{objectStore: s, info: info}
}

type adapted[O any] struct {
	objectStore[O]
	info func(O) Object
}

func (a adapted[O]) List(ctx context.Context, bucket, prefix string) ([]Object, error) {
	objs, err := a.objectStore.List(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Object, len(objs))
	for i, o := range objs {
		out[i] = a.info(o)
	}
	return out, nil
}

// Dir is the folder of lock name's generation objects: <prefix><name>/.
func Dir(prefix, name string) string {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return prefix + name + "/"
}

const (
	genDigits      = 20 // a uint64 in decimal, zero-padded: key order is number order
	releasedSuffix = ".released"
)

// genKey is the key of generation g of the lock in dir.
func genKey(dir string, g uint64) string {
	return fmt.Sprintf("%sg%0*d", dir, genDigits, g)
}

// releasedKey is the key of generation g's release marker.
func releasedKey(dir string, g uint64) string { return genKey(dir, g) + releasedSuffix }

// ParseKey reads a key of lock folder dir (Dir): generation g's object, or
// its release marker. Anything else (another lock's folder, a stray object)
// is not the lock's: ok false.
func ParseKey(dir, key string) (g uint64, released, ok bool) {
	rest, found := strings.CutPrefix(key, dir)
	if !found {
		return 0, false, false
	}
	rest, released = strings.CutSuffix(rest, releasedSuffix)
	digits, found := strings.CutPrefix(rest, "g")
	if !found || len(digits) != genDigits {
		return 0, false, false
	}
	g, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || g == 0 {
		return 0, false, false
	}
	return g, released, true
}

// listing is what one List says about a lock.
type listing struct {
	top      uint64    // highest generation (0: none)
	modified time.Time // its LastModified
	released bool      // its release marker exists
	below    []string  // keys of lower generations and their markers (garbage)
}

func readListing(dir string, objs []Object) listing {
	var l listing
	type entry struct {
		g        uint64
		released bool
		key      string
		modified time.Time
	}
	var all []entry
	for _, o := range objs {
		g, rel, ok := ParseKey(dir, o.Key)
		if !ok {
			continue
		}
		all = append(all, entry{g, rel, o.Key, o.LastModified})
		if g > l.top {
			l.top = g
		}
	}
	for _, e := range all {
		switch {
		case e.g < l.top:
			l.below = append(l.below, e.key)
		case e.released:
			l.released = true
		default:
			l.modified = e.modified
		}
	}
	return l
}
