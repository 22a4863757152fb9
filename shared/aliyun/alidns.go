package aliyun

import (
	"context"
	"errors"
	"strings"
	"time"

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
// client per call attempt, through the adapters' RPC core, rpcapi.go).
type Alidns struct{ api *rpcAPI }

// NewAlidns returns an Alidns adapter. An unusable Endpoint is reported by
// every call as an error that Is apierr.ErrInvalid.
func NewAlidns(creds Credentials, opts AlidnsOptions) *Alidns {
	api := newRPCAPI("alidns", creds, RPCOptions{Endpoint: opts.Endpoint, Retry: opts.Retry, Timeout: opts.Timeout, QPS: opts.QPS}, nil, nil)
	api.refine = func(ae *APIError) {
		if alidnsNotFound[ae.Code] {
			ae.Kind = apierr.ErrNotFound
		}
	}
	return &Alidns{api: api}
}

// See the SLB adapter's init: fill the SDK's lazy endpoint map once.
func init() { alidns.GetEndpointMap() }

func (a *Alidns) client(ctx context.Context) (*alidns.Client, error) {
	cfg, prov := a.api.sdkConfig()
	c, err := alidns.NewClientWithOptions(alidnsRegion, cfg, prov)
	if err != nil {
		return nil, err
	}
	a.api.configure(ctx, "", &c.Client)
	return c, nil
}

// alidnsNotFound are Alidns codes for a domain or record that does not
// exist (their names alone would classify them as invalid requests).
var alidnsNotFound = map[string]bool{
	"InvalidDomainName.NoExist":   true,
	"DomainRecordNotBelongToUser": true,
	"InvalidRR.NoExist":           true,
}

// do runs op with retries and pacing (per action: Alidns is global); it
// returns nil or an *APIError. beforeRetry, when set, runs before a retry
// that follows an ambiguous failure; done=true ends the call with its error.
func (a *Alidns) do(ctx context.Context, action string, beforeRetry func() (bool, error), op func(c *alidns.Client) error) error {
	_, err := callWith(ctx, a.api, "", action, beforeRetry, func() (*alidns.Client, error) { return a.client(ctx) }, op)
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
