package aliyun

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alb"
)

// albMaxPage is the largest MaxResults of ALB's listings.
const albMaxPage = 100

// ALB is the Application Load Balancer adapter (Alb 2020-06-16): listener
// certificates of HTTPS and QUIC listeners, which reference CAS
// certificates as "<CertId>-<casRegion>". Every write is asynchronous and
// waited out (see SetDefaultCertificate). Safe for concurrent use.
type ALB struct{ lbAdapter }

func init() { alb.GetEndpointMap() }

// NewALB returns an ALB adapter. An unusable Endpoint is reported by every
// call as an error that Is apierr.ErrInvalid.
func NewALB(creds Credentials, opts RPCOptions) *ALB {
	a := &ALB{newLBAdapter("alb", creds, opts, albMaxPage,
		func(region string, cfg *sdk.Config, prov credentials.CredentialsProvider) (*sdk.Client, error) {
			cl, err := alb.NewClientWithOptions(region, cfg, prov)
			if err != nil {
				return nil, err
			}
			return &cl.Client, nil
		})}
	a.ops.get, a.ops.job, a.ops.certs = a.GetListener, a.job, a.ListListenerCertificates
	return a
}

// ListLoadBalancers returns every ALB instance of the region (all pages).
func (a *ALB) ListLoadBalancers(ctx context.Context, region string) ([]LBInstance, error) {
	var out []LBInstance
	err := listPages(ctx, a.api, region, "ListLoadBalancers", func(token string) (requests.AcsRequest, *alb.ListLoadBalancersResponse) {
		req := alb.CreateListLoadBalancersRequest()
		req.RegionId, req.NextToken, req.MaxResults = region, token, requests.NewInteger(a.pageSize)
		return req, alb.CreateListLoadBalancersResponse()
	}, func(resp *alb.ListLoadBalancersResponse) string {
		for _, lb := range resp.LoadBalancers {
			out = append(out, LBInstance{Product: "alb", ID: lb.LoadBalancerId, Name: lb.LoadBalancerName, Region: region,
				DNSName: lb.DNSName, Edition: lb.LoadBalancerEdition, Status: lb.LoadBalancerStatus})
		}
		return resp.NextToken
	})
	return out, err
}

// ListListeners returns every HTTPS and QUIC listener of the region (all
// pages); their DefaultCertificate is empty (ListListeners does not give
// it: read ListListenerCertificates).
func (a *ALB) ListListeners(ctx context.Context, region string) ([]LBListener, error) {
	var out []LBListener
	err := listPages(ctx, a.api, region, "ListListeners", func(token string) (requests.AcsRequest, *alb.ListListenersResponse) {
		req := alb.CreateListListenersRequest()
		req.RegionId, req.NextToken, req.MaxResults = region, token, requests.NewInteger(a.pageSize)
		return req, alb.CreateListListenersResponse()
	}, func(resp *alb.ListListenersResponse) string {
		for _, l := range resp.Listeners {
			if l.ListenerProtocol == "HTTPS" || l.ListenerProtocol == "QUIC" {
				out = append(out, LBListener{Product: "alb", ID: l.ListenerId, LoadBalancerID: l.LoadBalancerId, Region: region,
					Protocol: l.ListenerProtocol, Port: l.ListenerPort, Status: l.ListenerStatus})
			}
		}
		return resp.NextToken
	})
	return out, err
}

// GetListener reads one listener: its status and default certificate.
func (a *ALB) GetListener(ctx context.Context, region, listenerID string) (LBListener, error) {
	var out LBListener
	err := a.api.call(ctx, region, "GetListenerAttribute", func(cl *sdk.Client) error {
		req := alb.CreateGetListenerAttributeRequest()
		req.RegionId = region
		req.ListenerId = listenerID
		resp := alb.CreateGetListenerAttributeResponse()
		if err := cl.DoAction(req, resp); err != nil {
			return err
		}
		out = LBListener{Product: "alb", ID: resp.ListenerId, LoadBalancerID: resp.LoadBalancerId, Region: region,
			Protocol: resp.ListenerProtocol, Port: resp.ListenerPort, Status: resp.ListenerStatus}
		for _, c := range resp.Certificates {
			if c.IsDefault || len(resp.Certificates) == 1 {
				out.DefaultCertificate = c.CertificateId
			}
		}
		return nil
	})
	return out, err
}

