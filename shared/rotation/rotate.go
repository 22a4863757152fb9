package rotation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
)

// Defaults applied when the Config leaves a value at zero: the
// environment's own defaults (package config holds every default).
const (
	DefaultPrefix       = config.DefaultCertPrefix
	DefaultConcurrency  = config.DefaultConcurrency
	DefaultProbeTimeout = config.DefaultProbeTimeout
	// probeAttempts is how many handshakes may see the old certificate
	// before a target is rolled back (a frontend may take a moment).
	probeAttempts = 3
)

// Config is the rotation's configuration (from package config).
type Config struct {
	// Bucket is CERT_BUCKET: a request for another bucket is ignored unread.
	// Empty accepts the request's bucket.
	Bucket string
	// Prefix is CERT_PREFIX (default "certs/").
	Prefix string
	// Regions are searched by discovery (REGIONS).
	Regions []string
	// MinValidDays is MIN_VALID_DAYS (config.Load defaults it to 7).
	MinValidDays int
	// Keep is KEEP_SUPERSEDED, the superseded certificates kept for rollback
	// (config.Load defaults it to 1); deploy.yaml's keep overrides it.
	Keep int
	// DryRun stops every rotation after planning (DRY_RUN).
	DryRun bool
	// ProbeTimeout bounds each TLS handshake (default 5s).
	ProbeTimeout time.Duration
	// Concurrency bounds parallel API calls and switches (default 5).
	Concurrency int
	// ProbeRetryDelay is the pause between handshakes that saw the wrong
	// certificate (default 300ms).
	ProbeRetryDelay time.Duration
	// Lock configures the cross-instance lock (used when Rotator.Locks is set).
	Lock lease.Options
	// Pinned are places named in another pair's deploy.yaml: discovery
	// leaves them to that pair (the expiry sweep sets it for each pair it
	// rotates; a pair's own explicit targets are never excluded).
	Pinned []clb.Target
}

// Rotator runs rotations. Its fields are set by the caller; it holds no
// per-invocation state and is safe for concurrent use when its
// dependencies are.
type Rotator struct {
	Config  Config
	Objects pairs.ObjectReader
	SLB     SLB
	// Products are the load-balancer products rotated, each through its
	// port; nil is CLB only, through CLBPort{SLB}.
	Products []Product
	// Prober verifies with a TLS handshake; nil verifies through the API only.
	Prober Prober
	// Locks holds the cross-instance lease locks (the certificate bucket);
	// nil serialises rotations inside this process only.
	Locks lease.Store
}

// Request asks for one rotation: either Key (an object key from an OSS
// event) or Name (a pair name under the prefix).
type Request struct {
	Bucket string
	Key    string
	Name   string
	DryRun bool
	// Owner names this invocation in the cross-instance lock
	// (lease.NewOwner(FC request id)); "" gets a random owner.
	Owner string
	// Snapshots are inventories the caller already holds (an expiry
	// sweep's), by lane: discovery uses a complete one to find the places
	// that may serve the pair's domains and re-reads only those under the
	// lock (see Snapshots).
	Snapshots Snapshots
}

func (r *Rotator) prefix() string {
	if r.Config.Prefix == "" {
		return DefaultPrefix
	}
	return r.Config.Prefix
}

func (r *Rotator) concurrency() int {
	if r.Config.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return r.Config.Concurrency
}

// RotateName rotates the pair stored under <prefix><name>.
func (r *Rotator) RotateName(ctx context.Context, now time.Time, bucket, name string) (Result, error) {
	return r.Rotate(ctx, now, Request{Bucket: bucket, Name: name})
}

// Accepts reports whether an object is one the rotation may read: in the
// configured bucket and under the prefix.
func (r *Rotator) Accepts(bucket, key string) bool {
	return (r.Config.Bucket == "" || bucket == r.Config.Bucket) && strings.HasPrefix(key, r.prefix())
}

