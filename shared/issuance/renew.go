package issuance

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// CA is the ACME side of a renewal (*ACME).
type CA interface {
	RenewalWindow(ctx context.Context, cfg Config, leaf *x509.Certificate) (*Window, error)
	Obtain(ctx context.Context, cfg Config, p *Provider, hooks OrderHooks) (Issued, error)
	Resume(ctx context.Context, cfg Config, orderURL string, keyPEM []byte) (Issued, bool, error)
}

// Renewer keeps the pairs that have an acme.yaml current.
type Renewer struct {
	Objects  Objects
	DNS      DNS
	CA       CA
	Locker   Locker
	Notifier notify.Notifier // nil sends nothing
	Bucket   string
	// Prefix of the pairs ("certs/"); StatePrefix of the state objects
	// ("acme/state/").
	Prefix, StatePrefix string
	// Nameservers override the authoritative servers checked before the CA
	// is told to validate ("host:port"; the local cloud's DNS server).
	Nameservers []string
	// PropagationTimeout and PollInterval bound the wait for the TXT
	// records (defaults 2 min, 2 s).
	PropagationTimeout, PollInterval time.Duration
	// Interval is the time to the next scheduled run (default 24 h).
	Interval time.Duration
}

// Request selects the pairs: Name = one pair, "" = every pair with an
// acme.yaml.
type Request struct {
	Name string `json:"name"`
}

// Timings split a renewal's time (milliseconds).
type Timings struct {
	ACME  int64 `json:"acme_ms"`
	DNS   int64 `json:"dns_ms"`
	Total int64 `json:"total_ms"`
}

// NameResult is the outcome for one pair.
type NameResult struct {
	Name        string         `json:"name"`
	Status      outcome.Status `json:"status"`
	Reason      string         `json:"reason"`
	Domains     []string       `json:"domains,omitempty"`
	NotAfter    time.Time      `json:"not_after,omitzero"`
	NextAttempt time.Time      `json:"next_attempt,omitzero"`
	CAError     string         `json:"ca_error,omitempty"`
	Orders      int            `json:"orders"`
	Timings     *Timings       `json:"timings,omitempty"`
}

// Result is the outcome of a run.
type Result struct {
	Status outcome.Status `json:"status"`
	Names  []NameResult   `json:"names"`
}

// severity orders statuses from best to worst for the run's status.
var severity = []outcome.Status{outcome.Unchanged, outcome.Issued, outcome.Deferred, outcome.Rejected, outcome.Failed}

// Run renews what is due. The error is non-nil only when a pair failed
// before any order was placed for a reason retrying may fix (FC retries
// the invocation; orders are guarded by the lock and the state).
func (r *Renewer) Run(ctx context.Context, now time.Time, req Request) (Result, error) {
	names := []string{req.Name}
	if req.Name == "" {
		var err error
		if names, err = r.names(ctx); err != nil {
			return Result{Status: outcome.Failed}, err
		}
	} else if strings.ContainsAny(req.Name, "/\\") || req.Name == "." || req.Name == ".." {
		return Result{Status: outcome.Rejected, Names: []NameResult{{Name: req.Name, Status: outcome.Rejected,
			Reason: "name must be a pair's folder name under the prefix, without slashes"}}}, nil
	}
	res := Result{Status: outcome.Unchanged, Names: []NameResult{}}
	var errs []error
	for _, name := range names {
		nr, err := r.renewName(ctx, now, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		res.Names = append(res.Names, nr)
		if slices.Index(severity, nr.Status) > slices.Index(severity, res.Status) {
			res.Status = nr.Status
		}
	}
	return res, errors.Join(errs...)
}

// names lists the pairs with an acme.yaml.
func (r *Renewer) names(ctx context.Context) ([]string, error) {
	keys, err := r.Objects.ListKeys(ctx, r.Bucket, r.Prefix)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", r.Prefix, err)
	}
	var out []string
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, r.Prefix)
		name, file, found := strings.Cut(rest, "/")
		if ok && found && file == ConfigFile && name != "" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (r *Renewer) pairKey(name, file string) string { return r.Prefix + name + "/" + file }

