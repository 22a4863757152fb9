package provisioning

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

func (r *run) listeners(ctx context.Context, lbID string, found bool, want []ListenerSpec, certIDs map[string]string) error {
	s, region := r.p.Listeners, r.region
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
		if err := r.deleteListener(ctx, lbID, port, "not in the payload"); err != nil {
			return err
		}
	}
	return nil
}

// listener converges one HTTPS listener: created when missing, recreated
// when its backend port differs, updated when an attribute differs; then
// its domain extensions, then started and waited for.
func (r *run) listener(ctx context.Context, lbID string, spec ListenerSpec, certIDs map[string]string, current map[int]clb.Listener) (ListenerState, error) {
	port := spec.FrontendPort
	want := clb.Listener{
		Region: r.region, LoadBalancerID: lbID, Port: port, Protocol: "https",
		BackendPort: spec.BackendPort, Bandwidth: *spec.Bandwidth, ServerCertificateID: certIDs[spec.Certificate],
		HealthCheck: spec.HealthCheck, StickySession: spec.StickySession,
	}
	status := "stopped"
	var exts []clb.DomainExtension
	if _, ok := current[port]; !ok {
		detail := fmt.Sprintf("https %d -> %d, bandwidth %d, health check %s, session persistence %s, certificate %s",
			port, spec.BackendPort, want.Bandwidth, want.HealthCheck, want.StickySession, spec.Certificate)
		if err := r.createListener(ctx, want, detail); err != nil {
			return ListenerState{}, err
		}
	} else {
		var err error
		if status, exts, err = r.updateListener(ctx, want); err != nil {
			return ListenerState{}, err
		}
	}
	if err := r.domainExtensions(ctx, lbID, port, spec.DomainExtensions, exts, certIDs); err != nil {
		return ListenerState{}, err
	}
	status, err := r.startListener(ctx, lbID, port, status)
	if err != nil {
		return ListenerState{}, err
	}
	return ListenerState{Port: port, Status: status, CertificateID: want.ServerCertificateID}, nil
}

// createListener creates want (undone by deleting it).
func (r *run) createListener(ctx context.Context, want clb.Listener, detail string) error {
	s, region, lbID, port := r.p.Listeners, r.region, want.LoadBalancerID, want.Port
	return r.call(Change{Op: "create", Resource: listenerName(port), Detail: detail},
		fmt.Sprintf("create HTTPS listener %s:%d in %s", lbID, port, region),
		func() error { return s.CreateHTTPSListener(ctx, region, want) },
		func(ctx context.Context) error { return s.DeleteListener(ctx, region, lbID, port) })
}

// deleteListener deletes the listener lbID:port, for the reason given.
func (r *run) deleteListener(ctx context.Context, lbID string, port int, reason string) error {
	s, region := r.p.Listeners, r.region
	return r.call(Change{Op: "delete", Resource: listenerName(port), Detail: reason},
		fmt.Sprintf("delete listener %s:%d in %s", lbID, port, region),
		func() error { return s.DeleteListener(ctx, region, lbID, port) }, nil)
}

// updateListener brings an existing listener to want and returns its
// status and domain extensions as they stand after. A different backend
// port cannot be changed in place: the listener is deleted and created
// again (stopped, without extensions).
func (r *run) updateListener(ctx context.Context, want clb.Listener) (string, []clb.DomainExtension, error) {
	s, region, lbID, port := r.p.Listeners, r.region, want.LoadBalancerID, want.Port
	cur, exts, err := s.DescribeHTTPSListener(ctx, region, lbID, port)
	if err != nil {
		return "", nil, fmt.Errorf("provisioning: describe HTTPS listener %s:%d in %s: %w", lbID, port, region, err)
	}
	if cur.BackendPort != 0 && cur.BackendPort != want.BackendPort {
		if err := r.deleteListener(ctx, lbID, port, fmt.Sprintf("backend port %d -> %d needs a new listener", cur.BackendPort, want.BackendPort)); err != nil {
			return "", nil, err
		}
		if err := r.createListener(ctx, want, fmt.Sprintf("https %d -> %d", port, want.BackendPort)); err != nil {
			return "", nil, err
		}
		return "stopped", nil, nil
	}
	if diffs := listenerDiff(cur, want); len(diffs) > 0 {
		err := r.call(Change{Op: "update", Resource: listenerName(port), Detail: strings.Join(diffs, ", ")},
			fmt.Sprintf("set HTTPS listener %s:%d in %s", lbID, port, region),
			func() error { return s.SetHTTPSListenerAttribute(ctx, region, want) }, nil)
		if err != nil {
			return "", nil, err
		}
	}
	return cur.Status, exts, nil
}

// startListener starts a listener that is not running (a stopped one, or
// one of unknown status) and waits until it runs; a plan assumes it would.
func (r *run) startListener(ctx context.Context, lbID string, port int, status string) (string, error) {
	if status == "running" {
		return status, nil
	}
	if status == "stopped" || status == "" {
		s, region := r.p.Listeners, r.region
		err := r.call(Change{Op: "start", Resource: listenerName(port)},
			fmt.Sprintf("start listener %s:%d in %s", lbID, port, region),
			func() error { return s.StartListener(ctx, region, lbID, port) }, nil)
		if err != nil {
			return "", err
		}
	}
	if r.dry {
		return "running", nil
	}
	return r.waitRunning(ctx, lbID, port)
}

func listenerName(port int) string { return fmt.Sprintf("listener %d", port) }

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
		l, _, err := r.p.Listeners.DescribeHTTPSListener(ctx, r.region, lbID, port)
		if err != nil {
			return "", fmt.Errorf("provisioning: wait for listener %s:%d in %s: %w", lbID, port, r.region, err)
		}
		if l.Status == "running" {
			return l.Status, nil
		}
		if time.Now().Add(delay).After(deadline) {
			return "", fmt.Errorf("provisioning: listener %s:%d in %s still %s after %s: %w", lbID, port, r.region, orNone(l.Status), timeout, apierr.ErrTransient)
		}
		if !pause.For(ctx, delay) {
			return "", fmt.Errorf("provisioning: wait for listener %s:%d in %s: %w", lbID, port, r.region, ctx.Err())
		}
		delay = min(delay*2, 2*time.Second)
	}
}
