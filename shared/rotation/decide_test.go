package rotation_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs/certstest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease/leasetest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// meddlingLocks runs another instance's whole rotation the first time this
// invocation touches the lock store: between its first read of the pair and
// the lock being held.
type meddlingLocks struct {
	*leasetest.Store
	once   sync.Once
	meddle func()
}

func (m *meddlingLocks) List(ctx context.Context, bucket, prefix string) ([]lease.Object, error) {
	m.once.Do(m.meddle)
	return m.Store.List(ctx, bucket, prefix)
}

// Decide under the lock: another instance rotates a newer pair (an
// explicit deploy.yaml target) and releases between this invocation's first
// read and its lock. This invocation must act on the newer pair, never move
// the target back to the older certificate it had read.
func TestRotateDecidesUnderTheLock(t *testing.T) {
	w := newWorld(t)
	w.lb(zjk, "lb-1", "127.0.0.2")
	w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "first", issue(t, "www.example.com"), false))
	w.objs.Put(bucket, "certs/www/deploy.yaml", []byte("targets:\n  - {region: cn-zhangjiakou, loadBalancerId: lb-1, listenerPort: 443}\n"))
	older := testCA.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, Chain: true, NotAfter: w.now.Add(60 * 24 * time.Hour)})
	newer := testCA.Issue(t, certstest.Options{Domains: []string{"www.example.com"}, Chain: true, NotAfter: w.now.Add(90 * 24 * time.Hour)})
	w.putPair("www", older)

	store := &meddlingLocks{Store: &leasetest.Store{}}
	store.meddle = func() {
		// What the other instance leaves behind: the newer pair in the
		// bucket, uploaded and served, and its lock released.
		w.putPair("www", newer)
		w.listener(zjk, "lb-1", 443, w.seedCert(t, zjk, "www-newer", newer, true))
	}
	w.r.Locks = store
	w.r.Config.Lock = fastLock
	res, err := w.r.Rotate(context.Background(), w.now, rotation.Request{Bucket: bucket, Key: "certs/www/privkey.pem", Owner: "me/1"})
	if err != nil {
		t.Fatal(err)
	}
	want := certs.NormalizeFingerprint(newer.FingerprintSHA1)
	if got := certs.NormalizeFingerprint(res.Fingerprint); got != want {
		t.Errorf("rotation acted on %s (status %s); want the current pair %s", got, res.Status, want)
	}
	served := w.slb.ListenerCertificate(zjk, "lb-1", 443)
	for _, c := range w.slb.Certificates(zjk) {
		if c.ID == served && certs.NormalizeFingerprint(c.Fingerprint) != want {
			t.Errorf("listener serves %s (%s) after both rotations; want the newer pair", c.Name, c.Fingerprint)
		}
	}
}