// ListListenerCertificates returns a listener's server certificates, the
// default and the additional ones with their association state (all
// pages).
func (a *ALB) ListListenerCertificates(ctx context.Context, region, listenerID string) ([]ListenerCertificate, error) {
	var out []ListenerCertificate
	err := listPages(ctx, a.api, region, "ListListenerCertificates", func(token string) (requests.AcsRequest, *alb.ListListenerCertificatesResponse) {
		req := alb.CreateListListenerCertificatesRequest()
		req.RegionId, req.ListenerId, req.CertificateType = region, listenerID, "Server"
		req.NextToken, req.MaxResults = token, requests.NewInteger(a.pageSize)
		return req, alb.CreateListListenerCertificatesResponse()
	}, func(resp *alb.ListListenerCertificatesResponse) string {
		for _, c := range resp.Certificates {
			out = append(out, ListenerCertificate{ID: c.CertificateId, Default: c.IsDefault, Status: c.Status})
		}
		return resp.NextToken
	})
	return out, err
}

// SetDefaultCertificate makes certID ("<CertId>-<casRegion>"; a bare id is
// refused before anything is sent) the listener's default certificate and
// returns once the job has ended. It never writes while the listener is
// Configuring, waits out IncorrectStatus.Listener and retries, does nothing
// when certID is already the default, and reports a job that ends Failed
// as a *JobError naming the load balancer, listener and certificate.
func (a *ALB) SetDefaultCertificate(ctx context.Context, region, listenerID, certID string) error {
	return a.ops.run(ctx, a.ops.setDefault(region, listenerID, certID, "UpdateListenerAttribute", func(cl *sdk.Client) (string, error) {
		req := alb.CreateUpdateListenerAttributeRequest()
		req.RegionId = region
		req.ListenerId = listenerID
		req.Certificates = &[]alb.UpdateListenerAttributeCertificates{{CertificateId: certID}}
		resp := alb.CreateUpdateListenerAttributeResponse()
		err := cl.DoAction(req, resp)
		return resp.JobId, err
	}))
}

// AssociateAdditionalCertificate adds certID as an additional (SNI)
// certificate of the listener, with the guarantees of
// SetDefaultCertificate; one already associated is not an error. A quota
// refusal Is apierr.ErrQuota.
func (a *ALB) AssociateAdditionalCertificate(ctx context.Context, region, listenerID, certID string) error {
	return a.ops.run(ctx, a.ops.associate(region, listenerID, certID, "AssociateAdditionalCertificatesWithListener", func(cl *sdk.Client) (string, error) {
		req := alb.CreateAssociateAdditionalCertificatesWithListenerRequest()
		req.RegionId = region
		req.ListenerId = listenerID
		req.Certificates = &[]alb.AssociateAdditionalCertificatesWithListenerCertificates{{CertificateId: certID}}
		resp := alb.CreateAssociateAdditionalCertificatesWithListenerResponse()
		err := cl.DoAction(req, resp)
		return resp.JobId, err
	}))
}

// DissociateAdditionalCertificate removes the additional certificate
// certID from the listener, with the guarantees of SetDefaultCertificate;
// one not associated is not an error.
func (a *ALB) DissociateAdditionalCertificate(ctx context.Context, region, listenerID, certID string) error {
	return a.ops.run(ctx, a.ops.dissociate(region, listenerID, certID, "DissociateAdditionalCertificatesFromListener", func(cl *sdk.Client) (string, error) {
		req := alb.CreateDissociateAdditionalCertificatesFromListenerRequest()
		req.RegionId = region
		req.ListenerId = listenerID
		req.Certificates = &[]alb.DissociateAdditionalCertificatesFromListenerCertificates{{CertificateId: certID}}
		resp := alb.CreateDissociateAdditionalCertificatesFromListenerResponse()
		err := cl.DoAction(req, resp)
		return resp.JobId, err
	}))
}

// job reads one job with ListAsynJobs.
func (a *ALB) job(ctx context.Context, region, jobID string) (status, code, message string, err error) {
	err = a.api.call(ctx, region, "ListAsynJobs", func(cl *sdk.Client) error {
		req := alb.CreateListAsynJobsRequest()
		req.RegionId = region
		req.JobIds = &[]string{jobID}
		resp := alb.CreateListAsynJobsResponse()
		if err := cl.DoAction(req, resp); err != nil {
			return err
		}
		for _, j := range resp.Jobs {
			if j.Id == jobID {
				status, code, message = j.Status, j.ErrorCode, cleanMessage(j.ErrorMessage, a.api.creds.secrets())
			}
		}
		return nil
	})
	return status, code, message, err
}
