package alidns

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	sdkdns "github.com/aliyun/alibaba-cloud-sdk-go/services/alidns"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/slb"
)

// client is the real SDK pointed at a fresh emulator.
func client(t *testing.T) (*sdkdns.Client, *Server) {
	t.Helper()
	return clientWith(t, Options{Store: dns.NewStore()})
}

// clientWith is the real SDK pointed at an emulator built from opts.
func clientWith(t *testing.T, opts Options) (*sdkdns.Client, *Server) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	a := slb.DefaultAccounts()[1]
	c, err := sdkdns.NewClientWithOptions("cn-hangzhou", sdk.NewConfig().WithScheme("HTTP").WithAutoRetry(false),
		credentials.NewStaticSTSCredentialsProvider(a.AccessKeyID, a.AccessKeySecret, a.SecurityToken))
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = strings.TrimPrefix(srv.URL, "http://")
	return c, s
}

// TestThroughTheSDK: every action decodes into the SDK's structs, paging
// and filters of DescribeDomainRecords work, and errors carry the codes the
// SDK reports.
func TestThroughTheSDK(t *testing.T) {
	c, s := client(t)
	ad := sdkdns.CreateAddDomainRequest()
	ad.DomainName = "Example.test"
	if resp, err := c.AddDomain(ad); err != nil || resp.DomainName != "example.test" || len(resp.DnsServers.DnsServer) != 1 {
		t.Fatalf("AddDomain = %+v, %v", resp, err)
	}
	if _, err := c.AddDomain(ad); !hasCode(err, "AlreadyExists.DomainName") {
		t.Errorf("second AddDomain: %v", err)
	}
	for i := range 5 {
		req := sdkdns.CreateAddDomainRecordRequest()
		req.DomainName, req.RR, req.Type, req.Value = "example.test", fmt.Sprintf("_acme-challenge.h%d", i), "TXT", fmt.Sprintf("v%d", i)
		if _, err := c.AddDomainRecord(req); err != nil {
			t.Fatal(err)
		}
	}
	a := sdkdns.CreateAddDomainRecordRequest()
	a.DomainName, a.RR, a.Type, a.Value = "example.test", "@", "A", "127.0.0.7"
	if _, err := c.AddDomainRecord(a); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddDomainRecord(a); !hasCode(err, "DomainRecordDuplicate") {
		t.Errorf("duplicate: %v", err)
	}
	list := sdkdns.CreateDescribeDomainRecordsRequest()
	list.DomainName, list.TypeKeyWord, list.PageSize, list.PageNumber = "example.test", "TXT", requests.NewInteger(2), requests.NewInteger(3)
	resp, err := c.DescribeDomainRecords(list)
	if err != nil || resp.TotalCount != 5 || len(resp.DomainRecords.Record) != 1 || resp.DomainRecords.Record[0].RR != "_acme-challenge.h4" {
		t.Fatalf("DescribeDomainRecords page 3 = %+v, %v", resp, err)
	}
	list = sdkdns.CreateDescribeDomainRecordsRequest()
	list.DomainName, list.RRKeyWord = "example.test", "@"
	if resp, err := c.DescribeDomainRecords(list); err != nil || resp.TotalCount != 1 || resp.DomainRecords.Record[0].Value != "127.0.0.7" {
		t.Fatalf("apex record = %+v, %v", resp, err)
	}
	doms := sdkdns.CreateDescribeDomainsRequest()
	if resp, err := c.DescribeDomains(doms); err != nil || resp.TotalCount != 1 || resp.Domains.Domain[0].RecordCount != 6 ||
		resp.Domains.Domain[0].DnsServers.DnsServer[0] != "ns1.example.test" {
		t.Fatalf("DescribeDomains = %+v, %v", resp, err)
	}
	bad := []struct {
		call func() error
		code string
	}{
		{func() error {
			r := sdkdns.CreateDeleteDomainRecordRequest()
			r.RecordId = "999"
			_, err := c.DeleteDomainRecord(r)
			return err
		}, "DomainRecordNotBelongToUser"},
		{func() error {
			r := sdkdns.CreateDescribeSubDomainRecordsRequest()
			r.SubDomain = "www.nowhere.test"
			_, err := c.DescribeSubDomainRecords(r)
			return err
		}, "InvalidDomainName.NoExist"},
		{func() error {
			r := sdkdns.CreateAddDomainRecordRequest()
			r.DomainName, r.RR, r.Type, r.Value = "example.test", "x", "MX", "mx.example.test"
			_, err := c.AddDomainRecord(r)
			return err
		}, "InvalidParameter"},
	}
	for _, b := range bad {
		if err := b.call(); !hasCode(err, b.code) {
			t.Errorf("want %s, got %v", b.code, err)
		}
	}
	if len(s.Requests()) == 0 || s.Requests()[0].Params["SecurityToken"] != "[redacted]" {
		t.Errorf("request log must redact the token: %+v", s.Requests()[:1])
	}
}

// TestLostAnswers: a rule's LostRate loses the answer of a write after
// it took effect (the client sees an error, the record exists), and
// leaves reads answered.
func TestLostAnswers(t *testing.T) {
	inj := faults.New(7)
	inj.Set(faults.Rule{Action: "AddDomainRecord", LostRate: 1})
	inj.Set(faults.Rule{Action: "DescribeDomainRecords", LostRate: 1})
	c, s := clientWith(t, Options{Store: dns.NewStore(), Faults: inj})
	c.SetReadTimeout(500 * time.Millisecond) // a lost answer held as a timeout ends here
	s.AddDomain("example.test")
	for i := range 3 {
		req := sdkdns.CreateAddDomainRecordRequest()
		req.DomainName, req.RR, req.Type, req.Value = "example.test", fmt.Sprintf("_acme-challenge.l%d", i), "TXT", "v"
		if _, err := c.AddDomainRecord(req); err == nil {
			t.Fatalf("AddDomainRecord %d answered although its answer was to be lost", i)
		}
	}
	list := sdkdns.CreateDescribeDomainRecordsRequest()
	list.DomainName = "example.test"
	resp, err := c.DescribeDomainRecords(list)
	if err != nil || resp.TotalCount != 3 {
		t.Fatalf("after three lost answers: DescribeDomainRecords = %+v, %v; want the 3 records written", resp, err)
	}
	if st := inj.Stats()["AddDomainRecord"]; st.Lost != 3 {
		t.Fatalf("injector counted %d lost answers, want 3", st.Lost)
	}
}

func hasCode(err error, code string) bool {
	var se *sdkerrors.ServerError
	return errors.As(err, &se) && se.ErrorCode() == code
}
