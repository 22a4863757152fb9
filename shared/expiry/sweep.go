package expiry

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// Defaults of a Sweeper's zero-valued fields: the environment's own
// defaults (package config holds every default).
const (
	DefaultConcurrency      = config.DefaultConcurrency
	DefaultProbeConcurrency = config.DefaultProbeConcurrency
	DefaultProbeTimeout     = config.DefaultProbeTimeout
	DefaultReportPrefix     = "reports/"
	// StateFile is the notification memory, under the report prefix.
	StateFile = "state.json"
	// maxStateSize caps the state object read back from the bucket.
	maxStateSize = 8 << 20
)

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	groupPattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// Sweeper runs expiry sweeps. Inventory is required; every other
// dependency is optional: without Objects and Bucket nothing is written and
// nothing is remembered, without Pairs/Rotator auto-rotation is reported as
// unavailable, without Prober probing is, and a nil Notifier sends nothing.
type Sweeper struct {
	// Inventory reads the CLB inventory of a region: inventory.CLB{API:
	// slb} (or rotation.CLBPort{SLB: slb}) over an *aliyun.SLB. Its
	// snapshots are handed to auto-rotation.
	Inventory inventory.Reader
	// ALB and NLB, when set, add their listeners to the sweep (each in
	// every region of the request): the albnlb ports (albnlb.New), read
	// through the same collector, each listener once when the reader is an
	// inventory.ListenerReader. Their certificates are resolved through
	// CAS (one listing per CAS region per sweep; albnlb.Store over
	// *aliyun.CAS), which is then required.
	// Their complete snapshots are handed to auto-rotation too.
	ALB      inventory.Reader
	NLB      inventory.Reader
	CAS      CertStore
	Objects  Objects
	Bucket   string
	Pairs    Pairs
	Rotator  Rotator
	Prober   Prober
	Notifier notify.Notifier

	// Concurrency bounds concurrent inventory calls across all regions
	// (default DefaultConcurrency).
	Concurrency int
	// ProbeConcurrency bounds concurrent TLS probes (default
	// DefaultProbeConcurrency), separately from Concurrency: probes run
	// while the inventory is still listing. ProbeTimeout is each
	// handshake's limit; no handshake starts later than one ProbeTimeout
	// before the working deadline (the invocation's minus the report's
	// reserve), the rest are counted in ProbeCounts.OutOfTime.
	ProbeConcurrency int
	ProbeTimeout     time.Duration
	// ReportPrefix is where reports and the state are written (default
	// DefaultReportPrefix).
	ReportPrefix string
}

// ErrInvalidRequest marks a request that cannot be run (bad regions or
// thresholds); it also answers errors.Is(err, apierr.ErrInvalid).
var ErrInvalidRequest = fmt.Errorf("expiry: invalid request: %w", apierr.ErrInvalid)

// Normalize validates a request and fills its defaults: thresholds sorted
// descending without duplicates (DefaultWarnDays when empty), regions
// trimmed and de-duplicated. The error names the offending field.
func Normalize(req Request) (Request, error) {
	if len(req.WarnDays) == 0 {
		req.WarnDays = DefaultWarnDays
	}
	for i, d := range req.WarnDays {
		if d < 1 || d > 3650 {
			return req, fmt.Errorf("%w: warnDays[%d] = %d, want a number of days from 1 to 3650", ErrInvalidRequest, i, d)
		}
	}
	req.WarnDays = normalizeWarnDays(req.WarnDays)
	seen := map[string]bool{}
	var regions []string
	for i, r := range req.Regions {
		r = strings.TrimSpace(r)
		if !regionPattern.MatchString(r) {
			return req, fmt.Errorf("%w: regions[%d] = %q is not a region id such as cn-zhangjiakou", ErrInvalidRequest, i, r)
		}
		if !seen[r] {
			seen[r] = true
			regions = append(regions, r)
		}
	}
	if len(regions) == 0 {
		return req, fmt.Errorf("%w: regions is empty (set REGIONS or the payload's regions)", ErrInvalidRequest)
	}
	req.Regions = regions
	if req.Group != "" && !groupPattern.MatchString(req.Group) {
		return req, fmt.Errorf("%w: group = %q, want 1 to 32 lower-case letters, digits or '-' (it names reports/<date>-<group>.json)", ErrInvalidRequest, req.Group)
	}
	return req, nil
}

// ReportKey is the bucket key of the report of now's calendar day in now's
// location: the function passes time.Now(), whose location follows TZ
// (s.yaml sets Asia/Shanghai, the timer's CRON_TZ, so the 03:00 run files
// its report under that day and not under the previous UTC day).
// A fanned-out group's report carries the group: <date>-<group>.json.
func (s *Sweeper) ReportKey(now time.Time, group string) string {
	if group != "" {
		return s.prefix() + now.Format(time.DateOnly) + "-" + group + ".json"
	}
	return s.prefix() + now.Format(time.DateOnly) + ".json"
}

