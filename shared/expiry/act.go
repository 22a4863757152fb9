package expiry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/notify"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// rotate converges the fleet on the bucket (level-triggered: whatever
// event was lost, every run heals it). For every served certificate and
// every place serving it, the pair that replaces it is the valid pair in
// the bucket with the latest expiry that expires after it, covers all its
// domains and is a different certificate, among the pairs allowed there:
// the pair whose deploy.yaml names the place when one does (pinned), else
// the pairs with discovery. Each chosen pair is rotated once, latest expiry
// first (a pair rotated later never moves a place backwards), with the
// places other pairs pin excluded from its discovery. Whether the
// certificate is near expiry does not matter. Each rotation discovers
// through the sweep's snapshots (snaps), which it updates with what it
// switched before the next pair runs.
func (s *Sweeper) rotate(ctx context.Context, now time.Time, rep *Report, snaps rotation.Snapshots) {
	if len(rep.Certificates) == 0 {
		return
	}
	if s.Pairs == nil || s.Rotator == nil {
		rep.Errors = append(rep.Errors, Problem{Stage: "rotation",
			Error: "expiry: auto-rotation requested but no certificate bucket is configured (CERT_BUCKET)"})
		return
	}
	cands, err := s.Pairs.Candidates(ctx, now)
	if err != nil {
		rep.Errors = append(rep.Errors, newProblem("candidates", "", "", fmt.Errorf("expiry: list pairs in the bucket: %w", err)))
		return
	}
	pins := pinnedPlaces(cands)
	chosen := map[string]*Action{}
	var order []int // candidate indexes, once each
	for i := range rep.Certificates {
		c := &rep.Certificates[i]
		for _, t := range places(*c) {
			best := replacement(cands, *c, t, pins, now)
			if best < 0 {
				continue
			}
			name := cands[best].Name
			if c.Replacement == "" {
				c.Replacement = name
			}
			a := chosen[name]
			if a == nil {
				a = &Action{Kind: "rotate", Pair: name}
				chosen[name] = a
				order = append(order, best)
			}
			if id := c.Region + "/" + c.ID; !slices.Contains(a.Replaces, id) {
				a.Replaces = append(a.Replaces, id)
			}
		}
	}
	sort.Slice(order, func(i, j int) bool {
		a, b := cands[order[i]], cands[order[j]]
		if !a.NotAfter.Equal(b.NotAfter) {
			return a.NotAfter.After(b.NotAfter)
		}
		return a.Name < b.Name
	})
	for _, k := range order {
		name := cands[k].Name
		a := chosen[name]
		sort.Strings(a.Replaces)
		out, err := s.Rotator.RotateName(ctx, now, name, pinnedExcept(cands, name), snaps)
		a.Status, a.Detail = out.Status, out.Detail
		if err != nil {
			if a.Status == "" || a.Status.Success() {
				a.Status = outcome.Failed
			}
			a.Error = err.Error()
			rep.Errors = append(rep.Errors, newProblem("rotation", "", name, fmt.Errorf("expiry: rotate pair %s: %w", name, err)))
		} else if !out.OK {
			rep.Errors = append(rep.Errors, Problem{Stage: "rotation", Subject: name,
				Error: fmt.Sprintf("expiry: rotate pair %s ended %s: %s", name, out.Status, out.Detail)})
		}
		rep.Actions = append(rep.Actions, *a)
	}
}

// places are where c is served as the rotation names them: the CLB
// targets, and each ALB or NLB listener place as a target of its product
// (Type), with its listener id and port, additional for an SNI place.
func places(c Certificate) []clb.Target {
	out := append([]clb.Target(nil), c.Targets...)
	for _, p := range c.Listeners {
		out = append(out, clb.Target{Type: p.Product, Region: p.Region, LoadBalancerID: p.LoadBalancerID,
			ListenerPort: p.ListenerPort, ListenerID: p.ListenerID, Additional: p.Role == RoleAdditional})
	}
	return out
}

// placeKeys name a place (a CLB listener's default certificate or a domain
// extension; an ALB or NLB listener's default or additional certificates)
// whatever the case of its domain: by product, load balancer and port,
// and for ALB and NLB also by listener id (deploy.yaml names one or the
// other).
func placeKeys(t clb.Target) []string {
	typ, d := t.Type, strings.ToLower(t.Domain)
	if typ == "" {
		typ = clb.ProductCLB
	}
	role := "" // a CLB extension is named by its domain alone
	if t.Additional && typ != clb.ProductCLB {
		role = "+"
	}
	var keys []string
	if t.ListenerPort != 0 || t.ListenerID == "" {
		keys = append(keys, fmt.Sprintf("%s/%s/%s/%d/%s%s", typ, t.Region, t.LoadBalancerID, t.ListenerPort, role, d))
	}
	if t.ListenerID != "" && typ != clb.ProductCLB {
		keys = append(keys, fmt.Sprintf("%s/%s/listener:%s/%s%s", typ, t.Region, t.ListenerID, role, d))
	}
	return keys
}

