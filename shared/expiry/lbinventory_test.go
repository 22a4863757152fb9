package expiry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
)

// TestCASListingStoredWhileListing reads a CAS region's listing (stored,
// as a lane does after its walk) while other lanes are still listing it
// (get): stored sees either nothing or the whole listing, never a half
// one, and under -race the two never touch the listing unsynchronised.
func TestCASListingStoredWhileListing(t *testing.T) {
	cas := newFakeCAS()
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	for i := int64(1); i <= 5; i++ {
		cas.add("cn-hangzhou", i, byte(i), now.Add(30*24*time.Hour), "www.example.com")
	}
	for round := 0; round < 200; round++ {
		l := &casListing{coll: inventory.NewCollector(1), store: cas.store(), regions: map[string]*casRegionList{}}
		var wg sync.WaitGroup
		seen := make([]int, 4)
		for g := range seen {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if g%2 == 0 {
					seen[g] = len(l.get(context.Background(), "cn-hangzhou"))
					return
				}
				seen[g] = len(l.stored("cn-shanghai")) // same CAS region: same store key
			}()
		}
		wg.Wait()
		for g, n := range seen {
			if n != 0 && n != 5 {
				t.Fatalf("round %d, reader %d saw %d of 5 certificates", round, g, n)
			}
			if g%2 == 0 && n != 5 {
				t.Fatalf("round %d: get returned %d of 5 certificates", round, n)
			}
		}
		if got := len(l.stored("cn-hangzhou")); got != 5 {
			t.Fatalf("round %d: stored after the listing = %d certificates, want 5", round, got)
		}
	}
}
