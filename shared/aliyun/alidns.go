package aliyun

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/alidns"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// alidnsRegion is the region the SDK client is built for; Alidns is a
// global service answering at alidns.aliyuncs.com.
const alidnsRegion = "cn-hangzhou"

// DNSZone is a domain hosted on Alibaba Cloud DNS.
type DNSZone struct {
	Name        string   // "example.com"
	Nameservers []string // the authoritative servers Alidns assigned
}

// DNSRecord is one record of a zone.
type DNSRecord struct {
	ID    string
	Zone  string
	RR    string // host record relative to the zone, "@" for the apex
	Type  string
	Value string
	TTL   int
}

// AlidnsOptions configures the Alidns adapter (see SLBOptions for the
// meaning of each field; "{region}" is not used).
type AlidnsOptions struct {
	Endpoint string
	Retry    RetryPolicy
	Timeout  time.Duration
	QPS      float64
}

// Alidns is the Alibaba Cloud DNS adapter, safe for concurrent use (one SDK
// client per call attempt).
type Alidns struct {
	creds       Credentials
	scheme      string
	domain      string
	endpointErr error
	timeout     time.Duration
	retry       *retrier
	pacer       *pacer
	transport   *http.Transport
}

// NewAlidns returns an Alidns adapter. An unusable Endpoint is reported by
// every call as an error that Is apierr.ErrInvalid.
func NewAlidns(creds Credentials, opts AlidnsOptions) *Alidns {
	a := &Alidns{creds: creds, timeout: opts.Timeout, retry: newRetrier(opts.Retry), pacer: newPacer(opts.QPS), transport: newBaseTransport()}
	if a.timeout <= 0 {
		a.timeout = DefaultSLBTimeout
	}
	a.scheme, a.domain, a.endpointErr = parseEndpoint(opts.Endpoint)
	return a
}

// See the SLB adapter's init: fill the SDK's lazy endpoint map once.
func init() { alidns.GetEndpointMap() }

func (a *Alidns) client(ctx context.Context) (*alidns.Client, error) {
	cfg := sdk.NewConfig().WithAutoRetry(false).WithMaxRetryTime(0).WithScheme(a.scheme)
	var prov credentials.CredentialsProvider
	if a.creds.SecurityToken != "" {
		prov = credentials.NewStaticSTSCredentialsProvider(a.creds.AccessKeyID, a.creds.AccessKeySecret, a.creds.SecurityToken)
	} else {
		prov = credentials.NewStaticAKCredentialsProvider(a.creds.AccessKeyID, a.creds.AccessKeySecret)
	}
	c, err := alidns.NewClientWithOptions(alidnsRegion, cfg, prov)
	if err != nil {
		return nil, err
	}
	if a.domain != "" {
		c.Domain = a.domain
	}
	c.SetTransport(ctxTransport{ctx: ctx, base: a.transport})
	timeout := a.timeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < timeout {
			timeout = max(left, time.Millisecond)
		}
	}
	c.SetReadTimeout(timeout)
	c.SetConnectTimeout(5 * time.Second)
	return c, nil
}

// alidnsNotFound are Alidns codes for a domain or record that does not
// exist (their names alone would classify them as invalid requests).
var alidnsNotFound = map[string]bool{
	"InvalidDomainName.NoExist":   true,
	"DomainRecordNotBelongToUser": true,
	"InvalidRR.NoExist":           true,
}

// do runs op with retries and pacing; it returns nil or an *APIError.
// beforeRetry, when set, runs before a retry that follows an ambiguous
// failure; done=true ends the call with its error.
func (a *Alidns) do(ctx context.Context, action string, beforeRetry func() (bool, error), op func(c *alidns.Client) error) error {
	if a.endpointErr != nil {
		return &APIError{Service: "alidns", Action: action, Code: "InvalidEndpoint", Message: a.endpointErr.Error(), Kind: apierr.ErrInvalid, Attempts: 1}
	}
	if err := ctx.Err(); err != nil {
		return &APIError{Service: "alidns", Action: action, Message: err.Error(), Kind: ctxKind(err), cause: err}
	}
	conv := &SLB{creds: a.creds} // toAPIError needs only the secrets to scrub
	ambiguous := false
	err := a.retry.doPaced(ctx, a.pacer, action, func(attempt int) error {
		if attempt > 0 && ambiguous && beforeRetry != nil {
			if done, herr := beforeRetry(); done {
				return herr
			}
		}
		c, err := a.client(ctx)
		if err != nil {
			return &APIError{Service: "alidns", Action: action, Code: "ClientSetup", Message: cleanMessage(err.Error(), a.creds.secrets()), Kind: apierr.ErrInvalid}
		}
		if err = op(c); err == nil {
			return nil
		}
		ae, amb := conv.toAPIError(ctx, action, "", err)
		ae.Service = "alidns"
		if alidnsNotFound[ae.Code] {
			ae.Kind = apierr.ErrNotFound
		}
		ambiguous = ambiguous || amb
		return ae
	})
	var ae *APIError
	if err != nil && !errors.As(err, &ae) {
		ae = &APIError{Service: "alidns", Action: action, Code: "ClientThrottling", Message: err.Error(), Kind: apierr.ErrTransient}
		if ctxErr := ctx.Err(); ctxErr != nil {
			ae.Code, ae.Message, ae.Kind, ae.cause = "", ctxErr.Error(), ctxKind(ctxErr), ctxErr
		}
		return ae
	}
	return err
}

