package issuance

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// TestOrdersPerRenewal measures orders at the CA per issued certificate
// with several runs at once for every pair (timer, manual invokes, FC
// retries) while the Alidns API fails: 5xx answers, connection resets,
// throttling and lost answers after records were created. The goal is
// exactly one order per certificate. docs/benchmarks.md quotes its log line.
func TestOrdersPerRenewal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, a := range []string{"AddDomainRecord", "DeleteDomainRecord", "DescribeSubDomainRecords", "DescribeDomains"} {
		e.inj.Set(faults.Rule{Action: a, ServerErrorRate: 0.15, ResetRate: 0.05, ThrottleRate: 0.1})
	}
	e.alidns.LoseAnswers("AddDomainRecord", 3)
	const pairs, runsAtOnce = 4, 3
	for i := range pairs {
		e.drop(fmt.Sprintf("p%d", i), fmt.Sprintf("domains: [p%d.example.test, \"*.p%d.example.test\"]", i, i))
	}
	now := time.Now()
	issued, runs := 0, 0
	for round := 0; issued < pairs && round < 5; round++ {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range runsAtOnce {
			wg.Go(func() {
				res := e.run(t, now, "")
				mu.Lock()
				defer mu.Unlock()
				runs++
				for _, nr := range res.Names {
					if nr.Status == outcome.Issued {
						issued++
					}
				}
			})
		}
		wg.Wait()
		now = now.Add(73 * time.Hour) // past any backoff
	}
	if issued != pairs {
		t.Fatalf("issued %d of %d pairs", issued, pairs)
	}
	orders := e.ca.Orders()
	t.Logf("orders per renewal: %d orders at the CA for %d certificates (%.2f), %d runs (%d at once per round), Alidns faults %+v",
		orders, issued, float64(orders)/float64(issued), runs, runsAtOnce, e.inj.Stats()["AddDomainRecord"])
	if orders != pairs {
		t.Errorf("%d orders for %d certificates; want exactly one each", orders, pairs)
	}
	if left := e.txtLeft(); len(left) != 0 {
		t.Errorf("TXT records left: %+v", left)
	}
}
