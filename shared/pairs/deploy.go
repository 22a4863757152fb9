package pairs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Deploy is the content of certs/<name>/deploy.yaml.
type Deploy struct {
	// Targets are explicit places where the certificate must be served.
	Targets []clb.Target `yaml:"targets"`
	// Discover also replaces the certificate wherever its domains are
	// served; nil means the default (true when there are no targets).
	Discover *bool `yaml:"discover"`
	// Keep is the number of superseded certificates kept for rollback; nil
	// means the configured default (KEEP_SUPERSEDED).
	Keep *int `yaml:"keep"`
	// Force moves targets (explicit and discovered) to the pair even when
	// the certificate they serve expires later; without it such a target is
	// skipped (never rotate backwards).
	Force bool `yaml:"force"`
}

// DiscoverEnabled reports whether discovery runs for this deploy file.
func (d Deploy) DiscoverEnabled() bool {
	if d.Discover != nil {
		return *d.Discover
	}
	return len(d.Targets) == 0
}

// ParseDeploy decodes deploy.yaml strictly (unknown fields are refused) and
// validates it; errors name the file and the field. An empty document is a
// valid empty Deploy.
func ParseDeploy(file string, data []byte) (Deploy, error) {
	var d Deploy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil && !errors.Is(err, io.EOF) {
		return Deploy{}, &certs.Error{File: file, Problem: "is not valid deploy YAML: " + err.Error(),
			Fix: "fields are targets (type, region, loadBalancerId, listenerPort, listenerId, domain, additional), discover, keep and force"}
	}
	for i, t := range d.Targets {
		if err := checkTarget(file, fmt.Sprintf("targets[%d]", i), t); err != nil {
			return Deploy{}, err
		}
	}
	if d.Keep != nil && *d.Keep < 0 {
		return Deploy{}, &certs.Error{File: file, Problem: fmt.Sprintf("keep is %d", *d.Keep), Fix: "use 0 or more"}
	}
	return d, nil
}

// checkTarget validates one deploy.yaml target (field is its path).
func checkTarget(file, field string, t clb.Target) error {
	bad := func(problem, fix string) error { return &certs.Error{File: file, Problem: field + problem, Fix: fix} }
	lb := t.Type == clb.ProductALB || t.Type == clb.ProductNLB
	switch {
	case t.Type != "" && t.Type != clb.ProductCLB && !lb:
		return bad(fmt.Sprintf(".type %q is not a load-balancer product", t.Type), "use clb, alb or nlb (default clb)")
	case strings.TrimSpace(t.Region) == "":
		return bad(".region is missing", "set the region of the load balancer, e.g. cn-zhangjiakou")
	case strings.TrimSpace(t.LoadBalancerID) == "":
		return bad(".loadBalancerId is missing", "set the id of the load balancer (lb-..., alb-..., nlb-...)")
	case !lb && t.ListenerID != "":
		return bad(".listenerId is set on a CLB target", "name a CLB listener by listenerPort, or set type: alb or nlb")
	case !lb && (t.ListenerPort < 1 || t.ListenerPort > 65535):
		return bad(fmt.Sprintf(".listenerPort %d is out of range", t.ListenerPort), "use the HTTPS listener's front port (1-65535)")
	case lb && t.ListenerID == "" && t.ListenerPort == 0:
		return bad(" names no listener", "set listenerId (lsn-...) or listenerPort")
	case t.ListenerPort < 0 || t.ListenerPort > 65535:
		return bad(fmt.Sprintf(".listenerPort %d is out of range", t.ListenerPort), "use the listener's port (1-65535)")
	case t.Additional && strings.TrimSpace(t.Domain) == "":
		return bad(".additional is true but domain is missing", "set domain to the SNI certificate's domain this pair replaces")
	case lb && t.Domain != "" && !t.Additional:
		return bad(".domain is set without additional: true", "set additional: true to replace that SNI certificate, or remove domain to replace the default certificate")
	}
	return nil
}
