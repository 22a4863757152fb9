package rotation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
)

// material is a validated pair as the rotation uses it.
type material struct {
	name        string
	certName    string // the server certificate name to upload as
	certPEM     string
	key         certs.PrivateKey // redacted in every printed form
	fingerprint string           // SHA-1, colon hex, lower case (as SLB shows it)
	sha256      string
	notAfter    time.Time
	domains     []string
	ecdsa       bool // an ECDSA pair: only ports that take ECDSA get it
}

// target is one planned target.
type target struct {
	clb.Target
	product    string     // the product's name (Product.Name)
	port       TargetPort // the product's port
	extID      string     // SNI place id ("" for a listener default certificate)
	listenerID string     // the listener's id where the product names listeners
	address    string     // the load balancer's address (for the probe)
	status     string     // listener status
	from       string     // certificate id before
	fromFP     string     // its fingerprint
	to         string     // certificate id after (set after upload)
	source     string
	extNames   []string // domains of the listener's extensions (default targets: avoid them as SNI)
	// facts is closed once extNames is known (a discovered listener default
	// target learns it from its own listener's extension listing, which may
	// end after the target is switched); noFacts is set when that listing
	// failed (the target is then not probed: the SNI could hit an extension).
	facts   chan struct{}
	noFacts bool
}

// closedFacts is the facts channel of a target whose facts are all known.
var closedFacts = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// place identifies what a target points at a certificate: a listener's
// default certificate or a domain extension.
func (t *target) place() string {
	if t.extID != "" {
		return inventory.PlaceOfSNI(t.extID)
	}
	return inventory.PlaceOfListener(t.LoadBalancerID, t.ListenerPort)
}

func (t *target) key() string {
	if t.product != "" && t.product != clb.ProductCLB {
		return t.product + ":" + t.Region + "/" + t.listenerKey() + "/" + strings.ToLower(t.Domain)
	}
	return t.Region + "/" + t.LoadBalancerID + "/" + fmt.Sprint(t.ListenerPort) + "/" + strings.ToLower(t.Domain)
}

// portKey is key() with the listener named by port (how a pinned ALB or
// NLB target without a listener id is keyed).
func (t *target) portKey() string {
	c := *t
	c.listenerID = ""
	return c.key()
}

// listenerKey names a target's listener within its load balancer.
func (t *target) listenerKey() string {
	if t.listenerID != "" {
		return t.LoadBalancerID + "/" + t.listenerID
	}
	return t.LoadBalancerID + "/" + fmt.Sprint(t.ListenerPort)
}

// regionPlan is what the rotation will do with one product in one region
// (a lane).
type regionPlan struct {
	product string
	port    TargetPort
	region  string
	certs   []clb.ServerCertificate
	targets []*target
	certID  string // chosen certificate id ("" until uploaded)
	reused  bool
	// inventory maps every place of the region (inventory.PlaceOfListener, inventory.PlaceOfSNI) to
	// the certificate it referenced when discovery listed the region; nil
	// when discovery did not run (explicit targets only).
	inventory map[string]string
	// skipped are the places left alone because they serve a certificate
	// that expires after the pair (never rotate backwards).
	skipped []SkippedTarget
	// base is the caller's complete snapshot of the lane (Request.Snapshots),
	// nil when there is none: discovery then lists the whole lane.
	base *inventory.Snapshot
}

// planSink receives a region's facts as planning learns them, so that the
// pipelined rotation can act on each target as soon as it is known. Calls
// come from the region's planning goroutines (concurrently for one region).
type planSink interface {
	// explicitChecked: every explicit target of the region exists.
	explicitChecked(region string)
	// added: a new target (its facts may still be pending, see target.facts).
	added(ctx context.Context, t *target)
	// listenersFinal: the region's listener default targets are all known.
	listenersFinal(ctx context.Context, region string)
	// extensionsFinal: the extension targets on listener lbID:port are all
	// known.
	extensionsFinal(ctx context.Context, region, lbID string, port int)
}

// collectSink collects the whole plan before anything acts on it (dry runs).
type collectSink struct{}

func (collectSink) explicitChecked(string)                               {}
func (collectSink) added(context.Context, *target)                       {}
func (collectSink) listenersFinal(context.Context, string)               {}
func (collectSink) extensionsFinal(context.Context, string, string, int) {}

