package aliyun

import (
	"context"
	"fmt"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/slb"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// Paging of DescribeLoadBalancerListeners.
const (
	listenerIDsPerCall = 10
	listenerMaxResults = 100
)

// ListHTTPSListeners returns the HTTPS listeners of the given load balancers
// (DescribeLoadBalancerListeners, 10 ids per call, NextToken cursor with
// MaxResults 100). Each listener's ServerCertificateID comes from the
// response, with no per-listener describe.
func (s *SLB) ListHTTPSListeners(ctx context.Context, region string, lbIDs []string) ([]clb.Listener, error) {
	var out []clb.Listener
	for start := 0; start < len(lbIDs); start += listenerIDsPerCall {
		ids := append([]string(nil), lbIDs[start:min(start+listenerIDsPerCall, len(lbIDs))]...)
		token := ""
		seen := map[string]bool{}
		for page := 0; ; page++ {
			if page >= maxPages {
				return nil, &APIError{Service: "slb", Action: "DescribeLoadBalancerListeners", Region: region,
					Code: "PaginationLoop", Message: fmt.Sprintf("more than %d pages", maxPages), Kind: apierr.ErrTransient}
			}
			var got []clb.Listener
			var next string
			err := s.do(ctx, region, "DescribeLoadBalancerListeners", func(c *slb.Client) error {
				req := slb.CreateDescribeLoadBalancerListenersRequest()
				req.RegionId = region
				req.LoadBalancerId = &ids
				req.ListenerProtocol = "https"
				req.MaxResults = requests.NewInteger(listenerMaxResults)
				req.NextToken = token
				resp := slb.CreateDescribeLoadBalancerListenersResponse()
				if err := c.DoAction(req, resp); err != nil {
					return err
				}
				next = resp.NextToken
				got = got[:0]
				for _, l := range resp.Listeners {
					if !strings.EqualFold(l.ListenerProtocol, "https") {
						continue
					}
					got = append(got, clb.Listener{
						Region:              region,
						LoadBalancerID:      l.LoadBalancerId,
						Port:                l.ListenerPort,
						Protocol:            "https",
						Status:              l.Status,
						BackendPort:         l.BackendServerPort,
						Bandwidth:           l.Bandwidth,
						ServerCertificateID: l.HTTPSListenerConfig.ServerCertificateId,
						HealthCheck:         l.HTTPSListenerConfig.HealthCheck,
						StickySession:       l.HTTPSListenerConfig.StickySession,
						Description:         l.Description,
					})
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			out = append(out, got...)
			if next == "" {
				break
			}
			if seen[next] {
				return nil, &APIError{Service: "slb", Action: "DescribeLoadBalancerListeners", Region: region,
					Code: "PaginationLoop", Message: "the service returned the same NextToken twice", Kind: apierr.ErrTransient}
			}
			seen[next] = true
			token = next
		}
	}
	return out, nil
}

// DescribeHTTPSListener returns an HTTPS listener and its domain extensions.
// A missing listener gives an error that Is apierr.ErrNotFound.
func (s *SLB) DescribeHTTPSListener(ctx context.Context, region, lbID string, port int) (clb.Listener, []clb.DomainExtension, error) {
	var l clb.Listener
	var exts []clb.DomainExtension
	missing := false
	err := s.do(ctx, region, "DescribeLoadBalancerHTTPSListenerAttribute", func(c *slb.Client) error {
		req := slb.CreateDescribeLoadBalancerHTTPSListenerAttributeRequest()
		req.RegionId = region
		req.LoadBalancerId = lbID
		req.ListenerPort = requests.NewInteger(port)
		resp := slb.CreateDescribeLoadBalancerHTTPSListenerAttributeResponse()
		if err := c.DoAction(req, resp); err != nil {
			return err
		}
		missing = resp.ListenerPort == 0
		l = clb.Listener{
			Region:              region,
			LoadBalancerID:      firstNonEmpty(resp.LoadBalancerId, lbID),
			Port:                resp.ListenerPort,
			Protocol:            "https",
			Status:              resp.Status,
			BackendPort:         resp.BackendServerPort,
			Bandwidth:           resp.Bandwidth,
			ServerCertificateID: resp.ServerCertificateId,
			HealthCheck:         resp.HealthCheck,
			StickySession:       resp.StickySession,
			Description:         resp.Description,
		}
		exts = exts[:0]
		for _, d := range resp.DomainExtensions.DomainExtension {
			exts = append(exts, domainExt(region, l.LoadBalancerID, port, d))
		}
		return nil
	})
	if err != nil {
		return clb.Listener{}, nil, err
	}
	if missing {
		return clb.Listener{}, nil, &APIError{Service: "slb", Action: "DescribeLoadBalancerHTTPSListenerAttribute",
			Region: region, Code: "ListenerNotFound", Attempts: 1, Kind: apierr.ErrNotFound,
			Message: fmt.Sprintf("no HTTPS listener on port %d of %s", port, lbID)}
	}
	return l, exts, nil
}

// ListDomainExtensions returns the domain extensions (SNI certificates) of
// an HTTPS listener.
func (s *SLB) ListDomainExtensions(ctx context.Context, region, lbID string, port int) ([]clb.DomainExtension, error) {
	var exts []clb.DomainExtension
	err := s.do(ctx, region, "DescribeDomainExtensions", func(c *slb.Client) error {
		req := slb.CreateDescribeDomainExtensionsRequest()
		req.RegionId = region
		req.LoadBalancerId = lbID
		req.ListenerPort = requests.NewInteger(port)
		resp := slb.CreateDescribeDomainExtensionsResponse()
		if err := c.DoAction(req, resp); err != nil {
			return err
		}
		exts = exts[:0]
		for _, d := range resp.DomainExtensions.DomainExtension {
			exts = append(exts, domainExt(region, lbID, port, d))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return exts, nil
}

// SetListenerCertificate points an HTTPS listener's default certificate at
// certID.
func (s *SLB) SetListenerCertificate(ctx context.Context, region, lbID string, port int, certID string) error {
	return s.do(ctx, region, "SetLoadBalancerHTTPSListenerAttribute", func(c *slb.Client) error {
		req := slb.CreateSetLoadBalancerHTTPSListenerAttributeRequest()
		req.RegionId = region
		req.LoadBalancerId = lbID
		req.ListenerPort = requests.NewInteger(port)
		req.ServerCertificateId = certID
		return c.DoAction(req, slb.CreateSetLoadBalancerHTTPSListenerAttributeResponse())
	})
}

// SetDomainExtensionCertificate points a domain extension at certID.
func (s *SLB) SetDomainExtensionCertificate(ctx context.Context, region, extID, certID string) error {
	return s.do(ctx, region, "SetDomainExtensionAttribute", func(c *slb.Client) error {
		req := slb.CreateSetDomainExtensionAttributeRequest()
		req.RegionId = region
		req.DomainExtensionId = extID
		req.ServerCertificateId = certID
		return c.DoAction(req, slb.CreateSetDomainExtensionAttributeResponse())
	})
}

// CreateHTTPSListener creates an HTTPS listener (it starts stopped; call
// StartListener). Zero Bandwidth means -1 (unlimited); empty HealthCheck
// and StickySession mean "off".
func (s *SLB) CreateHTTPSListener(ctx context.Context, region string, l clb.Listener) error {
	return s.do(ctx, region, "CreateLoadBalancerHTTPSListener", func(c *slb.Client) error {
		req := slb.CreateCreateLoadBalancerHTTPSListenerRequest()
		req.RegionId = region
		req.LoadBalancerId = l.LoadBalancerID
		req.ListenerPort = requests.NewInteger(l.Port)
		if l.BackendPort > 0 {
			req.BackendServerPort = requests.NewInteger(l.BackendPort)
		}
		req.Bandwidth = requests.NewInteger(bandwidth(l.Bandwidth))
		req.ServerCertificateId = l.ServerCertificateID
		req.HealthCheck = onOff(l.HealthCheck)
		req.StickySession = onOff(l.StickySession)
		req.Description = l.Description
		return c.DoAction(req, slb.CreateCreateLoadBalancerHTTPSListenerResponse())
	})
}

// SetHTTPSListenerAttribute updates an HTTPS listener's bandwidth, health
// check, sticky session, description and (when set) certificate.
func (s *SLB) SetHTTPSListenerAttribute(ctx context.Context, region string, l clb.Listener) error {
	return s.do(ctx, region, "SetLoadBalancerHTTPSListenerAttribute", func(c *slb.Client) error {
		req := slb.CreateSetLoadBalancerHTTPSListenerAttributeRequest()
		req.RegionId = region
		req.LoadBalancerId = l.LoadBalancerID
		req.ListenerPort = requests.NewInteger(l.Port)
		req.Bandwidth = requests.NewInteger(bandwidth(l.Bandwidth))
		req.ServerCertificateId = l.ServerCertificateID
		req.HealthCheck = onOff(l.HealthCheck)
		req.StickySession = onOff(l.StickySession)
		req.Description = l.Description
		return c.DoAction(req, slb.CreateSetLoadBalancerHTTPSListenerAttributeResponse())
	})
}

// StartListener starts a listener.
func (s *SLB) StartListener(ctx context.Context, region, lbID string, port int) error {
	return s.do(ctx, region, "StartLoadBalancerListener", func(c *slb.Client) error {
		req := slb.CreateStartLoadBalancerListenerRequest()
		req.RegionId = region
		req.LoadBalancerId = lbID
		req.ListenerPort = requests.NewInteger(port)
		return c.DoAction(req, slb.CreateStartLoadBalancerListenerResponse())
	})
}

// StopListener stops a listener.
func (s *SLB) StopListener(ctx context.Context, region, lbID string, port int) error {
	return s.do(ctx, region, "StopLoadBalancerListener", func(c *slb.Client) error {
		req := slb.CreateStopLoadBalancerListenerRequest()
		req.RegionId = region
		req.LoadBalancerId = lbID
		req.ListenerPort = requests.NewInteger(port)
		return c.DoAction(req, slb.CreateStopLoadBalancerListenerResponse())
	})
}

// DeleteListener deletes a listener; one that does not exist (any more) is
// not an error.
func (s *SLB) DeleteListener(ctx context.Context, region, lbID string, port int) error {
	return s.deleteGone(ctx, region, "DeleteLoadBalancerListener", func() (requests.AcsRequest, responses.AcsResponse) {
		req := slb.CreateDeleteLoadBalancerListenerRequest()
		req.RegionId, req.LoadBalancerId, req.ListenerPort = region, lbID, requests.NewInteger(port)
		return req, slb.CreateDeleteLoadBalancerListenerResponse()
	})
}

// CreateDomainExtension adds an SNI certificate for domain to an HTTPS
// listener and returns the new extension's id.
func (s *SLB) CreateDomainExtension(ctx context.Context, region, lbID string, port int, domain, certID string) (string, error) {
	var id string
	err := s.do(ctx, region, "CreateDomainExtension", func(c *slb.Client) error {
		req := slb.CreateCreateDomainExtensionRequest()
		req.RegionId = region
		req.LoadBalancerId = lbID
		req.ListenerPort = requests.NewInteger(port)
		req.Domain = domain
		req.ServerCertificateId = certID
		resp := slb.CreateCreateDomainExtensionResponse()
		if err := c.DoAction(req, resp); err != nil {
			return err
		}
		id = resp.DomainExtensionId
		return nil
	})
	return id, err
}

// DeleteDomainExtension deletes a domain extension; one that does not exist
// (any more) is not an error.
func (s *SLB) DeleteDomainExtension(ctx context.Context, region, extID string) error {
	return s.deleteGone(ctx, region, "DeleteDomainExtension", func() (requests.AcsRequest, responses.AcsResponse) {
		req := slb.CreateDeleteDomainExtensionRequest()
		req.RegionId, req.DomainExtensionId = region, extID
		return req, slb.CreateDeleteDomainExtensionResponse()
	})
}

func domainExt(region, lbID string, port int, d slb.DomainExtension) clb.DomainExtension {
	return clb.DomainExtension{
		ID:                  d.DomainExtensionId,
		Region:              region,
		LoadBalancerID:      lbID,
		ListenerPort:        port,
		Domain:              d.Domain,
		ServerCertificateID: d.ServerCertificateId,
	}
}

func bandwidth(b int) int {
	if b == 0 {
		return -1
	}
	return b
}

func onOff(v string) string {
	if strings.EqualFold(v, "on") {
		return "on"
	}
	return "off"
}
