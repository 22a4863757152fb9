package issuance

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// State is a pair's issuance state in the bucket (<StatePrefix><name>.json).
// It holds no secret.
type State struct {
	// Failures counts failed orders since the last issuance.
	Failures int `json:"failures"`
	// LastError is the last failure (the CA's problem when it had one).
	LastError string `json:"last_error,omitempty"`
	// NextAttempt: no order before this time (backoff, rate limit).
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	// OrderStarted is set before an order is placed and cleared when it
	// ends; a run that finds it set knows the previous one died mid-order.
	OrderStarted time.Time `json:"order_started,omitzero"`
	// OrderURL is the CA's URL of that order, once created: a run that
	// finds the order valid or ready finishes it instead of ordering again
	// (its key is <StatePrefix><name>.key, server-side encrypted).
	OrderURL string `json:"order_url,omitempty"`
	// Records are the challenge TXT records created and not yet deleted.
	Records []TXTRecord `json:"records,omitempty"`
	// LastIssued is when the last certificate was written, Directory the
	// ACME directory that issued it.
	LastIssued time.Time `json:"last_issued,omitzero"`
	Directory  string    `json:"directory,omitempty"`
	// Orders counts the orders placed for this pair (all time).
	Orders int `json:"orders"`
}

// Backoff is the wait after the n-th consecutive failed order (n >= 1):
// 1 h, 4 h, 16 h, then 72 h, so a broken setup costs the CA at most one
// failed order per backoff whatever invokes the function.
func Backoff(n int) time.Duration {
	d := time.Hour
	for i := 1; i < n && d < 72*time.Hour; i++ {
		d *= 4
	}
	return min(d, 72*time.Hour)
}

// failed records a failed order at now; retryAfter (the CA's, may be 0)
// extends the backoff.
func (s *State) failed(now time.Time, msg string, retryAfter time.Duration) {
	s.Failures++
	s.LastError = msg
	s.NextAttempt = now.Add(max(Backoff(s.Failures), retryAfter))
	s.OrderStarted, s.OrderURL = time.Time{}, ""
}

func (r *Renewer) stateKey(name string) string { return r.StatePrefix + name + ".json" }

// pendingKeyKey holds the key of the order in progress.
func (r *Renewer) pendingKeyKey(name string) string { return r.StatePrefix + name + ".key" }

func (r *Renewer) loadState(ctx context.Context, name string) (State, error) {
	var st State
	data, err := r.Objects.Get(ctx, r.Bucket, r.stateKey(name), 1<<20)
	if errors.Is(err, apierr.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read issuance state %s: %w", r.stateKey(name), err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		// a corrupt state must not block renewals forever: start over
		return State{}, nil
	}
	return st, nil
}

func (r *Renewer) saveState(ctx context.Context, name string, st State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := r.Objects.Put(ctx, r.Bucket, r.stateKey(name), data, "application/json"); err != nil {
		return fmt.Errorf("write issuance state %s: %w", r.stateKey(name), err)
	}
	return nil
}

// dueWithState is Due plus what only the state knows: a certificate issued
// by another ACME directory than acme.yaml names now (staging to
// production) is replaced at once.
func dueWithState(now time.Time, cfg Config, leaf *x509.Certificate, ari *Window, interval time.Duration, st State) Decision {
	d := Due(now, cfg, leaf, ari, interval)
	if !d.Renew && leaf != nil && st.Directory != "" && st.Directory != cfg.Directory {
		return Decision{Renew: true, Reason: "the ACME directory changed: the certificate came from " + st.Directory + ", acme.yaml names " + cfg.Directory}
	}
	return d
}