// lanesOf is the lanes (product, region) a rotation plans, in order (for
// each product: discovery's regions, then the explicit targets' others,
// sorted), and the explicit targets of each lane. An explicit target of a
// product that is not configured is refused.
func (r *Rotator) lanesOf(d pairs.Deploy, deployFile string, snaps Snapshots) ([]*regionPlan, map[string][]clb.Target, error) {
	explicit := map[string][]clb.Target{}
	for i, t := range d.Targets {
		if _, ok := r.product(t.Type); !ok {
			return nil, nil, &certs.Error{File: deployFile, Problem: fmt.Sprintf("targets[%d] (%s) is of type %s, which this deployment does not rotate", i, t, t.Type),
				Fix: "configure the product's endpoint and permissions, or remove the target", Err: ErrUnknownTarget}
		}
		k := laneKey(productName(t.Type), t.Region)
		explicit[k] = append(explicit[k], t)
	}
	var lanes []*regionPlan
	for _, prod := range r.products() {
		seen := map[string]bool{}
		add := func(reg string) {
			if reg != "" && !seen[reg] {
				seen[reg] = true
				lanes = append(lanes, &regionPlan{product: prod.Name, port: prod.Port, region: reg, base: snaps.usable(laneKey(prod.Name, reg))})
			}
		}
		if d.DiscoverEnabled() {
			for _, reg := range r.Config.Regions {
				add(reg)
			}
		}
		var extra []string
		for _, t := range d.Targets {
			if productName(t.Type) == prod.Name {
				extra = append(extra, t.Region)
			}
		}
		sort.Strings(extra)
		for _, reg := range extra {
			add(reg)
		}
	}
	return lanes, explicit, nil
}

// productName is a deploy.yaml target type as a product name ("" is CLB).
func productName(typ string) string {
	if typ == "" {
		return clb.ProductCLB
	}
	return typ
}

// plan resolves the targets of every region before anything acts on them
// (dry runs): explicit ones from deploy.yaml (each must exist) and, when
// discovery is on, every listener default certificate and domain extension
// whose current certificate's domains are all covered by the new
// certificate.
func (r *Rotator) plan(ctx context.Context, m *material, d pairs.Deploy, deployFile string, snaps Snapshots) ([]*regionPlan, error) {
	plans, explicit, err := r.lanesOf(d, deployFile, snaps)
	if err != nil {
		return nil, err
	}
	errs := forEach(ctx, len(plans), r.concurrency(), func(ctx context.Context, i int) error {
		return r.planRegion(ctx, plans[i], m, d.DiscoverEnabled(), d.Force, explicit[plans[i].lane()], deployFile, collectSink{})
	})
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return plans, nil
}

// planner collects one region's targets (mu guards p's targets, skipped
// and inventory while discovery's listings run concurrently).
type planner struct {
	mu         sync.Mutex
	sink       planSink
	p          *regionPlan
	m          *material
	byID       map[string]clb.ServerCertificate
	lbByID     map[string]inventory.Instance
	found      map[string]*target
	skipped    map[string]bool
	force      bool
	deployFile string
}

func newPlanner(p *regionPlan, m *material, lbs []inventory.Instance, force bool, deployFile string, sink planSink) *planner {
	pl := &planner{sink: sink, p: p, m: m, byID: make(map[string]clb.ServerCertificate, len(p.certs)), lbByID: make(map[string]inventory.Instance, len(lbs)),
		found: map[string]*target{}, skipped: map[string]bool{}, force: force, deployFile: deployFile}
	for _, c := range p.certs {
		pl.byID[c.ID] = c
	}
	for _, lb := range lbs {
		pl.lbByID[lb.ID] = lb
	}
	return pl
}

// add plans t once (an explicit target found again by discovery stays
// explicit) and tells the sink about a new one; the caller holds pl.mu.
func (pl *planner) add(ctx context.Context, t *target) {
	label(t)
	if old, ok := pl.found[t.key()]; ok {
		if t.source == "explicit" {
			old.source = "explicit"
		}
		return
	}
	if t.facts == nil {
		t.facts = closedFacts
	}
	pl.found[t.key()] = t
	pl.p.targets = append(pl.p.targets, t)
	pl.sink.added(ctx, t)
}

// backwards reports (and records) a target whose certificate expires after
// the pair: it stays unless deploy.yaml says force: true.
func (pl *planner) backwards(t *target) bool {
	label(t)
	c, ok := pl.byID[t.from]
	if pl.force || !ok || !expiresAfter(c, pl.m) {
		return false
	}
	if !pl.skipped[t.key()] {
		pl.skipped[t.key()] = true
		pl.p.skipped = append(pl.p.skipped, skippedTarget(t, c, pl.m, pl.deployFile))
	}
	return true
}

// qualifies reports whether a place serving certID is the pair's to
// replace: all the certificate's domains are covered by the pair.
func (pl *planner) qualifies(certID string) bool {
	c, ok := pl.byID[certID]
	return ok && len(c.Domains()) > 0 && certs.Covers(pl.m.domains, c.Domains())
}