// pinnedPlaces maps every place named in a pair's deploy.yaml to that pair.
func pinnedPlaces(cands []Candidate) map[string]string {
	pins := map[string]string{}
	for _, c := range cands {
		for _, t := range c.Targets {
			for _, k := range placeKeys(t) {
				if _, taken := pins[k]; !taken {
					pins[k] = c.Name
				}
			}
		}
	}
	return pins
}

// pinOwner is the pair whose deploy.yaml names place t, if any.
func pinOwner(pins map[string]string, t clb.Target) (string, bool) {
	for _, k := range placeKeys(t) {
		if owner, ok := pins[k]; ok {
			return owner, true
		}
	}
	return "", false
}

// pinnedExcept lists the places other pairs' deploy.yaml name: the
// rotation of pair name leaves them to their pairs.
func pinnedExcept(cands []Candidate, name string) []clb.Target {
	var out []clb.Target
	for _, c := range cands {
		if c.Name != name {
			out = append(out, c.Targets...)
		}
	}
	return out
}

// replacement is the index of the pair that should replace certificate c
// at place t, or -1.
func replacement(cands []Candidate, c Certificate, t clb.Target, pins map[string]string, now time.Time) int {
	owner, pinned := pinOwner(pins, t)
	best := -1
	for k, cand := range cands {
		switch {
		case pinned && cand.Name != owner, !pinned && cand.ExplicitOnly,
			!cand.NotAfter.After(c.ExpireTime), !cand.NotAfter.After(now),
			normalizeFingerprint(cand.Fingerprint) == normalizeFingerprint(c.Fingerprint),
			!coversAll(cand.Domains, c.Domains):
			continue
		}
		if best < 0 || cand.NotAfter.After(cands[best].NotAfter) ||
			cand.NotAfter.Equal(cands[best].NotAfter) && cand.Name < cands[best].Name {
			best = k
		}
	}
	return best
}

// notifyState is the memory of threshold notifications, kept in the bucket.
type notifyState struct {
	Version int `json:"version"`
	// Notified maps a certificate fingerprint (normalised) to the lowest
	// level already notified.
	Notified map[string]notedLevel `json:"notified"`
}

type notedLevel struct {
	Level      int       `json:"level"`
	ExpireTime time.Time `json:"expireTime"`
	At         time.Time `json:"at"`
}

// prune forgets certificates expired for more than 30 days.
func (st *notifyState) prune(now time.Time) bool {
	changed := false
	for fp, n := range st.Notified {
		if n.ExpireTime.Before(now.Add(-30 * 24 * time.Hour)) {
			delete(st.Notified, fp)
			changed = true
		}
	}
	return changed
}

func (s *Sweeper) loadState(ctx context.Context, rep *Report) *notifyState {
	st := &notifyState{Version: 1, Notified: map[string]notedLevel{}}
	if s.Objects == nil || s.Bucket == "" {
		return st
	}
	key := s.StateKey(rep.Group)
	b, err := s.Objects.Get(ctx, s.Bucket, key, maxStateSize)
	if errors.Is(err, apierr.ErrNotFound) {
		return st
	}
	if err == nil {
		err = jsonUnmarshal(b, st)
	}
	if err != nil {
		// Better a repeated warning than a missed one: carry on with an
		// empty memory and say so.
		rep.Errors = append(rep.Errors, newProblem("state", "", key, fmt.Errorf("expiry: read oss://%s/%s: %w", s.Bucket, key, err)))
		st = &notifyState{Version: 1, Notified: map[string]notedLevel{}}
	}
	if st.Notified == nil {
		st.Notified = map[string]notedLevel{}
	}
	return st
}

// maxLines bounds the detail lines of one notification.
const maxLines = 30

// notify sends one notification for this sweep when something deserves
// it: a threshold crossed for the first time (per certificate fingerprint),
// an expiry, a drift, a rotation, or a failure. It returns whether the
// state changed.
func (s *Sweeper) notify(ctx context.Context, now time.Time, warnDays []int, st *notifyState, rep *Report) bool {
	lines, crossed, severity := noteLines(now, warnDays, st, rep)
	items := len(lines)
	if _, nop := s.Notifier.(notify.Nop); items == 0 || s.Notifier == nil || nop {
		return false
	}
	if len(lines) > maxLines {
		more := len(lines) - maxLines
		lines = append(lines[:maxLines], fmt.Sprintf("… and %d more in %s", more, s.ReportKey(now, rep.Group)))
	}
	c := rep.Counts
	msg := notify.Message{
		Title: "Load balancer certificate expiry check",
		Summary: fmt.Sprintf("%d ok, %d warn, %d critical, %d expired in %s; %d drift, %d errors",
			c.OK, c.Warn, c.Critical, c.Expired, strings.Join(rep.Regions, ","), len(rep.Drift), len(rep.Errors)),
		Lines:    lines,
		Severity: severity,
	}
	rep.Notification.Items = items
	if err := s.Notifier.Notify(ctx, msg); err != nil {
		rep.Notification.Error = err.Error()
		return false
	}
	rep.Notification.Sent = true
	for _, x := range crossed {
		st.Notified[x.fp] = notedLevel{Level: x.level, ExpireTime: x.exp.UTC(), At: now.UTC()}
	}
	return len(crossed) > 0
}

