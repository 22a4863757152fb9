package albnlb

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// casListing answers ListCertificates from a map of CAS regions and counts
// the calls (uploads and deletes are not its business: nil).
type casListing struct {
	Certificates
	byRegion map[string][]aliyun.CASCertificate
	err      error
	asked    []string
}

func (l *casListing) ListCertificates(_ context.Context, region string) ([]aliyun.CASCertificate, error) {
	l.asked = append(l.asked, region)
	if l.err != nil {
		return nil, l.err
	}
	return l.byRegion[aliyun.CASRegion(region)], nil
}

func TestStoreIdentityRegionAndKey(t *testing.T) {
	for _, tt := range []struct {
		id     string
		region string
		ok     bool
	}{
		{"24664588-cn-hangzhou", "cn-hangzhou", true},
		{"7-ap-southeast-1", "ap-southeast-1", true},
		{"24664588", "", false},
		{"abc-cn-hangzhou", "", false},
		{"", "", false},
	} {
		region, ok := Store{}.IdentityRegion(tt.id)
		if region != tt.region || ok != tt.ok {
			t.Errorf("IdentityRegion(%q) = %q, %v; want %q, %v", tt.id, region, ok, tt.region, tt.ok)
		}
	}
	for _, tt := range []struct{ region, key string }{
		{"cn-hangzhou", "cas/cn-hangzhou"},
		{"cn-shanghai", "cas/cn-hangzhou"},
		{"ap-southeast-1", "cas/ap-southeast-1"},
		{"eu-central-1", "cas/ap-southeast-1"},
	} {
		if got := (Store{}).StoreKey(tt.region); got != tt.key {
			t.Errorf("Store.StoreKey(%q) = %q, want %q", tt.region, got, tt.key)
		}
		if got := New("alb", nil, nil).StoreKey(tt.region); got != tt.key {
			t.Errorf("Port.StoreKey(%q) = %q, want %q (the same store as Store's)", tt.region, got, tt.key)
		}
	}
}

// TestStoreCertificates: the listing in the inventory's shape, the same
// as the port's, one ListCertificates per call, errors passed on.
func TestStoreCertificates(t *testing.T) {
	notAfter := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	fp := "0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9:0a:1b:2c:3d"
	ours := aliyun.CASCertificate{CertID: 1, Region: "cn-hangzhou", Identity: "1-cn-hangzhou", Fingerprint: fp,
		Name: aliyun.CASCertificateName("shop", notAfter, fp), CommonName: "shop.example.com",
		SANs: []string{"shop.example.com", "www.shop.example.com"}, NotBefore: notAfter.AddDate(0, -3, 0), NotAfter: notAfter}
	other := aliyun.CASCertificate{CertID: 2, Region: "cn-hangzhou", Identity: "2-cn-hangzhou", Name: "uploaded-by-hand",
		Fingerprint: "ff:" + fp[3:], CommonName: "legacy.example.com", NotAfter: notAfter}
	l := &casListing{byRegion: map[string][]aliyun.CASCertificate{"cn-hangzhou": {ours, other}}}

	got, err := Store{CAS: l}.Certificates(context.Background(), "cn-shanghai")
	if err != nil {
		t.Fatal(err)
	}
	want := []clb.ServerCertificate{
		{ID: "1-cn-hangzhou", Name: ours.Name, Region: "cn-hangzhou", Fingerprint: fp, CommonName: "shop.example.com",
			SANs: ours.SANs, ExpireTime: notAfter, CreateTime: ours.NotBefore, Tags: map[string]string{clb.OwnerTagKey: clb.OwnerTagValue}},
		{ID: "2-cn-hangzhou", Name: "uploaded-by-hand", Region: "cn-hangzhou", Fingerprint: other.Fingerprint,
			CommonName: "legacy.example.com", ExpireTime: notAfter, Tags: map[string]string{}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Store.Certificates = %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(l.asked, []string{"cn-shanghai"}) {
		t.Errorf("ListCertificates calls = %v, want one for cn-shanghai", l.asked)
	}
	viaPort, err := New("nlb", nil, l).Certificates(context.Background(), "cn-shanghai")
	if err != nil || !reflect.DeepEqual(viaPort, got) {
		t.Errorf("Port.Certificates = %+v, %v; want Store's listing %+v", viaPort, err, got)
	}

	l.err = apierr.ErrTransient
	if _, err := (Store{CAS: l}).Certificates(context.Background(), "cn-hangzhou"); !errors.Is(err, apierr.ErrTransient) {
		t.Errorf("Store.Certificates error = %v, want one that Is ErrTransient", err)
	}
}
