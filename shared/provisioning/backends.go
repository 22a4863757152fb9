package provisioning

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

func (r *run) backends(ctx context.Context, lbID string, found bool, current []clb.Backend, want []BackendSpec) error {
	s, region := r.p.Backends, r.region
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
		return r.call(Change{Op: "delete", Resource: "backends " + strings.Join(extra, ", "), Detail: "not in the payload"},
			fmt.Sprintf("remove backend servers from %s in %s", lbID, region),
			func() error { return s.RemoveBackendServers(ctx, region, lbID, extra) }, nil)
	}
	return nil
}