// crossing is a certificate (by fingerprint) newly past a warning level.
type crossing struct {
	fp    string
	level int
	exp   time.Time
}

// noteLines builds the detail lines of this sweep's notification: the
// certificates crossing a threshold for the first time (counting in rep
// those already notified at their level), drift, rotations and failures.
// It returns the lines, the crossings to record once sent, and the
// notification's severity.
func noteLines(now time.Time, warnDays []int, st *notifyState, rep *Report) (lines []string, crossed []crossing, severity string) {
	severity = notify.SeverityInfo
	var (
		seen  = map[string]int{}  // fingerprint -> index in lines
		quiet = map[string]bool{} // fingerprints already notified at this level
	)
	raise := func(sev string) {
		if sev == notify.SeverityCritical || severity == notify.SeverityInfo {
			severity = sev
		}
	}
	for _, c := range rep.Certificates {
		level := Level(now, c.ExpireTime, warnDays)
		if level < 0 {
			continue
		}
		fp := normalizeFingerprint(c.Fingerprint)
		if fp == "" {
			fp = c.Region + "/" + c.ID
		}
		if i, dup := seen[fp]; dup {
			lines[i] += ", " + c.Region
			continue
		}
		if prev, ok := st.Notified[fp]; ok && prev.Level <= level {
			if !quiet[fp] {
				quiet[fp] = true
				rep.Notification.Suppressed++
			}
			continue
		}
		crossed = append(crossed, crossing{fp, level, c.ExpireTime})
		seen[fp] = len(lines)
		lines = append(lines, certLine(c))
		if c.Class == ClassExpired || c.Class == ClassCritical {
			raise(notify.SeverityCritical)
		} else {
			raise(notify.SeverityWarning)
		}
	}
	for _, d := range rep.Drift {
		lines = append(lines, driftLine(d))
		raise(notify.SeverityCritical)
	}
	for _, a := range rep.Actions {
		if a.Error == "" && a.Status != outcome.Failed {
			lines = append(lines, fmt.Sprintf("rotated pair %s (%s) for %s", a.Pair, a.Status, strings.Join(a.Replaces, ", ")))
		}
	}
	for _, p := range rep.Errors {
		lines = append(lines, "FAILED "+p.Error)
		raise(notify.SeverityCritical)
	}
	return lines, crossed, severity
}

func certLine(c Certificate) string {
	what := c.Name
	if len(c.Domains) > 0 {
		what = strings.Join(c.Domains, " ")
	}
	var places []string
	for _, t := range c.Targets {
		places = append(places, "clb "+t.String())
	}
	for _, p := range c.Listeners {
		places = append(places, p.String())
	}
	where := ""
	if len(places) > 0 {
		where = " on " + places[0]
		if len(places) > 1 {
			where += fmt.Sprintf(" and %d more", len(places)-1)
		}
	}
	var when string
	if c.Class == ClassExpired {
		when = "EXPIRED " + c.ExpireTime.Format("2006-01-02 15:04 UTC")
	} else {
		when = fmt.Sprintf("expires %s (%d days left, %s)", c.ExpireTime.Format("2006-01-02"), c.DaysLeft, c.Class)
	}
	line := fmt.Sprintf("%s %s%s", what, when, where)
	if c.Replacement != "" {
		line += "; replacement pair " + c.Replacement
	}
	return line + "; region " + c.Region
}

// driftLine names a drifted place: a CLB target, or an ALB or NLB
// listener with the SNI name of an additional certificate.
func driftLine(d ProbeFinding) string {
	where := d.Target.String()
	if d.Listener != nil {
		where = d.Listener.String()
		if d.ServerName != "" {
			where += " SNI " + d.ServerName
		}
	}
	return fmt.Sprintf("DRIFT %s at %s serves %s, the API says %s", where, d.Address, short(d.Served), short(d.Expected))
}

func short(fp string) string {
	n := normalizeFingerprint(fp)
	if len(n) > 12 {
		return n[:12]
	}
	if n == "" {
		return "nothing"
	}
	return n
}
