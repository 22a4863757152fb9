package provisioning

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// InstanceSpec is what CreateLoadBalancer needs. Its fields are in the same
// order and of the same types as aliyun.LoadBalancerSpec, so the wiring can
// convert one into the other.
type InstanceSpec struct {
	Name, AddressType, Spec, PayType, MasterZone, SlaveZone string
	Bandwidth                                               int
	Tags                                                    map[string]string
}

// SLB is the part of the Classic Load Balancer API provisioning uses. The
// aliyun adapter satisfies it (through a one-line conversion of the spec).
type SLB interface {
	ListLoadBalancers(ctx context.Context, region string) ([]clb.LoadBalancer, error)
	DescribeLoadBalancer(ctx context.Context, region, id string) (clb.LoadBalancer, []clb.Backend, error)
	CreateLoadBalancer(ctx context.Context, region string, spec InstanceSpec, clientToken string) (clb.LoadBalancer, error)
	DeleteLoadBalancer(ctx context.Context, region, id string) error
	AddBackendServers(ctx context.Context, region, lbID string, b []clb.Backend) error
	RemoveBackendServers(ctx context.Context, region, lbID string, ids []string) error
	ListHTTPSListeners(ctx context.Context, region string, lbIDs []string) ([]clb.Listener, error)
	DescribeHTTPSListener(ctx context.Context, region, lbID string, port int) (clb.Listener, []clb.DomainExtension, error)
	ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error)
	CreateHTTPSListener(ctx context.Context, region string, l clb.Listener) error
	SetHTTPSListenerAttribute(ctx context.Context, region string, l clb.Listener) error
	StartListener(ctx context.Context, region, lbID string, port int) error
	DeleteListener(ctx context.Context, region, lbID string, port int) error
	CreateDomainExtension(ctx context.Context, region, lbID string, port int, domain, certID string) (string, error)
	SetDomainExtensionCertificate(ctx context.Context, region, extID, certID string) error
	DeleteDomainExtension(ctx context.Context, region, extID string) error
	ListServerCertificates(ctx context.Context, region string) ([]clb.ServerCertificate, error)
	UploadServerCertificate(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error)
	DeleteServerCertificate(ctx context.Context, region, id string) error
}

// Pair is a validated, normalised certificate pair from the bucket, as the
// rotation loads it. KeyPEM is secret: Pair's String, LogValue and
// MarshalJSON never show it.
type Pair struct {
	// Name is the pair's name in the bucket (certs/<name>/).
	Name string
	// CertificateName is the server certificate name to upload under
	// (certs.CertificateName); empty = <name>-<notAfter yyyymmdd>-<fp8>.
	CertificateName string
	// CertPEM is the normalised chain, leaf first.
	CertPEM string
	// KeyPEM is the PKCS#1 private key.
	KeyPEM string
}

// String shows the pair without its key.
func (p Pair) String() string { return "pair " + p.Name + " (key redacted)" }

// GoString shows the pair without its key (%#v).
func (p Pair) GoString() string { return p.String() }

// LogValue shows the pair without its key.
func (p Pair) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("key", "[redacted]"))
}

// MarshalJSON shows the pair without its key.
func (p Pair) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	}{p.Name, "[redacted]"})
}

// PairLoader loads and validates a pair by name exactly as the rotation
// does (rotation.LoadPair). Errors that retrying cannot fix (missing pair,
// bad PEM, key mismatch, expiring) must answer apierr.Permanent.
type PairLoader interface {
	LoadPair(ctx context.Context, name string, now time.Time) (Pair, error)
}

// Provisioner applies, plans and destroys the desired state of one load
// balancer. The zero values of the tuning fields are sensible defaults.
type Provisioner struct {
	SLB   SLB
	Pairs PairLoader
	// WaitTimeout bounds the wait for a started listener to be running
	// (default 2 minutes; the ctx deadline bounds it too).
	WaitTimeout time.Duration
	// PollInterval is the first delay between status polls; it doubles up
	// to 2 s (default 200 ms).
	PollInterval time.Duration
	// RollbackTimeout bounds the rollback after a failure; the rollback
	// runs even when ctx is already done (default 1 minute).
	RollbackTimeout time.Duration
	// Locks serialises Apply and Destroy of one instance across invocations
	// (nil: no lock). Plan never locks.
	Locks Locker
}

