package pairs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
)

// TestParseDeployTargetTypes: deploy.yaml targets name a CLB, ALB or NLB
// listener (type, listenerId, additional); each mistake is refused with
// the file, the field and the fix.
func TestParseDeployTargetTypes(t *testing.T) {
	const file = "certs/www/deploy.yaml"
	for _, tc := range []struct {
		name, yaml string
		want       string // "" = accepted; else a fragment of the error
	}{
		{"clb default", "targets: [{region: r, loadBalancerId: lb-1, listenerPort: 443}]", ""},
		{"clb typed", "targets: [{type: clb, region: r, loadBalancerId: lb-1, listenerPort: 443, domain: a.example.com}]", ""},
		{"alb by id", "targets: [{type: alb, region: r, loadBalancerId: alb-1, listenerId: lsn-1}]", ""},
		{"nlb by port, additional", "targets: [{type: nlb, region: r, loadBalancerId: nlb-1, listenerPort: 443, domain: a.example.com, additional: true}]", ""},
		{"unknown type", "targets: [{type: elb, region: r, loadBalancerId: x, listenerPort: 443}]", `targets[0].type "elb"`},
		{"alb without listener", "targets: [{type: alb, region: r, loadBalancerId: alb-1}]", "targets[0] names no listener"},
		{"listenerId on clb", "targets: [{region: r, loadBalancerId: lb-1, listenerPort: 443, listenerId: lsn-1}]", "targets[0].listenerId is set on a CLB target"},
		{"additional without domain", "targets: [{type: alb, region: r, loadBalancerId: alb-1, listenerId: lsn-1, additional: true}]", "targets[0].additional is true but domain is missing"},
		{"alb domain without additional", "targets: [{type: alb, region: r, loadBalancerId: alb-1, listenerId: lsn-1, domain: a.example.com}]", "targets[0].domain is set without additional: true"},
		{"alb port out of range", "targets: [{type: alb, region: r, loadBalancerId: alb-1, listenerPort: 70000}]", "targets[0].listenerPort 70000 is out of range"},
		{"unknown field", "targets: [{type: alb, region: r, loadBalancerId: alb-1, listenerID: lsn-1}]", "field listenerID not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pairs.ParseDeploy(file, []byte(tc.yaml))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), file) {
				t.Fatalf("error %v, want one naming %s and %q", err, file, tc.want)
			}
			var pe *certs.Error
			if !errors.As(err, &pe) || pe.Fix == "" {
				t.Fatalf("error %T without a fix", err)
			}
		})
	}
}
