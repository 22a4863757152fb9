package rotation

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

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
		return Deploy{}, &PairError{File: file, Problem: "is not valid deploy YAML: " + err.Error(),
			Fix: "fields are targets (region, loadBalancerId, listenerPort, domain), discover, keep and force"}
	}
	for i, t := range d.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		switch {
		case strings.TrimSpace(t.Region) == "":
			return Deploy{}, &PairError{File: file, Problem: field + ".region is missing", Fix: "set the region of the load balancer, e.g. cn-zhangjiakou"}
		case strings.TrimSpace(t.LoadBalancerID) == "":
			return Deploy{}, &PairError{File: file, Problem: field + ".loadBalancerId is missing", Fix: "set the id of the load balancer (lb-...)"}
		case t.ListenerPort < 1 || t.ListenerPort > 65535:
			return Deploy{}, &PairError{File: file, Problem: fmt.Sprintf("%s.listenerPort %d is out of range", field, t.ListenerPort), Fix: "use the HTTPS listener's front port (1-65535)"}
		}
	}
	if d.Keep != nil && *d.Keep < 0 {
		return Deploy{}, &PairError{File: file, Problem: fmt.Sprintf("keep is %d", *d.Keep), Fix: "use 0 or more"}
	}
	return d, nil
}