// ListZones returns every domain of the account (all pages).
func (a *Alidns) ListZones(ctx context.Context) ([]DNSZone, error) {
	var out []DNSZone
	for pageNum := 1; ; pageNum++ {
		var resp *alidns.DescribeDomainsResponse
		err := a.do(ctx, "DescribeDomains", nil, func(c *alidns.Client) error {
			req := alidns.CreateDescribeDomainsRequest()
			req.PageNumber = requests.NewInteger(pageNum)
			req.PageSize = requests.NewInteger(100)
			var err error
			resp, err = c.DescribeDomains(req)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, d := range resp.Domains.Domain {
			out = append(out, DNSZone{Name: strings.ToLower(d.DomainName), Nameservers: d.DnsServers.DnsServer})
		}
		if len(resp.Domains.Domain) == 0 || int64(pageNum)*resp.PageSize >= resp.TotalCount {
			return out, nil
		}
	}
}

// FindRecords returns the records of rr in zone of type typ ("" = any).
func (a *Alidns) FindRecords(ctx context.Context, zone, rr, typ string) ([]DNSRecord, error) {
	sub := zone
	if rr != "@" && rr != "" {
		sub = rr + "." + zone
	}
	var out []DNSRecord
	for pageNum := 1; ; pageNum++ {
		var resp *alidns.DescribeSubDomainRecordsResponse
		err := a.do(ctx, "DescribeSubDomainRecords", nil, func(c *alidns.Client) error {
			req := alidns.CreateDescribeSubDomainRecordsRequest()
			req.SubDomain, req.DomainName, req.Type = sub, zone, typ
			req.PageNumber = requests.NewInteger(pageNum)
			req.PageSize = requests.NewInteger(500)
			var err error
			resp, err = c.DescribeSubDomainRecords(req)
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, r := range resp.DomainRecords.Record {
			out = append(out, DNSRecord{ID: r.RecordId, Zone: r.DomainName, RR: r.RR, Type: r.Type, Value: r.Value, TTL: int(r.TTL)})
		}
		if len(resp.DomainRecords.Record) == 0 || int64(pageNum)*resp.PageSize >= resp.TotalCount {
			return out, nil
		}
	}
}

// AddRecord creates a record and returns its id. A retry after a lost
// answer, or a record with the same rr, type and value already there,
// returns that record's id (the value identifies it): never two records.
func (a *Alidns) AddRecord(ctx context.Context, zone, rr, typ, value string, ttl int) (string, error) {
	var id string
	existing := func() (bool, error) {
		recs, err := a.FindRecords(ctx, zone, rr, typ)
		if err != nil {
			return false, nil // let the retry try the add itself
		}
		for _, r := range recs {
			if r.Value == value {
				id = r.ID
				return true, nil
			}
		}
		return false, nil
	}
	err := a.do(ctx, "AddDomainRecord", existing, func(c *alidns.Client) error {
		req := alidns.CreateAddDomainRecordRequest()
		req.DomainName, req.RR, req.Type, req.Value = zone, rr, typ, value
		if ttl > 0 {
			req.TTL = requests.NewInteger(ttl)
		}
		resp, err := c.AddDomainRecord(req)
		if err == nil {
			id = resp.RecordId
		}
		return err
	})
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == "DomainRecordDuplicate" {
		if found, _ := existing(); found {
			return id, nil
		}
	}
	return id, err
}

// DeleteRecord deletes the record id; a record that does not exist is nil.
func (a *Alidns) DeleteRecord(ctx context.Context, id string) error {
	err := a.do(ctx, "DeleteDomainRecord", nil, func(c *alidns.Client) error {
		req := alidns.CreateDeleteDomainRecordRequest()
		req.RecordId = id
		_, err := c.DeleteDomainRecord(req)
		return err
	})
	if errors.Is(err, apierr.ErrNotFound) {
		return nil
	}
	return err
}