// Statuses of a Result: provisioning's part of the one vocabulary
// (package outcome).
const (
	StatusApplied   = outcome.Applied
	StatusUnchanged = outcome.Unchanged
	StatusPlanned   = outcome.Planned
	StatusDestroyed = outcome.Destroyed
	StatusAbsent    = outcome.Absent
	StatusRejected  = outcome.Rejected
	StatusFailed    = outcome.Failed
)

// Change is one write apply made (or, in a plan, would make).
type Change struct {
	// Op is create, update, delete, replace, upload or start.
	Op string `json:"op"`
	// Resource names what is changed, e.g. "listener 80" or
	// "backend i-8vb...".
	Resource string `json:"resource"`
	Detail   string `json:"detail,omitempty"`
}

// String renders "op resource (detail)".
func (c Change) String() string {
	s := c.Op + " " + c.Resource
	if c.Detail != "" {
		s += " (" + c.Detail + ")"
	}
	return s
}

// ListenerState is a listener as it stands after apply.
type ListenerState struct {
	Port          int    `json:"port"`
	Status        string `json:"status"`
	CertificateID string `json:"certificateId"`
}

// CertificateRef is the server certificate used for one pair.
type CertificateRef struct {
	Pair        string `json:"pair"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Fingerprint string `json:"fingerprint"`
	// Reused is true when a certificate with the same fingerprint existed.
	Reused bool `json:"reused"`
}

// KeptCertificate is a certificate destroy did not delete, and why.
type KeptCertificate struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// Result is the outcome of Apply, Plan or Destroy, and the function's return
// value. It never holds key material.
type Result struct {
	Action         string            `json:"action"`
	Status         outcome.Status    `json:"status"`
	Region         string            `json:"region"`
	Name           string            `json:"name"`
	LoadBalancerID string            `json:"loadBalancerId,omitempty"`
	Address        string            `json:"address,omitempty"`
	Listeners      []ListenerState   `json:"listeners,omitempty"`
	Certificates   []CertificateRef  `json:"certificates,omitempty"`
	Changes        []Change          `json:"changes"`
	RolledBack     []Change          `json:"rolledBack,omitempty"`
	RollbackErrors []string          `json:"rollbackErrors,omitempty"`
	Kept           []KeptCertificate `json:"kept,omitempty"`
	Warnings       []string          `json:"warnings,omitempty"`
	Problems       []string          `json:"problems,omitempty"`
	Error          string            `json:"error,omitempty"`
}

// Rejected builds the result for a payload refused before any call.
func Rejected(action string, err error) Result {
	res := Result{Action: action, Status: StatusRejected, Changes: []Change{}, Error: err.Error()}
	var ve *ValidationError
	if errors.As(err, &ve) {
		res.Problems = ve.Strings()
	}
	return res
}

// ClientToken derives CreateLoadBalancer's idempotency token from the
// canonical instance spec: the same payload always yields the same token,
// so a retried invocation cannot create a second instance. attempt > 0
// yields a fresh token for the case where the service answers a reused
// token with an instance that no longer exists.
func ClientToken(region string, spec InstanceSpec, attempt int) string {
	canon := struct {
		Region, Name, AddressType, Spec, PayType, MasterZone, SlaveZone string
		Bandwidth, Attempt                                              int
	}{region, spec.Name, spec.AddressType, spec.Spec, spec.PayType, spec.MasterZone, spec.SlaveZone, spec.Bandwidth, attempt}
	b, _ := json.Marshal(canon)
	sum := sha256.Sum256(b)
	return "scr-" + hex.EncodeToString(sum[:])[:60] // 64 ASCII characters
}

func (d Desired) instanceSpec() InstanceSpec {
	lb := d.LoadBalancer
	return InstanceSpec{
		Name: lb.Name, AddressType: lb.AddressType, Spec: lb.Spec, PayType: lb.PayType,
		MasterZone: lb.MasterZoneID, SlaveZone: lb.SlaveZoneID, Bandwidth: lb.Bandwidth,
		Tags: map[string]string{clb.OwnerTagKey: clb.OwnerTagValue},
	}
}

// Apply converges the load balancer to d: it creates what is missing,
// updates what differs, starts the listeners and waits until they run. A
// second Apply with the same d makes no write call. When a step fails,
// everything this call created is deleted again in reverse order. Permanent
// failures give a "rejected" result and a nil error; transient ones give a
// "failed" result and the error, so that Function Compute retries.
func (p *Provisioner) Apply(ctx context.Context, now time.Time, d Desired) (Result, error) {
	res, err := p.withLock(ctx, d, func() (Result, error) { return p.converge(ctx, now, d, false) })
	if res.Action == "" { // the lock was not had: nothing ran
		return lockFailed(ActionApply, d, err)
	}
	return res, err
}

// Plan lists the changes Apply would make, calling only read actions.
func (p *Provisioner) Plan(ctx context.Context, now time.Time, d Desired) (Result, error) {
	return p.converge(ctx, now, d, true)
}

// run is the state of one Apply or Plan.
type run struct {
	p      *Provisioner
	region string
	dry    bool
	res    *Result
	undo   []undoStep
}

type undoStep struct {
	change Change
	fn     func(ctx context.Context) error
}

// write records c and, unless planning, performs it. undo, when non-nil,
// is what deletes the thing again if a later step fails.
func (r *run) write(c Change, do func() error, undo func(ctx context.Context) error) error {
	if !r.dry {
		if err := do(); err != nil {
			return err
		}
	}
	r.res.Changes = append(r.res.Changes, c)
	if undo != nil && !r.dry {
		r.undo = append(r.undo, undoStep{change: Change{Op: "delete", Resource: c.Resource}, fn: undo})
	}
	return nil
}

const placeholder = "(new)"

func (p *Provisioner) converge(ctx context.Context, now time.Time, d Desired, dry bool) (Result, error) {
	action := ActionApply
	if dry {
		action = ActionPlan
	}
	res := Result{Action: action, Region: d.Region, Name: d.LoadBalancer.Name, Changes: []Change{}}
	r := &run{p: p, region: d.Region, dry: dry, res: &res}
	if err := r.converge(ctx, now, d); err != nil {
		return r.fail(ctx, err)
	}
	switch {
	case len(res.Changes) == 0:
		res.Status = StatusUnchanged
	case dry:
		res.Status = StatusPlanned
	default:
		res.Status = StatusApplied
	}
	return res, nil
}

// fail rolls back what this run created and classifies err.
func (r *run) fail(ctx context.Context, err error) (Result, error) {
	if len(r.undo) > 0 {
		timeout := r.p.RollbackTimeout
		if timeout <= 0 {
			timeout = time.Minute
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		for i := len(r.undo) - 1; i >= 0; i-- {
			u := r.undo[i]
			if uerr := u.fn(rctx); uerr != nil && !errors.Is(uerr, apierr.ErrNotFound) {
				r.res.RollbackErrors = append(r.res.RollbackErrors, u.change.String()+": "+uerr.Error())
				continue
			}
			r.res.RolledBack = append(r.res.RolledBack, u.change)
		}
	}
	r.res.Error = err.Error()
	if apierr.Permanent(err) {
		r.res.Status = StatusRejected
		var ve *ValidationError
		if errors.As(err, &ve) {
			r.res.Problems = ve.Strings()
		}
		return *r.res, nil
	}
	r.res.Status = StatusFailed
	return *r.res, err
}

// leaf is what provisioning needs to know about a pair's certificate.
type leaf struct {
	pair        Pair
	fingerprint string // SLB form: lower-case hex pairs separated by colons
	name        string
}

func inspect(p Pair) (leaf, error) {
	block, _ := pem.Decode([]byte(p.CertPEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return leaf{}, fmt.Errorf("provisioning: pair %s: no certificate in the chain: %w", p.Name, apierr.ErrInvalid)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return leaf{}, fmt.Errorf("provisioning: pair %s: parse leaf: %v: %w", p.Name, err, apierr.ErrInvalid)
	}
	l := leaf{pair: p, fingerprint: certs.FingerprintSHA1(cert.Raw), name: p.CertificateName}
	if l.name == "" {
		l.name = certs.CertificateName(p.Name, cert.NotAfter, l.fingerprint)
	}
	return l, nil
}

// findInstance finds the instance by name. An instance of that name
// without our tag is never adopted: that is a conflict.
func findInstance(ctx context.Context, s SLB, region, name string) (clb.LoadBalancer, bool, error) {
	lbs, err := s.ListLoadBalancers(ctx, region)
	if err != nil {
		return clb.LoadBalancer{}, false, fmt.Errorf("provisioning: list load balancers in %s: %w", region, err)
	}
	var ours, foreign []clb.LoadBalancer
	for _, lb := range lbs {
		if lb.Name != name {
			continue
		}
		if lb.Tags[clb.OwnerTagKey] == clb.OwnerTagValue {
			ours = append(ours, lb)
		} else {
			foreign = append(foreign, lb)
		}
	}
	switch {
	case len(ours) == 1:
		return ours[0], true, nil
	case len(ours) > 1:
		ids := make([]string, len(ours))
		for i, lb := range ours {
			ids[i] = lb.ID
		}
		return clb.LoadBalancer{}, false, fmt.Errorf("provisioning: %d instances named %s in %s carry our tag (%s); delete the extra ones: %w",
			len(ours), name, region, strings.Join(ids, ", "), apierr.ErrConflict)
	case len(foreign) > 0:
		return clb.LoadBalancer{}, false, fmt.Errorf("provisioning: instance %s (%s) in %s exists but was not created by slb-cert-rotator (no %s=%s tag); tag it to adopt it or choose another name: %w",
			name, foreign[0].ID, region, clb.OwnerTagKey, clb.OwnerTagValue, apierr.ErrConflict)
	}
	return clb.LoadBalancer{}, false, nil
}

func (r *run) converge(ctx context.Context, now time.Time, d Desired) error {
	s := r.p.SLB
	region := d.Region

	// 1. Load every pair first: a bad pair must stop us before any write.
	leaves := map[string]leaf{}
	for _, name := range pairNames(d) {
		pair, err := r.p.Pairs.LoadPair(ctx, name, now)
		if err != nil {
			return fmt.Errorf("provisioning: certificate pair %s: %w", name, err)
		}
		l, err := inspect(pair)
		if err != nil {
			return err
		}
		leaves[name] = l
	}

	// 2. The instance.
	lb, found, err := findInstance(ctx, s, region, d.LoadBalancer.Name)
	if err != nil {
		return err
	}
	var backends []clb.Backend
	if found {
		r.checkImmutable(lb, d)
		var full clb.LoadBalancer
		full, backends, err = s.DescribeLoadBalancer(ctx, region, lb.ID)
		if err != nil {
			return fmt.Errorf("provisioning: describe load balancer %s in %s: %w", lb.ID, region, err)
		}
		if full.Address != "" {
			lb.Address = full.Address
		}
	} else {
		lb, err = r.createInstance(ctx, d)
		if err != nil {
			return err
		}
	}
	r.res.LoadBalancerID = lb.ID
	r.res.Address = lb.Address

	// 3. Backends.
	if err := r.backends(ctx, lb.ID, found, backends, d.Backends); err != nil {
		return err
	}

	// 4. Certificates: one per pair, reused by fingerprint.
	certIDs := map[string]string{}
	if len(leaves) > 0 {
		if err := r.certificates(ctx, leaves, certIDs); err != nil {
			return err
		}
	}

	// 5. Listeners.
	return r.listeners(ctx, lb.ID, found, d.Listeners, certIDs)
}

func pairNames(d Desired) []string {
	set := map[string]bool{}
	for _, l := range d.Listeners {
		set[l.Certificate] = true
		for _, e := range l.DomainExtensions {
			set[e.Certificate] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// checkImmutable warns about instance attributes that differ from the
// payload but that apply does not change (they need a new instance).
func (r *run) checkImmutable(lb clb.LoadBalancer, d Desired) {
	want := d.LoadBalancer
	diff := func(field, have, wantV string) {
		if have != "" && wantV != "" && have != wantV {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("loadBalancer.%s is %s on %s, payload says %s; not changed (recreate the instance to change it)", field, have, lb.ID, wantV))
		}
	}
	diff("spec", lb.Spec, want.Spec)
	diff("payType", lb.PayType, want.PayType)
	diff("addressType", lb.AddressType, want.AddressType)
	diff("masterZoneId", lb.MasterZone, want.MasterZoneID)
	diff("slaveZoneId", lb.SlaveZone, want.SlaveZoneID)
}

func (r *run) createInstance(ctx context.Context, d Desired) (clb.LoadBalancer, error) {
	s, region := r.p.SLB, r.region
	spec := d.instanceSpec()
	change := Change{Op: "create", Resource: "load balancer " + spec.Name,
		Detail: fmt.Sprintf("%s, %s, %s/%s, %s", spec.Spec, spec.PayType, spec.MasterZone, spec.SlaveZone, spec.AddressType)}
	if r.dry {
		r.res.Changes = append(r.res.Changes, change)
		return clb.LoadBalancer{ID: placeholder}, nil
	}
	const attempts = 3
	for attempt := 0; attempt < attempts; attempt++ {
		token := ClientToken(region, spec, attempt)
		lb, err := s.CreateLoadBalancer(ctx, region, spec, token)
		if err != nil {
			return clb.LoadBalancer{}, fmt.Errorf("provisioning: create load balancer %s in %s: %w", spec.Name, region, err)
		}
		// A reused token may answer with an instance deleted since (an
		// earlier apply, destroyed): check it exists, else use the next token.
		full, _, err := s.DescribeLoadBalancer(ctx, region, lb.ID)
		if errors.Is(err, apierr.ErrNotFound) {
			continue
		}
		if err != nil {
			return clb.LoadBalancer{}, fmt.Errorf("provisioning: describe new load balancer %s in %s: %w", lb.ID, region, err)
		}
		if lb.Address == "" {
			lb.Address = full.Address
		}
		id := lb.ID
		change.Resource += " " + id
		r.res.Changes = append(r.res.Changes, change)
		r.undo = append(r.undo, undoStep{change: Change{Op: "delete", Resource: change.Resource}, fn: func(ctx context.Context) error {
			return s.DeleteLoadBalancer(ctx, region, id)
		}})
		return lb, nil
	}
	return clb.LoadBalancer{}, fmt.Errorf("provisioning: create load balancer %s in %s: the service kept answering with deleted instances: %w", spec.Name, region, apierr.ErrTransient)
}

func (r *run) backends(ctx context.Context, lbID string, found bool, current []clb.Backend, want []BackendSpec) error {
	s, region := r.p.SLB, r.region
	have := map[string]clb.Backend{}
	for _, b := range current {
		have[b.ServerID] = b
	}
	var put []clb.Backend
	var added []string
	var changes []Change
	wanted := map[string]bool{}
	for _, b := range want {
		wanted[b.ServerID] = true
		nb := clb.Backend{ServerID: b.ServerID, Weight: b.EffectiveWeight(), Type: b.Type}
		cur, ok := have[b.ServerID]
		switch {
		case !ok:
			put = append(put, nb)
			added = append(added, b.ServerID)
			changes = append(changes, Change{Op: "create", Resource: "backend " + b.ServerID, Detail: fmt.Sprintf("weight %d", nb.Weight)})
		case cur.Weight != nb.Weight:
			put = append(put, nb)
			changes = append(changes, Change{Op: "update", Resource: "backend " + b.ServerID, Detail: fmt.Sprintf("weight %d -> %d", cur.Weight, nb.Weight)})
		}
	}
	if len(put) > 0 {
		if !r.dry {
			if err := s.AddBackendServers(ctx, region, lbID, put); err != nil {
				return fmt.Errorf("provisioning: add backend servers to %s in %s: %w", lbID, region, err)
			}
		}
		r.res.Changes = append(r.res.Changes, changes...)
		if found && len(added) > 0 && !r.dry {
			ids := added
			r.undo = append(r.undo, undoStep{change: Change{Op: "delete", Resource: "backends " + strings.Join(ids, ", ")}, fn: func(ctx context.Context) error {
				return s.RemoveBackendServers(ctx, region, lbID, ids)
			}})
		}
	}
	var extra []string
	for _, b := range current {
		if !wanted[b.ServerID] {
			extra = append(extra, b.ServerID)
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		err := r.write(Change{Op: "delete", Resource: "backends " + strings.Join(extra, ", "), Detail: "not in the payload"}, func() error {
			if err := s.RemoveBackendServers(ctx, region, lbID, extra); err != nil {
				return fmt.Errorf("provisioning: remove backend servers from %s in %s: %w", lbID, region, err)
			}
			return nil
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *run) certificates(ctx context.Context, leaves map[string]leaf, certIDs map[string]string) error {
	s, region := r.p.SLB, r.region
	existing, err := s.ListServerCertificates(ctx, region)
	if err != nil {
		return fmt.Errorf("provisioning: list server certificates in %s: %w", region, err)
	}
	names := make([]string, 0, len(leaves))
	for n := range leaves {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		l := leaves[name]
		var match *clb.ServerCertificate
		for i := range existing {
			c := &existing[i]
			if certs.NormalizeFingerprint(c.Fingerprint) != l.fingerprint {
				continue
			}
			if match == nil || (c.Ours() && !match.Ours()) {
				match = c
			}
		}
		if match != nil {
			certIDs[name] = match.ID
			r.res.Certificates = append(r.res.Certificates, CertificateRef{Pair: name, ID: match.ID, Name: match.Name, Fingerprint: l.fingerprint, Reused: true})
			continue
		}
		ref := CertificateRef{Pair: name, ID: placeholder, Name: l.name, Fingerprint: l.fingerprint}
		change := Change{Op: "upload", Resource: "certificate " + l.name, Detail: "pair " + name + ", fingerprint " + l.fingerprint}
		err := r.write(change, func() error {
			sc, err := s.UploadServerCertificate(ctx, region, l.name, l.pair.CertPEM, l.pair.KeyPEM, map[string]string{clb.OwnerTagKey: clb.OwnerTagValue})
			if err != nil {
				return fmt.Errorf("provisioning: upload certificate %s in %s: %w", l.name, region, err)
			}
			ref.ID = sc.ID
			return nil
		}, func(ctx context.Context) error {
			return s.DeleteServerCertificate(ctx, region, ref.ID)
		})
		if err != nil {
			return err
		}
		certIDs[name] = ref.ID
		r.res.Certificates = append(r.res.Certificates, ref)
	}
	return nil
}

func (r *run) listeners(ctx context.Context, lbID string, found bool, want []ListenerSpec, certIDs map[string]string) error {
	s, region := r.p.SLB, r.region
	current := map[int]clb.Listener{}
	if found {
		ls, err := s.ListHTTPSListeners(ctx, region, []string{lbID})
		if err != nil {
			return fmt.Errorf("provisioning: list listeners of %s in %s: %w", lbID, region, err)
		}
		for _, l := range ls {
			if l.LoadBalancerID == "" || l.LoadBalancerID == lbID {
				current[l.Port] = l
			}
		}
	}
	sorted := append([]ListenerSpec(nil), want...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].FrontendPort < sorted[j].FrontendPort })
	wanted := map[int]bool{}
	for _, spec := range sorted {
		wanted[spec.FrontendPort] = true
		st, err := r.listener(ctx, lbID, spec, certIDs, current)
		if err != nil {
			return err
		}
		r.res.Listeners = append(r.res.Listeners, st)
	}
	var extra []int
	for port := range current {
		if !wanted[port] {
			extra = append(extra, port)
		}
	}
	sort.Ints(extra)
	for _, port := range extra {
		err := r.write(Change{Op: "delete", Resource: fmt.Sprintf("listener %d", port), Detail: "not in the payload"}, func() error {
			if err := s.DeleteListener(ctx, region, lbID, port); err != nil {
				return fmt.Errorf("provisioning: delete listener %s:%d in %s: %w", lbID, port, region, err)
			}
			return nil
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *run) listener(ctx context.Context, lbID string, spec ListenerSpec, certIDs map[string]string, current map[int]clb.Listener) (ListenerState, error) {
	s, region := r.p.SLB, r.region
	port := spec.FrontendPort
	res := fmt.Sprintf("listener %d", port)
	want := clb.Listener{
		Region: region, LoadBalancerID: lbID, Port: port, Protocol: "https",
		BackendPort: spec.BackendPort, Bandwidth: *spec.Bandwidth, ServerCertificateID: certIDs[spec.Certificate],
		HealthCheck: spec.HealthCheck, StickySession: spec.StickySession,
	}
	create := func(op, detail string) error {
		return r.write(Change{Op: op, Resource: res, Detail: detail}, func() error {
			if err := s.CreateHTTPSListener(ctx, region, want); err != nil {
				return fmt.Errorf("provisioning: create HTTPS listener %s:%d in %s: %w", lbID, port, region, err)
			}
			return nil
		}, func(ctx context.Context) error { return s.DeleteListener(ctx, region, lbID, port) })
	}
	status := "stopped"
	var exts []clb.DomainExtension
	if _, ok := current[port]; !ok {
		detail := fmt.Sprintf("https %d -> %d, bandwidth %d, health check %s, session persistence %s, certificate %s",
			port, spec.BackendPort, want.Bandwidth, want.HealthCheck, want.StickySession, spec.Certificate)
		if err := create("create", detail); err != nil {
			return ListenerState{}, err
		}
	} else {
		cur, ce, err := s.DescribeHTTPSListener(ctx, region, lbID, port)
		if err != nil {
			return ListenerState{}, fmt.Errorf("provisioning: describe HTTPS listener %s:%d in %s: %w", lbID, port, region, err)
		}
		exts = ce
		status = cur.Status
		if cur.BackendPort != 0 && cur.BackendPort != want.BackendPort {
			// The backend port cannot be changed in place.
			err := r.write(Change{Op: "delete", Resource: res, Detail: fmt.Sprintf("backend port %d -> %d needs a new listener", cur.BackendPort, want.BackendPort)}, func() error {
				if err := s.DeleteListener(ctx, region, lbID, port); err != nil {
					return fmt.Errorf("provisioning: delete listener %s:%d in %s: %w", lbID, port, region, err)
				}
				return nil
			}, nil)
			if err != nil {
				return ListenerState{}, err
			}
			if err := create("create", fmt.Sprintf("https %d -> %d", port, spec.BackendPort)); err != nil {
				return ListenerState{}, err
			}
			status, exts = "stopped", nil
		} else if diffs := listenerDiff(cur, want); len(diffs) > 0 {
			err := r.write(Change{Op: "update", Resource: res, Detail: strings.Join(diffs, ", ")}, func() error {
				if err := s.SetHTTPSListenerAttribute(ctx, region, want); err != nil {
					return fmt.Errorf("provisioning: set HTTPS listener %s:%d in %s: %w", lbID, port, region, err)
				}
				return nil
			}, nil)
			if err != nil {
				return ListenerState{}, err
			}
		}
	}
	if err := r.domainExtensions(ctx, lbID, port, spec.DomainExtensions, exts, certIDs); err != nil {
		return ListenerState{}, err
	}
	if status != "running" {
		if status == "stopped" || status == "" {
			err := r.write(Change{Op: "start", Resource: res}, func() error {
				if err := s.StartListener(ctx, region, lbID, port); err != nil {
					return fmt.Errorf("provisioning: start listener %s:%d in %s: %w", lbID, port, region, err)
				}
				return nil
			}, nil)
			if err != nil {
				return ListenerState{}, err
			}
		}
		if r.dry {
			status = "running"
		} else {
			st, err := r.waitRunning(ctx, lbID, port)
			if err != nil {
				return ListenerState{}, err
			}
			status = st
		}
	}
	return ListenerState{Port: port, Status: status, CertificateID: want.ServerCertificateID}, nil
}

// listenerDiff names the attributes of cur that differ from want. An empty
// current value means the API did not report it and is not a difference.
func listenerDiff(cur, want clb.Listener) []string {
	var out []string
	str := func(name, have, w string) {
		if have != "" && have != w {
			out = append(out, fmt.Sprintf("%s %s -> %s", name, have, w))
		}
	}
	if cur.Bandwidth != want.Bandwidth {
		out = append(out, fmt.Sprintf("bandwidth %d -> %d", cur.Bandwidth, want.Bandwidth))
	}
	str("health check", cur.HealthCheck, want.HealthCheck)
	str("session persistence", cur.StickySession, want.StickySession)
	if cur.ServerCertificateID != want.ServerCertificateID {
		out = append(out, fmt.Sprintf("certificate %s -> %s", orNone(cur.ServerCertificateID), want.ServerCertificateID))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func (r *run) domainExtensions(ctx context.Context, lbID string, port int, want []DomainExtensionSpec, have []clb.DomainExtension, certIDs map[string]string) error {
	s, region := r.p.SLB, r.region
	byDomain := map[string]clb.DomainExtension{}
	for _, e := range have {
		byDomain[strings.ToLower(e.Domain)] = e
	}
	wanted := map[string]bool{}
	for _, e := range want {
		dom := strings.ToLower(e.Domain)
		wanted[dom] = true
		certID := certIDs[e.Certificate]
		res := fmt.Sprintf("domain extension %s on listener %d", dom, port)
		cur, ok := byDomain[dom]
		switch {
		case !ok:
			var extID string
			err := r.write(Change{Op: "create", Resource: res, Detail: "certificate " + e.Certificate}, func() error {
				id, err := s.CreateDomainExtension(ctx, region, lbID, port, dom, certID)
				if err != nil {
					return fmt.Errorf("provisioning: create domain extension %s on %s:%d in %s: %w", dom, lbID, port, region, err)
				}
				extID = id
				return nil
			}, func(ctx context.Context) error { return s.DeleteDomainExtension(ctx, region, extID) })
			if err != nil {
				return err
			}
		case cur.ServerCertificateID != certID:
			err := r.write(Change{Op: "update", Resource: res, Detail: fmt.Sprintf("certificate %s -> %s", orNone(cur.ServerCertificateID), certID)}, func() error {
				if err := s.SetDomainExtensionCertificate(ctx, region, cur.ID, certID); err != nil {
					return fmt.Errorf("provisioning: set domain extension %s (%s) in %s: %w", dom, cur.ID, region, err)
				}
				return nil
			}, nil)
			if err != nil {
				return err
			}
		}
	}
	for _, e := range have {
		dom := strings.ToLower(e.Domain)
		if wanted[dom] {
			continue
		}
		err := r.write(Change{Op: "delete", Resource: fmt.Sprintf("domain extension %s on listener %d", dom, port), Detail: "not in the payload"}, func() error {
			if err := s.DeleteDomainExtension(ctx, region, e.ID); err != nil {
				return fmt.Errorf("provisioning: delete domain extension %s (%s) in %s: %w", dom, e.ID, region, err)
			}
			return nil
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

// waitRunning polls the listener with doubling delays until it runs,
// bounded by WaitTimeout and ctx.
func (r *run) waitRunning(ctx context.Context, lbID string, port int) (string, error) {
	timeout := r.p.WaitTimeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	delay := r.p.PollInterval
	if delay <= 0 {
		delay = 200 * time.Millisecond
	}
	deadline := time.Now().Add(timeout)
	for {
		l, _, err := r.p.SLB.DescribeHTTPSListener(ctx, r.region, lbID, port)
		if err != nil {
			return "", fmt.Errorf("provisioning: wait for listener %s:%d in %s: %w", lbID, port, r.region, err)
		}
		if l.Status == "running" {
			return l.Status, nil
		}
		if time.Now().Add(delay).After(deadline) {
			return "", fmt.Errorf("provisioning: listener %s:%d in %s still %s after %s: %w", lbID, port, r.region, orNone(l.Status), timeout, apierr.ErrTransient)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("provisioning: wait for listener %s:%d in %s: %w", lbID, port, r.region, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 2*time.Second)
	}
}
