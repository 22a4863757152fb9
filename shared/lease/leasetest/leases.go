package leasetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
)

// Body is the stored form of owner's lease of generation gen, acquired a
// minute before it expires (to Set as another holder's lease).
func Body(tb testing.TB, owner string, gen uint64, expires time.Time) []byte {
	tb.Helper()
	b, err := json.Marshal(lease.Lease{Owner: owner, Generation: gen, Acquired: expires.Add(-time.Minute), Expires: expires})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// Owner is the owner of the lease stored at bucket/key ("" when nothing is
// stored there); an object that is not a lease fails the test.
func (s *Store) Owner(tb testing.TB, bucket, key string) string {
	tb.Helper()
	b, ok := s.Object(bucket, key)
	if !ok {
		return ""
	}
	var l lease.Lease
	if err := json.Unmarshal(b, &l); err != nil {
		tb.Fatalf("lock object %s: %v", b, err)
	}
	return l.Owner
}
