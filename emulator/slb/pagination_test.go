package slb

import (
	"fmt"
	"strings"
	"testing"

	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
)

func seedInventory(t *testing.T, e *env, lbs int, ports ...int) []string {
	t.Helper()
	testKeys(t)
	a := issue(t, rsaKeyA, "inv.example.com")
	cert, err := e.s.SeedServerCertificate(zjk, "inv", a.cert, a.key, nil)
	must(t, err)
	var ids []string
	for i := range lbs {
		id, err := e.s.SeedLoadBalancer(zjk, fmt.Sprintf("lb%02d", i))
		must(t, err)
		for _, p := range ports {
			must(t, e.s.SeedHTTPSListener(zjk, id, p, cert, false))
		}
		ids = append(ids, id)
	}
	return ids
}

func TestDescribeListenersPagination(t *testing.T) {
	e := newEnv(t, Options{NoFrontends: true})
	ids := seedInventory(t, e, 11, 443, 8443, 9443)
	c := e.client(zjk)

	// pages collects every listener with the given page size and returns
	// them with the number of calls made.
	pages := func(t *testing.T, lbIDs []string, max int) ([]string, int, error) {
		var got []string
		token, calls := "", 0
		for {
			r := sdkslb.CreateDescribeLoadBalancerListenersRequest()
			if lbIDs != nil {
				r.LoadBalancerId = &lbIDs
			}
			r.ListenerProtocol, r.MaxResults, r.NextToken = "https", itoa(max), token
			resp, err := c.DescribeLoadBalancerListeners(r)
			if err != nil {
				return nil, calls, err
			}
			calls++
			if resp.MaxResults != max || len(resp.Listeners) > max {
				t.Fatalf("page of %d with MaxResults %d (echo %d)", len(resp.Listeners), max, resp.MaxResults)
			}
			for _, l := range resp.Listeners {
				got = append(got, fmt.Sprintf("%s:%d", l.LoadBalancerId, l.ListenerPort))
			}
			if resp.NextToken == "" {
				return got, calls, nil
			}
			if len(resp.Listeners) != max {
				t.Fatalf("short page (%d of %d) with a NextToken", len(resp.Listeners), max)
			}
			token = resp.NextToken
		}
	}
	tests := []struct {
		name      string
		ids       []string
		max       int
		wantN     int
		wantCalls int
		wantCode  string
	}{
		{"exactly 10 ids", ids[:10], 100, 30, 1, ""},
		{"11 ids refused", ids, 100, 0, 0, "InvalidParameter"},
		{"whole region one per page", nil, 1, 33, 33, ""},
		{"exact multiple ends with empty token", ids[:10], 15, 30, 2, ""},
		{"page boundary plus one", ids[:10], 29, 30, 2, ""},
		{"max 100", nil, 100, 33, 1, ""},
		{"MaxResults 0 refused", nil, 0, 0, 0, "InvalidParameter"},
		{"MaxResults 101 refused", nil, 101, 0, 0, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, calls, err := pages(t, tc.ids, tc.max)
			wantCode(t, err, tc.wantCode)
			if err != nil {
				return
			}
			if len(got) != tc.wantN || calls != tc.wantCalls {
				t.Fatalf("%d listeners in %d calls, want %d in %d", len(got), calls, tc.wantN, tc.wantCalls)
			}
			seen := map[string]bool{}
			for _, k := range got {
				if seen[k] {
					t.Fatalf("listener %s returned twice", k)
				}
				seen[k] = true
			}
		})
	}
	t.Run("protocol filter", func(t *testing.T) {
		r := sdkslb.CreateDescribeLoadBalancerListenersRequest()
		r.ListenerProtocol = "tcp"
		resp, err := c.DescribeLoadBalancerListeners(r)
		must(t, err)
		if len(resp.Listeners) != 0 || resp.TotalCount != 0 {
			t.Fatalf("tcp listeners: %+v", resp)
		}
	})
	t.Run("default page size 20", func(t *testing.T) {
		resp, err := c.DescribeLoadBalancerListeners(sdkslb.CreateDescribeLoadBalancerListenersRequest())
		must(t, err)
		if len(resp.Listeners) != 20 || resp.NextToken == "" || resp.TotalCount != 33 {
			t.Fatalf("default page: %d listeners, token %q, total %d", len(resp.Listeners), resp.NextToken, resp.TotalCount)
		}
	})
	t.Run("bad token", func(t *testing.T) {
		r := sdkslb.CreateDescribeLoadBalancerListenersRequest()
		r.NextToken = "!!"
		_, err := c.DescribeLoadBalancerListeners(r)
		wantCode(t, err, "InvalidParameter")
	})
}

func TestDescribeLoadBalancersPaging(t *testing.T) {
	e := newEnv(t, Options{NoFrontends: true})
	ids := seedInventory(t, e, 11)
	c := e.client(zjk)
	tests := []struct {
		name           string
		page, size     int
		ids            []string
		wantN, wantTot int
		wantCode       string
	}{
		{"first page", 1, 5, nil, 5, 11, ""},
		{"last partial page", 3, 5, nil, 1, 11, ""},
		{"beyond the end", 4, 5, nil, 0, 11, ""},
		{"all in one", 1, 100, nil, 11, 11, ""},
		{"id filter", 1, 100, ids[2:4], 2, 2, ""},
		{"page size 101 refused", 1, 101, nil, 0, 0, "InvalidParameter"},
		{"11 ids refused", 1, 10, ids, 0, 0, "InvalidParameter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sdkslb.CreateDescribeLoadBalancersRequest()
			r.PageNumber, r.PageSize = itoa(tc.page), itoa(tc.size)
			r.LoadBalancerId = strings.Join(tc.ids, ",")
			resp, err := c.DescribeLoadBalancers(r)
			wantCode(t, err, tc.wantCode)
			if err != nil {
				return
			}
			if len(resp.LoadBalancers.LoadBalancer) != tc.wantN || resp.TotalCount != tc.wantTot || resp.PageNumber != tc.page {
				t.Fatalf("got %d of %d (page %d)", len(resp.LoadBalancers.LoadBalancer), resp.TotalCount, resp.PageNumber)
			}
		})
	}
}
