package aliyun

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// LBInstance is one ALB or NLB instance.
type LBInstance struct {
	Product string // "alb" or "nlb"
	ID      string
	Name    string
	Region  string
	// DNSName is the instance's name; the TLS probe dials it (ALB and NLB
	// have no fixed address).
	DNSName string
	Edition string // ALB: Basic, Standard, StandardWithWaf; NLB: ""
	Status  string // Active, Inactive, Provisioning, Configuring, ...
}

// LBListener is one ALB (HTTPS or QUIC) or NLB (TCPSSL) listener.
type LBListener struct {
	Product        string
	ID             string
	LoadBalancerID string
	Region         string
	Protocol       string
	Port           int
	// Status is Running, Configuring (a job runs: writes are refused),
	// Stopped, ...
	Status string
	// DefaultCertificate is the default certificate's "<CertId>-<casRegion>"
	// when the read returned it (GetListener always; NLB's listing too;
	// ALB's listing never: use ListListenerCertificates).
	DefaultCertificate string
}

// Configuring is the status of a listener while a job runs on it.
const Configuring = "Configuring"

// ListenerCertificate is one server certificate of a listener.
type ListenerCertificate struct {
	// ID is "<CertId>-<casRegion>".
	ID      string
	Default bool
	// Status is Associated, Associating or Dissociating (the default is
	// always Associated).
	Status string
}

// JobError is an asynchronous ALB or NLB write that did not complete: its
// job ended Failed (the service rolled the change back, the listener is as
// it was) or was still running when the ctx ended. It names the load
// balancer, the listener and the certificate, and answers
// errors.Is(err, apierr.ErrTransient): running the operation again may
// succeed.
type JobError struct {
	Product        string // "alb" or "nlb"
	Action         string
	Region         string
	LoadBalancerID string
	ListenerID     string
	CertificateID  string
	JobID          string
	// Status is the job's last status: Failed, or Processing when the ctx
	// ended first.
	Status  string
	Code    string // the job's error code, if the service gives one
	Message string

	cause error
}

func (e *JobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s on listener %s of %s in %s with certificate %s: job %s", e.Product, e.Action,
		e.ListenerID, e.LoadBalancerID, e.Region, e.CertificateID, e.JobID)
	if e.Status == jobFailed {
		b.WriteString(" ended Failed")
	} else {
		b.WriteString(" still " + e.Status + " when the time ran out")
	}
	if e.Code != "" {
		b.WriteString(" (" + e.Code + ")")
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Is answers apierr.ErrTransient.
func (e *JobError) Is(target error) bool { return target == apierr.ErrTransient }

// Unwrap exposes the ctx error that ended the wait, if any.
func (e *JobError) Unwrap() error { return e.cause }

// Job statuses.
const (
	jobFailed    = "Failed"
	jobSucceeded = "Succeeded"
)

// checkIdentity refuses a certificate reference that is not
// "<CertId>-<casRegion>" before anything is sent.
func checkIdentity(product, action, listenerID, certID string) error {
	if _, _, err := ParseCASIdentity(certID); err != nil {
		return fmt.Errorf("%s: %s on listener %s: %w: %w", product, action, listenerID, err, apierr.ErrInvalid)
	}
	return nil
}

// errRepeatedToken ends a listing whose service hands back a NextToken it
// gave before (it would never end).
var errRepeatedToken = errors.New("the service returned a NextToken it had already returned")

// eachPage calls fetch with "" and then every NextToken it returns until
// one is empty.
func eachPage(service, action, region string, fetch func(token string) (next string, err error)) error {
	seen := map[string]bool{}
	token := ""
	for {
		next, err := fetch(token)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if seen[next] {
			return &APIError{Service: service, Action: action, Region: region, Code: "RepeatedNextToken",
				Message: errRepeatedToken.Error(), Kind: apierr.ErrTransient}
		}
		seen[next] = true
		token = next
	}
}

// listPages reads every page of a NextToken listing of action: request
// makes a fresh request and response for the page of token ("" first),
// page takes in what the answer lists and returns its NextToken.
func listPages[R responses.AcsResponse](ctx context.Context, api *rpcAPI, region, action string,
	request func(token string) (requests.AcsRequest, R), page func(resp R) (next string)) error {
	return eachPage(api.service, action, region, func(token string) (string, error) {
		var resp R
		err := api.call(ctx, region, action, func(cl *sdk.Client) error {
			var req requests.AcsRequest
			req, resp = request(token)
			return cl.DoAction(req, resp)
		})
		if err != nil {
			return "", err
		}
		return page(resp), nil
	})
}

// lbAdapter is what the ALB and NLB adapters hold alike: the call core on
// the product's official host, the listener writes and the page size of
// every listing.
type lbAdapter struct {
	api      *rpcAPI
	ops      listenerOps
	pageSize int
}

// newLBAdapter builds product's lbAdapter ("alb", "nlb") with listings of
// at most maxPage; the caller sets ops.get, ops.job and ops.certs.
func newLBAdapter(product string, creds Credentials, opts RPCOptions, maxPage int,
	newClient func(string, *sdk.Config, credentials.CredentialsProvider) (*sdk.Client, error)) lbAdapter {
	pageSize := opts.PageSize
	if pageSize <= 0 || pageSize > maxPage {
		pageSize = maxPage
	}
	api := newRPCAPI(product, creds, opts, func(region string) string { return product + "." + region + ".aliyuncs.com" }, newClient)
	return lbAdapter{api: api, pageSize: pageSize, ops: listenerOps{product: product, api: api, poll: pollInterval(opts)}}
}

func pollInterval(opts RPCOptions) time.Duration {
	if opts.PollInterval > 0 {
		return opts.PollInterval
	}
	return DefaultPollInterval
}