// renewName handles one pair. A non-nil error means a transient failure
// before any order (FC may retry).
func (r *Renewer) renewName(ctx context.Context, now time.Time, name string) (NameResult, error) {
	nr := NameResult{Name: name}
	file := r.pairKey(name, ConfigFile)
	data, err := r.Objects.Get(ctx, r.Bucket, file, 64<<10)
	if errors.Is(err, apierr.ErrNotFound) {
		nr.Status, nr.Reason = outcome.Rejected, file+" does not exist: drop an acme.yaml there to have the pair issued"
		return nr, nil
	}
	if err != nil {
		return r.failed(nr, "read "+file, err)
	}
	cfg, err := ParseConfig(file, data)
	if err != nil {
		nr.Status, nr.Reason = outcome.Rejected, err.Error()
		r.notify(ctx, name, "acme.yaml refused", nr.Reason, "")
		return nr, nil
	}
	nr.Domains = cfg.Domains
	leaf, err := r.leaf(ctx, name)
	if err != nil {
		return r.failed(nr, "read the current certificate", err)
	}
	var ari *Window
	if leaf != nil {
		ari, _ = r.CA.RenewalWindow(ctx, cfg, leaf) // no ARI answer: the one-third rule decides
		nr.NotAfter = leaf.NotAfter
	}
	st, err := r.loadState(ctx, name)
	if err != nil {
		return r.failed(nr, "read the state", err)
	}
	if d := dueWithState(now, cfg, leaf, ari, r.interval(), st); !d.Renew {
		nr.Status, nr.Reason = outcome.Unchanged, d.Reason
		return nr, nil
	}
	if now.Before(st.NextAttempt) {
		return r.deferred(nr, st), nil
	}
	unlock, err := r.Locker.Lock(ctx, name) // ErrBusy: FC retries later
	if err != nil {
		return r.failed(nr, "lock the pair", err)
	}
	defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
	return r.renewLocked(ctx, now, name, cfg, ari, nr)
}

func (r *Renewer) interval() time.Duration {
	if r.Interval > 0 {
		return r.Interval
	}
	return 24 * time.Hour
}

// renewLocked re-reads the pair and the state under the lock (another run
// may have just issued or failed), then places at most one order.
func (r *Renewer) renewLocked(ctx context.Context, now time.Time, name string, cfg Config, ari *Window, nr NameResult) (NameResult, error) {
	leaf, err := r.leaf(ctx, name)
	if err != nil {
		return r.failed(nr, "read the current certificate", err)
	}
	st, err := r.loadState(ctx, name)
	if err != nil {
		return r.failed(nr, "read the state", err)
	}
	d := dueWithState(now, cfg, leaf, ari, r.interval(), st)
	if !d.Renew {
		nr.Status, nr.Reason, nr.NotAfter = outcome.Unchanged, d.Reason+" (issued by another run)", leaf.NotAfter
		return nr, nil
	}
	p := r.provider(name, cfg, &st)
	p.Adopt(st.Records)
	if !st.OrderStarted.IsZero() { // the previous run died mid-order
		_ = p.CleanUpAll(ctx)
		st.Records = p.Remaining()
		res, ok, why := r.resume(ctx, now, name, cfg, st, nr)
		if ok {
			return res, nil
		}
		st.failed(st.OrderStarted, "a previous run ended during its order (started "+st.OrderStarted.UTC().Format(time.RFC3339)+
			"): killed or timed out; the order could not be finished: "+why, 0)
		if err := r.saveState(ctx, name, st); err != nil {
			return r.failed(nr, "record the interrupted order", err)
		}
	}
	if now.Before(st.NextAttempt) {
		return r.deferred(nr, st), nil
	}
	if err := p.CleanUpAll(ctx); err != nil { // leftovers of a killed run
		return r.failed(nr, "delete challenge records left by an earlier run", err)
	}
	if err := p.CheckZones(ctx, cfg.Domains); err != nil {
		if !errors.Is(err, ErrZone) {
			return r.failed(nr, "find the DNS zones", err)
		}
		nr.Status, nr.Reason = outcome.Rejected, err.Error()+" (no order placed)"
		r.notify(ctx, name, "DNS zone missing", nr.Reason, "")
		return nr, nil
	}
	st.OrderStarted, st.Records = now, nil
	st.Orders++
	if err := r.saveState(ctx, name, st); err != nil {
		return r.failed(nr, "record the order", err)
	}
	nr.Orders = 1
	return r.order(ctx, now, name, cfg, p, &st, nr, d.Reason)
}

