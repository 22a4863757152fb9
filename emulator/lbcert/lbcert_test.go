package lbcert

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

func leaf(names ...string) *tls.Certificate {
	return &tls.Certificate{Leaf: &x509.Certificate{DNSNames: names}}
}

func TestSelect(t *testing.T) {
	def, exact, wild := leaf("default.example.com"), leaf("a.shop.example.org"), leaf("*.shop.example.org")
	extra := []*tls.Certificate{wild, exact}
	for _, tc := range []struct {
		sni  string
		want *tls.Certificate
	}{
		{"a.shop.example.org", exact}, // exact beats an earlier wildcard
		{"A.Shop.Example.org.", exact},
		{"b.shop.example.org", wild},
		{"x.b.shop.example.org", def}, // a wildcard covers one label only
		{"shop.example.org", def},
		{"", def},
	} {
		if got := Select(tc.sni, def, extra); got != tc.want {
			t.Errorf("Select(%q) picked %v", tc.sni, got.Leaf.DNSNames)
		}
	}
}

// TestJobsSettleInOrder: only due jobs complete, in start order; a failed
// job rolls its change back and the listener is Running again either way.
func TestJobsSettleInOrder(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	jobs := NewJobs("")
	l := &Listener{ID: "lsn-1", Status: Running, Default: "1-cn-hangzhou"}
	j1 := l.SetDefault(jobs, t0, JobSpec{API: "UpdateListenerAttribute", Duration: 2 * time.Second}, "2-cn-hangzhou")
	if Busy(l) == nil || l.Status != Configuring {
		t.Fatal("a listener with a job is not busy")
	}
	jobs.Settle(t0.Add(time.Second))
	if j1.Status != JobProcessing || l.Default != "1-cn-hangzhou" {
		t.Fatalf("settled early: %+v %+v", j1, l)
	}
	jobs.Settle(t0.Add(2 * time.Second))
	if j1.Status != JobSucceeded || l.Default != "2-cn-hangzhou" || l.Status != Running || l.Busy() {
		t.Fatalf("after due: %+v %+v", j1, l)
	}
	j2 := l.Associate(jobs, t0.Add(3*time.Second), JobSpec{Duration: time.Second, Fail: true}, []string{"3-cn-hangzhou"})
	if _, extra := l.Serving(); len(extra) != 0 {
		t.Fatal("an Associating certificate is served")
	}
	jobs.Settle(t0.Add(time.Hour))
	if j2.Status != JobFailed || j2.ErrorCode == "" || len(l.Extra) != 0 || l.Status != Running {
		t.Fatalf("failed association: %+v %+v", j2, l)
	}
	if got := jobs.All(); len(got) != 2 || got[0].ID != j1.ID {
		t.Fatalf("All: %+v", got)
	}
}
