package aliyun

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/nlb"
)

// Largest MaxResults of NLB's listings (ListListenerCertificates takes 50).
const (
	nlbMaxPage      = 100
	nlbMaxCertsPage = 50
)

// NLB is the Network Load Balancer adapter (Nlb 2022-04-30): certificates
// of TCPSSL listeners, referencing CAS certificates as
// "<CertId>-<casRegion>". Its methods have the names, the semantics and the
// guarantees of ALB's (the SNI removal action is
// DisassociateAdditionalCertificatesWithListener here, jobs are read with
// GetJobStatus). Safe for concurrent use.
type NLB struct{ lbAdapter }

func init() { nlb.GetEndpointMap() }

// NewNLB returns an NLB adapter. An unusable Endpoint is reported by every
// call as an error that Is apierr.ErrInvalid.
func NewNLB(creds Credentials, opts RPCOptions) *NLB {
	n := &NLB{newLBAdapter("nlb", creds, opts, nlbMaxPage,
		func(region string, cfg *sdk.Config, prov credentials.CredentialsProvider) (*sdk.Client, error) {
			cl, err := nlb.NewClientWithOptions(region, cfg, prov)
			if err != nil {
				return nil, err
			}
			return &cl.Client, nil
		})}
	n.ops.get, n.ops.job, n.ops.certs = n.GetListener, n.job, n.ListListenerCertificates
	return n
}

// ListLoadBalancers returns every NLB instance of the region (all pages).
func (n *NLB) ListLoadBalancers(ctx context.Context, region string) ([]LBInstance, error) {
	var out []LBInstance
	err := listPages(ctx, n.api, region, "ListLoadBalancers", func(token string) (requests.AcsRequest, *nlb.ListLoadBalancersResponse) {
		req := nlb.CreateListLoadBalancersRequest()
		req.RegionId, req.NextToken, req.MaxResults = region, token, requests.NewInteger(n.pageSize)
		return req, nlb.CreateListLoadBalancersResponse()
	}, func(resp *nlb.ListLoadBalancersResponse) string {
		for _, lb := range resp.LoadBalancers {
			out = append(out, LBInstance{Product: "nlb", ID: lb.LoadBalancerId, Name: lb.LoadBalancerName, Region: region,
				DNSName: lb.DNSName, Status: lb.LoadBalancerStatus})
		}
		return resp.NextToken
	})
	return out, err
}

