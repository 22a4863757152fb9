package issuance

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// failingBucket fails the first PutSecret of one key, after the CA issued:
// the run ends like one killed between issuance and the drop.
type failingBucket struct {
	*bucketStore
	key    string
	failed bool
}

func (f *failingBucket) PutSecret(ctx context.Context, bucket, key string, data []byte, ct string) error {
	if key == f.key && !f.failed {
		f.failed = true
		return errors.Join(errors.New("oss: PutObject: connection reset"), apierr.ErrTransient)
	}
	return f.bucketStore.PutSecret(ctx, bucket, key, data, ct)
}

// TestResumeIssuedOrder: the certificate was issued but never written; the
// next run (FC's retry) downloads it from the order instead of ordering
// again: one order at the CA for the renewal.
func TestResumeIssuedOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fb := &failingBucket{bucketStore: e.bucket, key: "certs/www/privkey.pem"}
	e.r.Objects = fb
	e.drop("www", "domains: [www.example.test, \"*.example.test\"]")
	now := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := e.r.Run(ctx, now, Request{Name: "www"})
	if err == nil || !errors.Is(err, apierr.ErrTransient) || one(t, res).Status != outcome.Failed {
		t.Fatalf("first run: %+v, %v; want failed with a transient error (FC retries)", res, err)
	}
	st := e.state(t, "www")
	if st.OrderURL == "" || st.OrderStarted.IsZero() {
		t.Fatalf("state after the lost write: %+v", st)
	}
	nr := one(t, e.run(t, now.Add(time.Minute), "www"))
	if nr.Status != outcome.Issued || !strings.Contains(nr.Reason, "finished the order an interrupted run placed") {
		t.Fatalf("retry: %+v", nr)
	}
	if e.ca.Orders() != 1 {
		t.Errorf("CA orders %d, want 1", e.ca.Orders())
	}
	e.verifyChain(t, "www", "www.example.test", "*.example.test")
	if _, err := e.bucket.Objects.Get(ctx, bucket, "acme/state/www.key", 1<<20); !errors.Is(err, apierr.ErrNotFound) {
		t.Errorf("the pending key was not removed: %v", err)
	}
	if st := e.state(t, "www"); st.OrderURL != "" || !st.OrderStarted.IsZero() || st.Failures != 0 {
		t.Errorf("state after resuming: %+v", st)
	}
}