// provider builds the DNS-01 provider whose journal is the state.
func (r *Renewer) provider(name string, cfg Config, st *State) *Provider {
	return &Provider{DNS: r.DNS, Zone: cfg.Zone, Nameservers: r.Nameservers,
		PropagationTimeout: r.PropagationTimeout, Interval: r.PollInterval,
		Journal: func(ctx context.Context, recs []TXTRecord) error {
			st.Records = recs
			return r.saveState(ctx, name, *st)
		}}
}

// order places the order and writes the drop (key first, then the chain:
// the chain's event completes the pair for the rotation).
func (r *Renewer) order(ctx context.Context, now time.Time, name string, cfg Config, p *Provider, st *State, nr NameResult, reason string) (NameResult, error) {
	start := time.Now()
	issued, err := r.CA.Obtain(ctx, cfg, p, r.hooks(name, st))
	cleanCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	cleanErr := p.CleanUpAll(cleanCtx)
	cancel()
	st.Records = p.Remaining()
	total := time.Since(start)
	nr.Timings = &Timings{DNS: p.DNSTime().Milliseconds(), ACME: (total - p.DNSTime()).Milliseconds(), Total: total.Milliseconds()}
	if err != nil {
		return r.orderFailed(ctx, now, name, *st, nr, err), nil
	}
	return r.deliver(ctx, now, name, cfg, issued, *st, nr, reason, cleanErr)
}

// deliver writes the drop and clears the state.
func (r *Renewer) deliver(ctx context.Context, now time.Time, name string, cfg Config, issued Issued, st State, nr NameResult, reason string, cleanErr error) (NameResult, error) {
	leaf, perr := parseLeaf(issued.FullchainPEM)
	if perr != nil {
		return r.orderFailed(ctx, now, name, st, nr, fmt.Errorf("%w: the CA's certificate cannot be parsed: %v", ErrRefused, perr)), nil
	}
	if err := r.Objects.PutSecret(ctx, r.Bucket, r.pairKey(name, "privkey.pem"), issued.KeyPEM, "application/x-pem-file"); err != nil {
		return r.failed(nr, "write privkey.pem", err) // OrderStarted stays set: a retry backs off
	}
	if err := r.Objects.Put(ctx, r.Bucket, r.pairKey(name, "fullchain.pem"), issued.FullchainPEM, "application/x-pem-file"); err != nil {
		return r.failed(nr, "write fullchain.pem", err)
	}
	st.Failures, st.LastError, st.NextAttempt, st.OrderStarted, st.LastIssued = 0, "", time.Time{}, time.Time{}, now
	st.Directory, st.OrderURL = cfg.Directory, ""
	if err := r.saveState(ctx, name, st); err != nil {
		return r.failed(nr, "record the issuance", err)
	}
	_ = r.Objects.Delete(ctx, r.Bucket, r.pendingKeyKey(name)) // privkey.pem holds it now
	nr.Status, nr.NotAfter = outcome.Issued, leaf.NotAfter
	nr.Reason = reason + "; issued and written to " + r.pairKey(name, "fullchain.pem")
	if cleanErr != nil {
		nr.Reason += "; challenge records left (deleted by the next run): " + cleanErr.Error()
	}
	return nr, nil
}

// hooks persist the order's key (encrypted) before the order and its URL
// once the CA created it, so an interrupted run's order can be finished.
func (r *Renewer) hooks(name string, st *State) OrderHooks {
	return OrderHooks{
		KeyReady: func(ctx context.Context, keyPEM []byte) error {
			if err := r.Objects.PutSecret(ctx, r.Bucket, r.pendingKeyKey(name), keyPEM, "application/x-pem-file"); err != nil {
				return fmt.Errorf("store the key of the order: %w", err)
			}
			return nil
		},
		OrderPlaced: func(ctx context.Context, url string) {
			st.OrderURL = url
			_ = r.saveState(ctx, name, *st) // best effort: without it a kill costs the order
		},
	}
}

