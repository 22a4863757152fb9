package aliyun

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/slb"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// listPageSize is the page size of DescribeLoadBalancers (the API maximum).
const listPageSize = 100

// maxPages bounds every pagination loop against a misbehaving service.
const maxPages = 1000

// ListLoadBalancers returns every load balancer of the region (all pages,
// PageSize 100).
func (s *SLB) ListLoadBalancers(ctx context.Context, region string) ([]clb.LoadBalancer, error) {
	var out []clb.LoadBalancer
	for page := 1; page <= maxPages; page++ {
		var got []clb.LoadBalancer
		var total int
		err := s.do(ctx, region, "DescribeLoadBalancers", func(c *slb.Client) error {
			req := slb.CreateDescribeLoadBalancersRequest()
			req.RegionId = region
			req.PageNumber = requests.NewInteger(page)
			req.PageSize = requests.NewInteger(listPageSize)
			resp := slb.CreateDescribeLoadBalancersResponse()
			if err := c.DoAction(req, resp); err != nil {
				return err
			}
			total = resp.TotalCount
			got = got[:0]
			for _, lb := range resp.LoadBalancers.LoadBalancer {
				got = append(got, lbFromList(region, lb))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(got) == 0 || len(got) < listPageSize || (total > 0 && len(out) >= total) {
			break
		}
	}
	return out, nil
}

// DescribeLoadBalancer returns one load balancer and its backend servers.
func (s *SLB) DescribeLoadBalancer(ctx context.Context, region, id string) (clb.LoadBalancer, []clb.Backend, error) {
	var lb clb.LoadBalancer
	var backends []clb.Backend
	err := s.do(ctx, region, "DescribeLoadBalancerAttribute", func(c *slb.Client) error {
		req := slb.CreateDescribeLoadBalancerAttributeRequest()
		req.RegionId = region
		req.LoadBalancerId = id
		resp := slb.CreateDescribeLoadBalancerAttributeResponse()
		if err := c.DoAction(req, resp); err != nil {
			return err
		}
		lb = clb.LoadBalancer{
			ID:          resp.LoadBalancerId,
			Name:        resp.LoadBalancerName,
			Region:      firstNonEmpty(resp.RegionId, region),
			Address:     resp.Address,
			AddressType: resp.AddressType,
			Status:      resp.LoadBalancerStatus,
			Spec:        resp.LoadBalancerSpec,
			PayType:     resp.PayType,
			MasterZone:  resp.MasterZoneId,
			SlaveZone:   resp.SlaveZoneId,
			Bandwidth:   resp.Bandwidth,
			Tags:        tagMap(resp.Tags.Tag),
		}
		backends = backends[:0]
		for _, b := range resp.BackendServers.BackendServer {
			backends = append(backends, clb.Backend{ServerID: b.ServerId, Weight: b.Weight, Type: b.Type})
		}
		return nil
	})
	if err != nil {
		return clb.LoadBalancer{}, nil, err
	}
	if lb.ID == "" {
		lb.ID = id
	}
	return lb, backends, nil
}

// CreateLoadBalancer creates a load balancer. clientToken makes the call
// idempotent (the same token returns the same instance), so it is retried
// like a read.
func (s *SLB) CreateLoadBalancer(ctx context.Context, region string, spec clb.LoadBalancerSpec, clientToken string) (clb.LoadBalancer, error) {
	var lb clb.LoadBalancer
	err := s.do(ctx, region, "CreateLoadBalancer", func(c *slb.Client) error {
		req := slb.CreateCreateLoadBalancerRequest()
		req.RegionId = region
		req.LoadBalancerName = spec.Name
		req.AddressType = spec.AddressType
		req.LoadBalancerSpec = spec.Spec
		req.PayType = spec.PayType
		req.MasterZoneId = spec.MasterZone
		req.SlaveZoneId = spec.SlaveZone
		req.ClientToken = clientToken
		if spec.Bandwidth > 0 {
			req.Bandwidth = requests.NewInteger(spec.Bandwidth)
		}
		if len(spec.Tags) > 0 {
			var t []slb.CreateLoadBalancerTag
			for _, k := range sortedKeys(spec.Tags) {
				t = append(t, slb.CreateLoadBalancerTag{Key: k, Value: spec.Tags[k]})
			}
			req.Tag = &t
		}
		resp := slb.CreateCreateLoadBalancerResponse()
		if err := c.DoAction(req, resp); err != nil {
			return err
		}
		lb = clb.LoadBalancer{
			ID:          resp.LoadBalancerId,
			Name:        firstNonEmpty(resp.LoadBalancerName, spec.Name),
			Region:      region,
			Address:     resp.Address,
			AddressType: spec.AddressType,
			Spec:        spec.Spec,
			PayType:     spec.PayType,
			MasterZone:  spec.MasterZone,
			SlaveZone:   spec.SlaveZone,
			Bandwidth:   spec.Bandwidth,
			Tags:        maps.Clone(spec.Tags),
		}
		return nil
	})
	if err != nil {
		return clb.LoadBalancer{}, err
	}
	return lb, nil
}

// DeleteLoadBalancer deletes a load balancer; one that does not exist (any
// more) is not an error, so a retried destroy converges.
func (s *SLB) DeleteLoadBalancer(ctx context.Context, region, id string) error {
	return s.deleteGone(ctx, region, "DeleteLoadBalancer", func() (requests.AcsRequest, responses.AcsResponse) {
		req := slb.CreateDeleteLoadBalancerRequest()
		req.RegionId, req.LoadBalancerId = region, id
		return req, slb.CreateDeleteLoadBalancerResponse()
	})
}

// maxBackendsPerCall is the AddBackendServers limit per request.
const maxBackendsPerCall = 20

type backendJSON struct {
	ServerID string `json:"ServerId"`
	Weight   string `json:"Weight,omitempty"`
	Type     string `json:"Type,omitempty"`
}

// AddBackendServers attaches backend servers (20 per request); a server
// already attached gets the new weight (the service's Add semantics).
func (s *SLB) AddBackendServers(ctx context.Context, region, lbID string, b []clb.Backend) error {
	items := make([]backendJSON, 0, len(b))
	for _, x := range b {
		items = append(items, backendJSON{ServerID: x.ServerID, Weight: strconv.Itoa(x.Weight), Type: cmp.Or(x.Type, "ecs")})
	}
	return s.backendCalls(ctx, region, "AddBackendServers", items, func(body string) (requests.AcsRequest, responses.AcsResponse) {
		req := slb.CreateAddBackendServersRequest()
		req.RegionId, req.LoadBalancerId, req.BackendServers = region, lbID, body
		return req, slb.CreateAddBackendServersResponse()
	})
}

// RemoveBackendServers detaches backend servers by id (20 per request).
func (s *SLB) RemoveBackendServers(ctx context.Context, region, lbID string, ids []string) error {
	items := make([]backendJSON, 0, len(ids))
	for _, id := range ids {
		items = append(items, backendJSON{ServerID: id})
	}
	return s.backendCalls(ctx, region, "RemoveBackendServers", items, func(body string) (requests.AcsRequest, responses.AcsResponse) {
		req := slb.CreateRemoveBackendServersRequest()
		req.RegionId, req.LoadBalancerId, req.BackendServers = region, lbID, body
		return req, slb.CreateRemoveBackendServersResponse()
	})
}

// backendCalls sends items maxBackendsPerCall at a time, as the JSON
// BackendServers of action; build makes a fresh request per attempt.
func (s *SLB) backendCalls(ctx context.Context, region, action string, items []backendJSON,
	build func(body string) (requests.AcsRequest, responses.AcsResponse)) error {
	for start := 0; start < len(items); start += maxBackendsPerCall {
		body, _ := json.Marshal(items[start:min(start+maxBackendsPerCall, len(items))])
		err := s.do(ctx, region, action, func(c *slb.Client) error {
			req, resp := build(string(body))
			return c.DoAction(req, resp)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func lbFromList(region string, lb slb.LoadBalancer) clb.LoadBalancer {
	return clb.LoadBalancer{
		ID:          lb.LoadBalancerId,
		Name:        lb.LoadBalancerName,
		Region:      firstNonEmpty(lb.RegionId, region),
		Address:     lb.Address,
		AddressType: lb.AddressType,
		Status:      lb.LoadBalancerStatus,
		Spec:        lb.LoadBalancerSpec,
		PayType:     lb.PayType,
		MasterZone:  lb.MasterZoneId,
		SlaveZone:   lb.SlaveZoneId,
		Bandwidth:   lb.Bandwidth,
		Tags:        tagMap(lb.Tags.Tag),
	}
}

func tagMap(tags []slb.Tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.TagKey] = t.TagValue
	}
	return m
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