// Rotate runs one rotation. Permanent problems give a "rejected" result and
// a nil error; transient failures return an error (with the partial result).
func (r *Rotator) Rotate(ctx context.Context, now time.Time, req Request) (Result, error) {
	bucket := req.Bucket
	if bucket == "" {
		bucket = r.Config.Bucket
	}
	prefix := r.prefix()
	name, layout, ended := r.resolve(bucket, req)
	if ended != nil {
		return *ended, nil
	}

	unlock, err := pairLocks.lock(ctx, bucket+"\x00"+prefix+name)
	if err != nil {
		return NewResult(StatusWaiting), fmt.Errorf("rotation: wait for concurrent rotation of %s: %w", name, err)
	}
	defer unlock()

	// Failed until the work says otherwise: a transient failure on the way
	// never reads as a success.
	res := NewResult(StatusFailed)
	res.Name = name
	m, d, deployFile, status, reason, err := r.load(ctx, now, bucket, prefix, name, layout)
	if err != nil {
		return res, err
	}
	if status != "" {
		return res.end(status, reason), nil
	}
	dry := req.DryRun || r.Config.DryRun
	if r.Locks == nil || dry {
		return r.rotateLoaded(ctx, res, m, d, deployFile, dry, req.Snapshots)
	}
	// Serialise across instances from here on (planning and writes); a pair
	// that ended "waiting" or "rejected" above took no lock. What is applied
	// is decided under the lock: the pair and deploy.yaml are read again once
	// it is held, so files read before another instance rotated a newer pair
	// and released are never applied.
	owner := req.Owner
	if owner == "" {
		owner = lease.NewOwner("")
	}
	lk, err := lease.Acquire(ctx, r.Locks, bucket, name, owner, r.Config.Lock)
	if err != nil {
		return reject(res, err) // permanent (e.g. no oss:PutObject on locks/*): rejected
	}
	var out Result
	m, d, deployFile, status, reason, err = r.load(ctx, now, bucket, prefix, name, layout)
	switch {
	case err != nil:
		out = res
	case status != "":
		out = res.end(status, reason)
	default:
		out, err = r.rotateLoaded(ctx, res, m, d, deployFile, dry, req.Snapshots)
	}
	if rerr := lk.Release(ctx); rerr != nil {
		out.Errors = append(out.Errors, rerr.Error())
	}
	return out, err
}

// resolve names the pair a request is about (and the key's layout), or
// gives the result that ends it unread (ignored, rejected).
func (r *Rotator) resolve(bucket string, req Request) (string, pairs.Layout, *Result) {
	prefix := r.prefix()
	end := func(s Status, reason string) (string, pairs.Layout, *Result) {
		res := Ended(s, reason)
		return "", "", &res
	}
	switch {
	case req.Key != "":
		if !r.Accepts(bucket, req.Key) {
			return end(StatusIgnored, "object outside CERT_BUCKET/CERT_PREFIX ("+r.Config.Bucket+"/"+prefix+"): not read")
		}
		ref, ok := pairs.ParseKey(prefix, req.Key)
		if !ok {
			return end(StatusIgnored, "not a file of a certificate pair: "+req.Key)
		}
		if ref.File == pairs.DeployFileName {
			return ref.Name, "", nil
		}
		return ref.Name, ref.Layout, nil
	case req.Name != "":
		if !pairs.ValidName(req.Name) {
			return end(StatusRejected, fmt.Sprintf("invalid pair name %q", req.Name))
		}
		if r.Config.Bucket != "" && bucket != r.Config.Bucket {
			return end(StatusIgnored, "bucket outside CERT_BUCKET: not read")
		}
		return req.Name, "", nil
	}
	return end(StatusRejected, "request names neither an object key nor a pair name")
}

// rotateLoaded plans, uploads, switches, verifies and cleans up a loaded
// pair (under the pair's locks): pipelined (pipeline.go), or, for a dry
// run, the whole plan and nothing written.
func (r *Rotator) rotateLoaded(ctx context.Context, res Result, m *material, d pairs.Deploy, deployFile string, dry bool, snaps Snapshots) (Result, error) {
	res.Status = StatusFailed // until the outcome is known
	res.Fingerprint, res.SHA256, res.Domains = m.fingerprint, m.sha256, m.domains
	na := m.notAfter.UTC()
	res.NotAfter = &na
	if !dry {
		return r.rotatePipelined(ctx, res, m, d, deployFile, snaps)
	}
	plans, err := r.plan(ctx, m, d, deployFile, snaps)
	if err != nil {
		return reject(res, err)
	}
	for _, p := range plans {
		res.Skipped = append(res.Skipped, p.skipped...)
	}
	if countTargets(plans) == 0 {
		return nothingToDo(res), nil
	}
	return planned(res, plans), nil
}