// StateKey is the bucket key of the notification memory of a group.
func (s *Sweeper) StateKey(group string) string {
	if group != "" {
		return s.prefix() + "state-" + group + ".json"
	}
	return s.prefix() + StateFile
}

func (s *Sweeper) prefix() string {
	if s.ReportPrefix == "" {
		return DefaultReportPrefix
	}
	return s.ReportPrefix
}

// Sweep runs one sweep: collect the inventory of every region (probing
// each target as soon as it is known, when asked), then classify, rotate,
// notify and write the report. Partial failures
// are in Report.Errors and do not make an error. The error is non-nil when
// the request is invalid (Is apierr.ErrInvalid), when every region failed
// (Is apierr.ErrTransient when retrying may help), or when the report
// could not be written; the returned Report is filled in every case but
// the first.
func (s *Sweeper) Sweep(ctx context.Context, now time.Time, req Request) (Report, error) {
	req, err := Normalize(req)
	if err != nil {
		return Report{}, err
	}
	rep := Report{
		Time: now.UTC(), Regions: req.Regions, Group: req.Group, WarnDays: req.WarnDays,
		AutoRotate: req.AutoRotate, Probe: req.Probe,
		Certificates: []Certificate{}, Actions: []Action{}, Drift: []ProbeFinding{},
		Unreachable: []ProbeFinding{}, Errors: []Problem{},
	}
	work, cancel := reserveTail(ctx)
	defer cancel()

	// 1. Collect: the inventory, and the probes (read-only) as soon as
	// their targets are known, concurrently with the rest of the inventory.
	var probes *probeRun
	if req.Probe && s.Prober != nil {
		probes = s.startProbes(work)
	}
	invs, lbInvs := s.collect(work, req.Regions, &rep, probes)
	if probes != nil {
		probes.finish()
	}
	failedAll := len(invs) == 0 && len(lbInvs) == 0

	// 2. Classify (keeping the CLB snapshots for auto-rotation).
	snaps := s.classifyAll(now, req, invs, lbInvs, &rep)
	invs, lbInvs = nil, nil

	// 3. Probe outcome.
	switch {
	case probes != nil:
		probes.report(&rep)
	case req.Probe:
		rep.Errors = append(rep.Errors, Problem{Stage: "probe", Error: "expiry: probe requested but no prober is configured"})
	}

	// Act only now that inventory and probes are complete.
	// 4. Rotate.
	if req.AutoRotate {
		s.rotate(work, now, &rep, snaps)
	}

	// 5. Notify (with the memory of earlier runs), then 6. write.
	// They run on the reserved tail (ctx, not work): a sweep whose
	// inventory or probes used up the working time still tells someone.
	st := s.loadState(ctx, &rep)
	changed := s.notify(ctx, now, req.WarnDays, st, &rep)
	if s.Objects != nil && s.Bucket != "" {
		if st.prune(now) || changed {
			if err := s.putJSON(ctx, s.StateKey(req.Group), st); err != nil {
				rep.Errors = append(rep.Errors, newProblem("state", "", s.StateKey(req.Group), err))
			}
		}
	}
	var writeErr error
	if s.Objects != nil && s.Bucket != "" {
		key := s.ReportKey(now, req.Group)
		rep.ReportKey = key
		if writeErr = s.putJSON(ctx, key, rep); writeErr != nil {
			rep.ReportKey = ""
			rep.Errors = append(rep.Errors, newProblem("report", "", key, writeErr))
		}
	}
	switch {
	case failedAll:
		if transientOnly(rep.Errors) {
			return rep, fmt.Errorf("expiry: every region failed (%s): %w", firstError(rep.Errors), apierr.ErrTransient)
		}
		return rep, fmt.Errorf("expiry: every region failed: %s", firstError(rep.Errors))
	case writeErr != nil:
		return rep, writeErr
	}
	return rep, nil
}

// reserveTail keeps a little of the invocation's time (a tenth, at most
// 15 s) for the notification and the report when the sweep runs long.
func reserveTail(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := time.Until(dl) / 10
	if reserve > 15*time.Second {
		reserve = 15 * time.Second
	}
	return context.WithDeadline(ctx, dl.Add(-reserve))
}