// ListListeners returns every TCPSSL listener of the region with its
// default certificate (all pages).
func (n *NLB) ListListeners(ctx context.Context, region string) ([]LBListener, error) {
	var out []LBListener
	err := listPages(ctx, n.api, region, "ListListeners", func(token string) (requests.AcsRequest, *nlb.ListListenersResponse) {
		req := nlb.CreateListListenersRequest()
		req.RegionId, req.ListenerProtocol = region, "TCPSSL"
		req.NextToken, req.MaxResults = token, requests.NewInteger(n.pageSize)
		return req, nlb.CreateListListenersResponse()
	}, func(resp *nlb.ListListenersResponse) string {
		for _, l := range resp.Listeners {
			if l.ListenerProtocol == "TCPSSL" {
				out = append(out, LBListener{Product: "nlb", ID: l.ListenerId, LoadBalancerID: l.LoadBalancerId, Region: region,
					Protocol: l.ListenerProtocol, Port: l.ListenerPort, Status: l.ListenerStatus, DefaultCertificate: first(l.CertificateIds)})
			}
		}
		return resp.NextToken
	})
	return out, err
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// GetListener reads one listener: its status and default certificate.
func (n *NLB) GetListener(ctx context.Context, region, listenerID string) (LBListener, error) {
	var out LBListener
	err := n.api.call(ctx, region, "GetListenerAttribute", func(cl *sdk.Client) error {
		req := nlb.CreateGetListenerAttributeRequest()
		req.RegionId = region
		req.ListenerId = listenerID
		resp := nlb.CreateGetListenerAttributeResponse()
		if err := cl.DoAction(req, resp); err != nil {
			return err
		}
		out = LBListener{Product: "nlb", ID: resp.ListenerId, LoadBalancerID: resp.LoadBalancerId, Region: region,
			Protocol: resp.ListenerProtocol, Port: resp.ListenerPort, Status: resp.ListenerStatus, DefaultCertificate: first(resp.CertificateIds)}
		return nil
	})
	return out, err
}

// ListListenerCertificates returns a listener's server certificates, the
// default and the additional ones with their association state (all
// pages of at most 50).
func (n *NLB) ListListenerCertificates(ctx context.Context, region, listenerID string) ([]ListenerCertificate, error) {
	var out []ListenerCertificate
	err := listPages(ctx, n.api, region, "ListListenerCertificates", func(token string) (requests.AcsRequest, *nlb.ListListenerCertificatesResponse) {
		req := nlb.CreateListListenerCertificatesRequest()
		req.RegionId, req.ListenerId, req.CertType = region, listenerID, "Server"
		req.NextToken, req.MaxResults = token, requests.NewInteger(min(n.pageSize, nlbMaxCertsPage))
		return req, nlb.CreateListListenerCertificatesResponse()
	}, func(resp *nlb.ListListenerCertificatesResponse) string {
		for _, c := range resp.Certificates {
			out = append(out, ListenerCertificate{ID: c.CertificateId, Default: c.IsDefault, Status: c.Status})
		}
		return resp.NextToken
	})
	return out, err
}

// SetDefaultCertificate makes certID the listener's server certificate;
// see ALB.SetDefaultCertificate for the guarantees.
func (n *NLB) SetDefaultCertificate(ctx context.Context, region, listenerID, certID string) error {
	return n.ops.run(ctx, n.ops.setDefault(region, listenerID, certID, "UpdateListenerAttribute", func(cl *sdk.Client) (string, error) {
		req := nlb.CreateUpdateListenerAttributeRequest()
		req.RegionId = region
		req.ListenerId = listenerID
		req.CertificateIds = &[]string{certID}
		resp := nlb.CreateUpdateListenerAttributeResponse()
		err := cl.DoAction(req, resp)
		return resp.JobId, err
	}))
}

// AssociateAdditionalCertificate adds certID as an additional certificate
// of the listener; see ALB.AssociateAdditionalCertificate.
func (n *NLB) AssociateAdditionalCertificate(ctx context.Context, region, listenerID, certID string) error {
	return n.ops.run(ctx, n.ops.associate(region, listenerID, certID, "AssociateAdditionalCertificatesWithListener", func(cl *sdk.Client) (string, error) {
		req := nlb.CreateAssociateAdditionalCertificatesWithListenerRequest()
		req.RegionId = region
		req.ListenerId = listenerID
		req.AdditionalCertificateIds = &[]string{certID}
		resp := nlb.CreateAssociateAdditionalCertificatesWithListenerResponse()
		err := cl.DoAction(req, resp)
		return resp.JobId, err
	}))
}

// DissociateAdditionalCertificate removes the additional certificate
// certID (NLB's DisassociateAdditionalCertificatesWithListener); see
// ALB.DissociateAdditionalCertificate.
func (n *NLB) DissociateAdditionalCertificate(ctx context.Context, region, listenerID, certID string) error {
	return n.ops.run(ctx, n.ops.dissociate(region, listenerID, certID, "DisassociateAdditionalCertificatesWithListener", func(cl *sdk.Client) (string, error) {
		req := nlb.CreateDisassociateAdditionalCertificatesWithListenerRequest()
		req.RegionId = region
		req.ListenerId = listenerID
		req.AdditionalCertificateIds = &[]string{certID}
		resp := nlb.CreateDisassociateAdditionalCertificatesWithListenerResponse()
		err := cl.DoAction(req, resp)
		return resp.JobId, err
	}))
}

// job reads one job with GetJobStatus (which gives no error code).
func (n *NLB) job(ctx context.Context, region, jobID string) (status, code, message string, err error) {
	err = n.api.call(ctx, region, "GetJobStatus", func(cl *sdk.Client) error {
		req := nlb.CreateGetJobStatusRequest()
		req.RegionId = region
		req.JobId = jobID
		resp := nlb.CreateGetJobStatusResponse()
		if err := cl.DoAction(req, resp); err != nil {
			return err
		}
		status = resp.Status
		return nil
	})
	return status, "", "", err
}