// finish ends a switched rotation: the outcomes (outs, in plan order),
// cleanup of the regions whose inventory is complete, the status. late is
// the discovery failures after the first switches (incomplete: their
// regions): the rotation is then at best partial and returns an error.
// discovered are the lanes discovered without error that hold no target.
func (r *Rotator) finish(ctx context.Context, res Result, m *material, keep int, plans []*regionPlan, outs []*targetOutcome, seen observation, late error, incomplete map[string]bool, discovered map[string]*regionPlan) (Result, error) {
	if err := collectOutcomes(&res, outs); err != nil {
		res.Status, res.Reason = finalStatus(res.Targets)
		if res.Status != StatusPartial {
			res.Status = StatusFailed
		}
		if notServed(res.Targets) {
			err = fmt.Errorf("%w (%s: %w)", err, res.Reason, ErrNotServed)
		}
		if late != nil {
			noteIncomplete(&res, late)
			err = errors.Join(err, late)
		}
		return res, err
	}

	// Clean up superseded certificates in each store whose every lane's
	// inventory is complete (an unlisted place may reference one).
	for _, group := range storeGroups(plans) {
		p := group[0]
		if p.certID == "" || anyIncomplete(group, incomplete) {
			continue
		}
		refs, err := r.storeRefs(ctx, group, outs, seen, discovered)
		if err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("cleanup in %s: %v", p.region, err))
			continue
		}
		del, kept, msgs := r.cleanup(ctx, p, m, keep, refs)
		res.Deleted = append(res.Deleted, del...)
		res.Kept = append(res.Kept, kept...)
		res.Errors = append(res.Errors, msgs...)
	}

	res.Status, res.Reason = finalStatus(res.Targets)
	if late != nil {
		if res.Status == StatusRotated || res.Status == StatusUnchanged {
			res.Status = StatusPartial
		}
		noteIncomplete(&res, late)
		return res, fmt.Errorf("rotation: discovery incomplete: %w", late)
	}
	if res.Status == StatusFailed || res.Status == StatusPartial && notServed(res.Targets) {
		// A target is left not serving the new certificate, or in an
		// unknown state: the invocation fails so that it runs again.
		return res, fmt.Errorf("rotation: %s: %w", res.Reason, ErrNotServed)
	}
	return res, nil
}

// noteIncomplete adds to res's reason and errors that discovery did not
// finish (late: the listings that failed).
func noteIncomplete(res *Result, late error) {
	why := incompleteReason(late)
	if res.Reason != "" {
		res.Reason += "; " + why
	} else {
		res.Reason = why
	}
	res.Errors = append(res.Errors, why)
}

// nothingToDo ends a rotation that found no target: unchanged, with the
// reason (places skipped because they serve a later certificate say so).
func nothingToDo(res Result) Result {
	res.Status = StatusUnchanged
	res.Reason = "no listener or domain extension serves these domains"
	if n := len(res.Skipped); n > 0 {
		res.Reason = res.Skipped[0].Reason
		if n > 1 {
			res.Reason += fmt.Sprintf(" (and %d more places serve a later certificate)", n-1)
		}
	}
	return res
}

// planned ends a dry run: the plan's targets, nothing written.
func planned(res Result, plans []*regionPlan) Result {
	res.Status = StatusPlanned
	res.Regions = map[string]RegionResult{}
	for _, p := range plans {
		if len(p.targets) == 0 {
			continue
		}
		res.Regions[p.lane()] = RegionResult{ServerCertificateID: p.certID, Reused: p.reused}
		for _, t := range p.targets {
			tr := targetResult(t, p.certID, "")
			tr.State = StatePlanned
			res.Targets = append(res.Targets, tr)
		}
	}
	return res
}

// reject turns a permanent error into a rejected result; anything else is
// returned so that the invocation is retried.
func reject(res Result, err error) (Result, error) {
	var pe *certs.Error
	if errors.As(err, &pe) || apierr.Permanent(err) {
		res.Status = StatusRejected
		res.Reason = err.Error()
		if errors.Is(err, apierr.ErrQuota) {
			res.Reason += " (the region holds the maximum number of server certificates, 100 by default: delete unused ones or raise slb_quota_certs_num)"
		}
		res.Errors = append(res.Errors, res.Reason)
		res.Targets = []TargetResult{}
		return res, nil
	}
	return res, err
}