// collect inventories all regions, every region (and every configured
// ALB and NLB product in it) in its own goroutine with the inventory
// calls bounded by one semaphore. Targets are offered to probes (when not
// nil) as they are found. It returns the regions and the product regions
// that could be inventoried.
func (s *Sweeper) collect(ctx context.Context, regions []string, rep *Report, probes *probeRun) ([]*regionInventory, []*lbInventory) {
	n := s.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	c := &collector{clb: s.Inventory, coll: inventory.NewCollector(n), probes: probes}
	srcs := s.lbSources(rep)
	if len(srcs) > 0 {
		c.cas = &casListing{coll: inventory.NewCollector(1), store: s.CAS, regions: map[string]*casRegionList{}}
	}
	out := make([]*regionInventory, len(regions))
	lbOut := make([]*lbInventory, len(regions)*len(srcs))
	var wg sync.WaitGroup
	for i, r := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.region(ctx, r)
		}()
		for j, src := range srcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lbOut[i*len(srcs)+j] = c.lbRegion(ctx, src, r)
			}()
		}
	}
	wg.Wait()
	rep.Calls = c.calls()
	var ok []*regionInventory
	for _, ri := range out {
		if ri.tally(rep, len(ri.targets)) {
			ok = append(ok, ri)
		}
	}
	var lbOK []*lbInventory
	for _, li := range lbOut {
		if li.tally(rep, len(li.targets)) {
			lbOK = append(lbOK, li)
		}
	}
	if c.cas != nil {
		rep.Errors = append(rep.Errors, c.cas.problems...)
	}
	return ok, lbOK
}

// classifyAll classifies every inventory into rep and returns the
// snapshots auto-rotation discovers through (none when it is not asked:
// the inventories are then freed as soon as they are classified).
func (s *Sweeper) classifyAll(now time.Time, req Request, invs []*regionInventory, lbInvs []*lbInventory, rep *Report) rotation.Snapshots {
	var snaps rotation.Snapshots
	if req.AutoRotate {
		snaps = snapshots(invs, lbInvs)
	}
	s.classify(now, req.WarnDays, invs, rep)
	s.classifyLB(now, req.WarnDays, lbInvs, rep)
	rep.Counts = countClasses(rep.Certificates)
	sortCertificates(rep.Certificates)
	return snaps
}

// snapshots are the complete inventories of invs (CLB) and lbInvs (ALB,
// NLB: only when every CAS listing their reads used answered), by lane.
func snapshots(invs []*regionInventory, lbInvs []*lbInventory) rotation.Snapshots {
	out := rotation.Snapshots{}
	for _, ri := range invs {
		if ri.snapshot.Complete() {
			out[rotation.SnapshotKey(clb.ProductCLB, ri.region)] = ri.snapshot
		}
	}
	for _, li := range lbInvs {
		if li.snapshot.Complete() && !li.casMissed {
			out[rotation.SnapshotKey(li.product, li.region)] = li.snapshot
		}
	}
	return out
}

// lbSources are the configured ALB and NLB inventories; without a CAS
// they cannot be classified, which is reported once. A reader that does not
// tell what each listener holds (inventory.ListenerReader, as the albnlb
// ports do) is reported and left out.
func (s *Sweeper) lbSources(rep *Report) []lbSource {
	var srcs []lbSource
	for _, src := range []lbSource{{clb.ProductALB, s.ALB}, {clb.ProductNLB, s.NLB}} {
		if src.inv == nil {
			continue
		}
		if _, ok := src.inv.(inventory.ListenerReader); !ok {
			rep.Errors = append(rep.Errors, Problem{Stage: "listeners", Product: src.product,
				Error: fmt.Sprintf("expiry: the %s inventory (%T) does not read what each listener holds (inventory.ListenerReader): its listeners are not swept; wire the albnlb port", src.product, src.inv)})
			continue
		}
		srcs = append(srcs, src)
	}
	if len(srcs) > 0 && s.CAS == nil {
		rep.Errors = append(rep.Errors, Problem{Stage: "certificates", Product: "cas",
			Error: "expiry: ALB or NLB inventory configured without CAS: their listeners are not swept"})
		return nil
	}
	return srcs
}

// certKey names a certificate across regions.
type certKey struct{ region, id string }

// classify builds the report's certificates from the served targets.
func (s *Sweeper) classify(now time.Time, warnDays []int, invs []*regionInventory, rep *Report) {
	idx := map[certKey]int{}
	for _, ri := range invs {
		unknown := map[string]bool{}
		for _, t := range ri.targets {
			if t.certID == "" {
				continue
			}
			k := certKey{ri.region, t.certID}
			i, ok := idx[k]
			if !ok {
				sc, known := ri.certs[t.certID]
				if !known {
					if !unknown[t.certID] {
						unknown[t.certID] = true
						rep.Errors = append(rep.Errors, Problem{Stage: "inventory", Region: ri.region, Subject: t.target.String(),
							Error: fmt.Sprintf("expiry: %s serves certificate %s, which DescribeServerCertificates does not list", t.target, t.certID)})
					}
					continue
				}
				i = len(rep.Certificates)
				idx[k] = i
				rep.Certificates = append(rep.Certificates, Certificate{
					Product: clb.ProductCLB, Region: ri.region, ID: sc.ID, Name: sc.Name, Fingerprint: sc.Fingerprint, CommonName: sc.CommonName,
					Domains: sc.Domains(), ExpireTime: sc.ExpireTime.UTC(), DaysLeft: DaysLeft(now, sc.ExpireTime),
					Class: Classify(now, sc.ExpireTime, warnDays), Ours: sc.Ours(), Targets: []clb.Target{},
				})
			}
			rep.Certificates[i].Targets = append(rep.Certificates[i].Targets, t.target)
		}
		ri.certs = nil
	}
}

