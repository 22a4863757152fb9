package lbcore

import (
	"slices"
	"testing"
)

// TestParamNames: the two shapes of a repeated certificate parameter,
// ALB's Name.N.Field and NLB's Name.N, read and named the same way.
func TestParamNames(t *testing.T) {
	params := map[string]string{"Certificates.1.CertificateId": "1-cn-hangzhou", "Certificates.2.CertificateId": "2-cn-hangzhou",
		"CertificateIds.1": "3-cn-hangzhou", "CertificateIds.3": "4-cn-hangzhou", "CertificateIds.2": ""}
	for _, tc := range []struct {
		p           Param
		first, nth2 string
		values      []string
	}{
		{Param{Name: "Certificates", Field: "CertificateId"}, "Certificates.1.CertificateId", "Certificates.2.CertificateId",
			[]string{"1-cn-hangzhou", "2-cn-hangzhou"}},
		{Param{Name: "CertificateIds"}, "CertificateIds.1", "CertificateIds.2", []string{"3-cn-hangzhou", "4-cn-hangzhou"}},
	} {
		if got := tc.p.First(); got != tc.first {
			t.Errorf("%+v First = %q, want %q", tc.p, got, tc.first)
		}
		if got := tc.p.Nth(2); got != tc.nth2 {
			t.Errorf("%+v Nth(2) = %q, want %q", tc.p, got, tc.nth2)
		}
		if got := tc.p.Values(params); !slices.Equal(got, tc.values) {
			t.Errorf("%+v Values = %q, want %q", tc.p, got, tc.values)
		}
	}
}

// TestActionsTable: a product's table holds the core's actions and its
// own, its own winning, and IsWrite leaves out Get*/List*.
func TestActionsTable(t *testing.T) {
	own := map[string]Handler{"CreateListener": listListeners, "GetJobStatus": listListeners}
	p := &Product{Actions: Actions(own)}
	want := []string{"AssociateAdditionalCertificatesWithListener", "CreateListener", "GetJobStatus", "ListListeners",
		"ListLoadBalancers", "UpdateListenerAttribute"}
	if got := Names(p.Actions); !slices.Equal(got, want) {
		t.Fatalf("Names = %q, want %q", got, want)
	}
	for action, write := range map[string]bool{"CreateListener": true, "UpdateListenerAttribute": true, "GetJobStatus": false,
		"ListListeners": false, "DeleteListener": false} {
		if got := p.IsWrite(action); got != write {
			t.Errorf("IsWrite(%s) = %v, want %v", action, got, write)
		}
	}
}