func countTargets(plans []*regionPlan) int {
	n := 0
	for _, p := range plans {
		n += len(p.targets)
	}
	return n
}

func targetResult(t *target, to, verified string) TargetResult {
	return TargetResult{Product: t.productLabel(), Region: t.Region, LoadBalancerID: t.LoadBalancerID, ListenerPort: t.ListenerPort,
		Domain: t.Domain, From: t.from, To: to, Verified: verified, Source: t.source}
}

// chooseExisting picks the certificate with the pair's fingerprint already
// in the region, if any (the canonical one when duplicates exist).
func chooseExisting(p *regionPlan, m *material) {
	if c, ok := canonical(p.certs, m.fingerprint); ok {
		p.certID, p.reused = c.ID, true
	}
}

// canonical returns, among the certificates with fingerprint fp, the one
// every invocation agrees on: the lowest id (shorter first, then lexical).
func canonical(certs []clb.ServerCertificate, fp string) (clb.ServerCertificate, bool) {
	var best clb.ServerCertificate
	found := false
	for _, c := range certs {
		if !sameFingerprint(c.Fingerprint, fp) {
			continue
		}
		if !found || idLess(c.ID, best.ID) {
			best, found = c, true
		}
	}
	return best, found
}

func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// sameFingerprint compares SHA-1 fingerprints whatever their case or
// separators (certs.NormalizeFingerprint); an empty one matches nothing.
func sameFingerprint(a, b string) bool {
	return a != "" && certs.NormalizeFingerprint(a) == certs.NormalizeFingerprint(b)
}

// ensureCertificate uploads the pair into the region unless a certificate
// with its fingerprint exists; after an upload it converges with concurrent
// uploaders on the canonical certificate.
func (r *Rotator) ensureCertificate(ctx context.Context, p *regionPlan, m *material) error {
	if p.certID != "" {
		return nil
	}
	tags := map[string]string{clb.OwnerTagKey: clb.OwnerTagValue}
	if v := clb.PairTagValue(m.name); v != "" {
		tags[clb.PairTagKey] = v
	}
	up, err := p.port.Upload(ctx, p.region, m.certName, m.certPEM, m.key.PEM(), tags)
	if err != nil {
		return fmt.Errorf("rotation: upload certificate %s in %s: %w", m.certName, p.region, err)
	}
	p.certID, p.reused = up.ID, false
	certs, err := p.port.Certificates(ctx, p.region)
	if err != nil {
		return fmt.Errorf("rotation: list server certificates in %s: %w", p.region, err)
	}
	// This listing is the region's certificates for cleanup too (it holds
	// the upload): no second listing later.
	p.certs = certs
	if c, ok := canonical(certs, m.fingerprint); ok && c.ID != up.ID {
		// Another invocation uploaded the same pair: use its certificate and
		// remove ours (nothing references it yet).
		if err := p.port.Delete(ctx, p.region, up.ID); err != nil && !errors.Is(err, apierr.ErrConflict) {
			return fmt.Errorf("rotation: delete duplicate certificate %s in %s: %w", up.ID, p.region, err)
		} else if err == nil {
			p.certs = withoutCertificate(certs, up.ID)
		}
		p.certID, p.reused = c.ID, true
	}
	return nil
}

// probeName chooses the SNI for a handshake: the extension's domain, or a
// domain of the certificate that no extension of the listener claims (so the
// default certificate answers). A wildcard becomes a concrete name
// ("*.example.com" -> "www.example.com").
func probeName(t *target, m *material) string {
	if t.Domain != "" {
		return certs.HandshakeName(t.Domain)
	}
	claimed := func(n string) bool {
		for _, e := range t.extNames {
			if certs.Matches(e, n) {
				return true
			}
		}
		return false
	}
	var wild []string
	for _, d := range m.domains {
		if strings.HasPrefix(d, "*.") {
			wild = append(wild, d)
			continue
		}
		if !claimed(d) {
			return d
		}
	}
	for _, d := range wild {
		for _, label := range []string{"www", "probe", "slb-cert-rotator-probe"} {
			if n := label + d[1:]; !claimed(n) {
				return n
			}
		}
	}
	return ""
}