// classifyLB adds the CAS certificates ALB and NLB listeners serve, one
// entry per product and certificate, classified exactly like CLB's.
func (s *Sweeper) classifyLB(now time.Time, warnDays []int, invs []*lbInventory, rep *Report) {
	type key struct{ product, id string }
	idx := map[key]int{}
	unknown := map[key]bool{}
	for _, li := range invs {
		for _, t := range li.targets {
			if t.certID == "" {
				continue
			}
			k := key{li.product, t.certID}
			i, ok := idx[k]
			if !ok {
				if t.cert == nil {
					if !t.casFailed && !unknown[k] {
						unknown[k] = true
						rep.Errors = append(rep.Errors, Problem{Stage: "inventory", Product: li.product, Region: li.region, Subject: t.place.String(),
							Error: fmt.Sprintf("expiry: %s serves certificate %s, which the CAS listing does not hold", t.place, t.certID)})
					}
					continue
				}
				cc := t.cert
				i = len(rep.Certificates)
				idx[k] = i
				rep.Certificates = append(rep.Certificates, Certificate{
					Product: li.product, Region: cc.Region, ID: cc.ID, Name: cc.Name, Fingerprint: cc.Fingerprint,
					CommonName: cc.CommonName, Domains: append([]string{}, cc.Domains()...), ExpireTime: cc.ExpireTime.UTC(),
					DaysLeft: DaysLeft(now, cc.ExpireTime), Class: Classify(now, cc.ExpireTime, warnDays), Ours: cc.Ours(),
					Targets: []clb.Target{}, Listeners: []Place{},
				})
			}
			rep.Certificates[i].Listeners = append(rep.Certificates[i].Listeners, t.place)
		}
	}
}

// countClasses counts certificates per class.
func countClasses(certs []Certificate) Counts {
	var n Counts
	for _, c := range certs {
		switch c.Class {
		case ClassOK:
			n.OK++
		case ClassWarn:
			n.Warn++
		case ClassCritical:
			n.Critical++
		case ClassExpired:
			n.Expired++
		}
	}
	return n
}

// sortCertificates sorts soonest expiry first, and each one's places.
func sortCertificates(certs []Certificate) {
	sort.SliceStable(certs, func(i, j int) bool {
		a, b := certs[i], certs[j]
		if !a.ExpireTime.Equal(b.ExpireTime) {
			return a.ExpireTime.Before(b.ExpireTime)
		}
		if a.Product != b.Product {
			return a.Product < b.Product
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		return a.ID < b.ID
	})
	for _, c := range certs {
		sort.Slice(c.Targets, func(x, y int) bool { return c.Targets[x].String() < c.Targets[y].String() })
		sort.Slice(c.Listeners, func(x, y int) bool { return placeLess(c.Listeners[x], c.Listeners[y]) })
	}
}

// placeLess orders places by product, region, instance, port, default
// first, then listener.
func placeLess(a, b Place) bool {
	switch {
	case a.Product != b.Product:
		return a.Product < b.Product
	case a.Region != b.Region:
		return a.Region < b.Region
	case a.LoadBalancerID != b.LoadBalancerID:
		return a.LoadBalancerID < b.LoadBalancerID
	case a.ListenerPort != b.ListenerPort:
		return a.ListenerPort < b.ListenerPort
	case a.Role != b.Role:
		return a.Role == RoleDefault
	}
	return a.ListenerID < b.ListenerID
}

func transientOnly(problems []Problem) bool {
	for _, p := range problems {
		if (p.Stage == "certificates" || p.Stage == "loadbalancers") && !p.Transient {
			return false
		}
	}
	return true
}

func firstError(problems []Problem) string {
	if len(problems) == 0 {
		return "no detail"
	}
	return problems[0].Error
}

func (s *Sweeper) putJSON(ctx context.Context, key string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("expiry: encode %s: %w", key, err)
	}
	if err := s.Objects.Put(ctx, s.Bucket, key, append(b, '\n'), "application/json"); err != nil {
		return fmt.Errorf("expiry: write oss://%s/%s: %w", s.Bucket, key, err)
	}
	return nil
}