// planExplicit resolves one deploy.yaml target: it must exist.
func (r *Rotator) planExplicit(ctx context.Context, pl *planner, et clb.Target) error {
	region, m, deployFile := pl.p.region, pl.m, pl.deployFile
	lb, ok := pl.lbByID[et.LoadBalancerID]
	if !ok {
		return unknownTarget(deployFile, et, "no such load balancer")
	}
	l, exts, err := pl.p.port.Listener(ctx, region, et.LoadBalancerID, et.ListenerPort, et.ListenerID)
	if errors.Is(err, apierr.ErrNotFound) {
		if pl.p.product != clb.ProductCLB {
			return unknownTarget(deployFile, et, "no TLS listener with that id or port")
		}
		return unknownTarget(deployFile, et, "no HTTPS listener on that port")
	}
	if err != nil {
		return fmt.Errorf("rotation: describe listener %s: %w", et, err)
	}
	t := &target{Target: clb.Target{Region: region, LoadBalancerID: lb.ID, ListenerPort: l.Port}, product: pl.p.product, port: pl.p.port,
		listenerID: l.ID, address: lb.Address, status: l.Status, source: "explicit", extNames: extDomains(exts)}
	if t.ListenerPort == 0 {
		t.ListenerPort = et.ListenerPort
	}
	if et.Domain == "" {
		t.from = l.CertificateID
	} else {
		ext, ok := findExtension(exts, et.Domain)
		if !ok {
			return unknownTarget(deployFile, et, "no domain extension for "+et.Domain+" on that listener")
		}
		if !certs.Covers(m.domains, []string{ext.Domain}) {
			return &certs.Error{File: deployFile, Problem: fmt.Sprintf("target %s: the certificate (%s) does not cover %s",
				et, strings.Join(m.domains, ", "), ext.Domain), Fix: "add the domain to the certificate or remove the target", Err: apierr.ErrInvalid}
		}
		t.Domain, t.extID, t.from, t.extNames = ext.Domain, ext.ID, ext.CertificateID, nil
	}
	t.fromFP = pl.byID[t.from].Fingerprint
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if !pl.backwards(t) {
		pl.add(ctx, t)
	}
	return nil
}

// consider plans a discovered target unless it is pinned to another pair or
// would rotate backwards; it reports whether t itself was added. The caller
// holds pl.mu.
func (pl *planner) consider(ctx context.Context, t *target, pinned map[string]bool) bool {
	t.fromFP, t.source = pl.byID[t.from].Fingerprint, "discovered"
	if pinned[t.key()] || pinned[t.portKey()] || pl.backwards(t) {
		return false
	}
	_, dup := pl.found[t.key()]
	pl.add(ctx, t)
	return !dup
}

// expiresAfter reports whether c expires after the pair and is not the
// pair's own certificate: moving a target from c to the pair would rotate
// it backwards. An unknown expiry does not count.
func expiresAfter(c clb.ServerCertificate, m *material) bool {
	return !c.ExpireTime.IsZero() && c.ExpireTime.After(m.notAfter) && !sameFingerprint(c.Fingerprint, m.fingerprint)
}

// skippedTarget records a target left on c because c expires after the
// pair; the reason names both expiries and the way to force it.
func skippedTarget(t *target, c clb.ServerCertificate, m *material, deployFile string) SkippedTarget {
	return SkippedTarget{Product: t.productLabel(), Region: t.Region, LoadBalancerID: t.LoadBalancerID, ListenerPort: t.ListenerPort, Domain: t.Domain,
		Serving: c.ID, ServingNotAfter: c.ExpireTime.UTC(), Source: t.source,
		Reason: fmt.Sprintf("not rotated backwards: %s serves %s, which expires %s, later than this pair's certificate (expires %s); set force: true in %s to move it anyway",
			t.Target, c.ID, c.ExpireTime.UTC().Format(expiryLayout), m.notAfter.UTC().Format(expiryLayout), deployFile)}
}

// expiryLayout is how reasons print an expiry.
const expiryLayout = "2006-01-02 15:04 UTC"

func unknownTarget(file string, t clb.Target, why string) error {
	return &certs.Error{File: file, Problem: fmt.Sprintf("target %s does not exist: %s", t, why),
		Fix: "correct or remove the target", Err: ErrUnknownTarget}
}

func findExtension(exts []inventory.SNICertificate, domain string) (inventory.SNICertificate, bool) {
	for _, e := range exts {
		if !e.Default && strings.EqualFold(e.Domain, domain) {
			return e, true
		}
	}
	return inventory.SNICertificate{}, false
}

func extDomains(exts []inventory.SNICertificate) []string {
	out := make([]string, 0, len(exts))
	for _, e := range exts {
		if e.Default {
			continue
		}
		out = append(out, e.Domain)
	}
	return out
}

// label names an ALB or NLB target's product and listener in its printed
// form (clb.Target.String), so that every message says which it is.
func label(t *target) {
	if t.product != "" && t.product != clb.ProductCLB {
		t.Type, t.ListenerID = t.product, t.listenerID
	}
}