// cleanup deletes superseded certificates of this pair that we created and
// nothing in the region references, beyond the newest keep. Duplicates with
// the new fingerprint (other than the one in use) are always removed.
//
// The region's certificates are the plan's listing (refreshed after an
// upload). The references come from the discovery inventory adjusted by
// this rotation's outcomes and by what the verification listings saw
// (seen); only when discovery did not run is the region inventoried again.
// A delete refused because the certificate is referenced after all
// (attached meanwhile) keeps it: reported in kept, not as an error, never
// retried.
// refs are the references of every lane sharing p's store (storeRefs).
func (r *Rotator) cleanup(ctx context.Context, p *regionPlan, m *material, keep int, refs map[string]bool) ([]DeletedCertificate, []KeptCertificate, []string) {
	region, inUse := p.region, p.certID
	var msgs []string
	certs := p.certs
	owned := ownedBy(p.port, m.name)
	var superseded, dupes []clb.ServerCertificate
	for _, c := range certs {
		if c.ID == inUse || refs[c.ID] || !owned(c) {
			continue
		}
		if sameFingerprint(c.Fingerprint, m.fingerprint) {
			dupes = append(dupes, c)
		} else {
			superseded = append(superseded, c)
		}
	}
	sort.Slice(superseded, func(i, j int) bool {
		a, b := superseded[i], superseded[j]
		if !a.CreateTime.Equal(b.CreateTime) {
			return a.CreateTime.After(b.CreateTime)
		}
		return a.Name > b.Name
	})
	if keep < 0 {
		keep = 0
	}
	if keep < len(superseded) {
		dupes = append(dupes, superseded[keep:]...)
	}
	var deleted []DeletedCertificate
	var kept []KeptCertificate
	for _, c := range dupes {
		err := p.port.Delete(ctx, region, c.ID)
		switch {
		case errors.Is(err, apierr.ErrConflict):
			// Referenced after all (CertificateAndPrivateKeyIsRefered):
			// someone attached it since the inventory. Keep it.
			kept = append(kept, KeptCertificate{Region: region, ServerCertificateID: c.ID, Name: c.Name, Reason: KeptInUse})
		case err != nil:
			msgs = append(msgs, fmt.Sprintf("cleanup: delete %s (%s) in %s: %v", c.ID, c.Name, region, err))
		default:
			deleted = append(deleted, DeletedCertificate{Region: region, ServerCertificateID: c.ID, Name: c.Name})
		}
	}
	return deleted, kept, msgs
}

// inventoryReferences is the set of certificate ids referenced in p's
// region after the switches: every place the discovery inventory or the
// verification listings (seen) saw, except the targets, whose references
// are their outcomes' final certificates.
func inventoryReferences(p *regionPlan, outs []*targetOutcome, seen map[string]string) map[string]bool {
	refs := map[string]bool{}
	targeted := map[string]bool{}
	for _, o := range outs {
		if o.t.lane() != p.lane() {
			continue
		}
		targeted[o.t.place()] = true
		for _, id := range o.final {
			refs[id] = true
		}
	}
	for _, places := range []map[string]string{p.inventory, seen} {
		for place, id := range places {
			if !targeted[place] {
				refs[id] = true
			}
		}
	}
	delete(refs, "")
	return refs
}

func withoutCertificate(certs []clb.ServerCertificate, id string) []clb.ServerCertificate {
	out := make([]clb.ServerCertificate, 0, len(certs))
	for _, c := range certs {
		if c.ID != id {
			out = append(out, c)
		}
	}
	return out
}

// nameBase is the (sanitised) name part of the certificates the rotation
// uploads for pair name: certs.CertificateName gives <base>-<yyyymmdd>-<fp8>.
func nameBase(name string) string {
	base, _, _, _ := certs.ParseCertificateName(certs.CertificateName(name, time.Unix(0, 0), "0000000000"))
	return base
}

// ownedName reports whether a certificate name is one the rotation gives to
// the pair whose name base is base.
func ownedName(name, base string) bool {
	b, _, _, ok := certs.ParseCertificateName(name)
	return ok && b == base
}