// resume finishes the order of an interrupted run when the CA already
// issued it or only waits for the CSR: no new order. why says what stood in
// the way when it could not.
func (r *Renewer) resume(ctx context.Context, now time.Time, name string, cfg Config, st State, nr NameResult) (NameResult, bool, string) {
	if st.OrderURL == "" {
		return nr, false, "the order's URL was not recorded"
	}
	keyPEM, err := r.Objects.Get(ctx, r.Bucket, r.pendingKeyKey(name), 64<<10)
	if err != nil {
		return nr, false, "its key is not readable: " + err.Error()
	}
	issued, ok, err := r.CA.Resume(ctx, cfg, st.OrderURL, keyPEM)
	switch {
	case err != nil:
		return nr, false, err.Error()
	case !ok:
		return nr, false, "the CA has not issued it and its challenges are not solved"
	}
	res, err := r.deliver(ctx, now, name, cfg, issued, st, nr, "finished the order an interrupted run placed ("+st.OrderURL+")", nil)
	if err != nil {
		return nr, false, err.Error()
	}
	return res, true, ""
}

// orderFailed records the failure and its backoff and notifies with the
// CA's error.
func (r *Renewer) orderFailed(ctx context.Context, now time.Time, name string, st State, nr NameResult, err error) NameResult {
	var ra interface{ RetryAfter() time.Duration }
	retryAfter := time.Duration(0)
	if errors.As(err, &ra) {
		retryAfter = ra.RetryAfter()
	}
	st.failed(now, err.Error(), retryAfter)
	saveErr := r.saveState(ctx, name, st)
	nr.CAError, nr.NextAttempt = err.Error(), st.NextAttempt
	switch {
	case errors.Is(err, ErrRateLimited):
		nr.Status = outcome.Deferred
		nr.Reason = "rate limited by the CA: next attempt after " + st.NextAttempt.UTC().Format(time.RFC3339)
	case errors.Is(err, ErrRefused), errors.Is(err, ErrAccount), errors.Is(err, ErrDNSSetup):
		nr.Status = outcome.Rejected
		nr.Reason = "the order failed and needs a fix (see ca_error); next attempt after " + st.NextAttempt.UTC().Format(time.RFC3339)
	default:
		nr.Status = outcome.Deferred
		nr.Reason = "the order failed transiently; next attempt after " + st.NextAttempt.UTC().Format(time.RFC3339)
	}
	if saveErr != nil {
		nr.Reason += "; the failure could not be recorded: " + saveErr.Error()
	}
	r.notify(ctx, name, "certificate order failed", nr.Reason, nr.CAError)
	return nr
}

func (r *Renewer) deferred(nr NameResult, st State) NameResult {
	nr.Status, nr.NextAttempt, nr.CAError = outcome.Deferred, st.NextAttempt, st.LastError
	nr.Reason = fmt.Sprintf("backing off after %d failed order(s) until %s", st.Failures, st.NextAttempt.UTC().Format(time.RFC3339))
	return nr
}

func (r *Renewer) failed(nr NameResult, what string, err error) (NameResult, error) {
	nr.Status, nr.Reason = outcome.Failed, what+": "+err.Error()
	if apierr.Permanent(err) {
		nr.Status = outcome.Rejected
		return nr, nil
	}
	return nr, fmt.Errorf("%s: %w", what, err)
}

func (r *Renewer) notify(ctx context.Context, name, title, reason, caErr string) {
	if r.Notifier == nil {
		return
	}
	lines := []string{"pair: " + name, reason}
	if caErr != "" {
		lines = append(lines, "CA error: "+caErr)
	}
	_ = r.Notifier.Notify(ctx, notify.Message{Title: "slb-cert-rotator: " + title + " (" + name + ")", Summary: reason, Lines: lines, Severity: notify.SeverityWarning})
}

// leaf reads the pair's current certificate; nil when there is none or it
// cannot be parsed (a new one is issued).
func (r *Renewer) leaf(ctx context.Context, name string) (*x509.Certificate, error) {
	data, err := r.Objects.Get(ctx, r.Bucket, r.pairKey(name, "fullchain.pem"), 1<<20)
	if errors.Is(err, apierr.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	leaf, err := parseLeaf(data)
	if err != nil {
		return nil, nil
	}
	return leaf, nil
}

func parseLeaf(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
