package deploytest

import (
	"encoding/json"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/inventory"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/issuance"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/provisioning"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// portActions maps each method of the ports the functions are wired with to
// the RAM actions the aliyun adapter calls for it (shared/aliyun).
var portActions = map[string][]string{
	// SLB
	"ListServerCertificates":        {"slb:DescribeServerCertificates"},
	"UploadServerCertificate":       {"slb:UploadServerCertificate", "slb:DescribeServerCertificates"}, // lists after an ambiguous failure
	"DeleteServerCertificate":       {"slb:DeleteServerCertificate"},
	"ListLoadBalancers":             {"slb:DescribeLoadBalancers"},
	"DescribeLoadBalancer":          {"slb:DescribeLoadBalancerAttribute"},
	"CreateLoadBalancer":            {"slb:CreateLoadBalancer"},
	"DeleteLoadBalancer":            {"slb:DeleteLoadBalancer"},
	"AddBackendServers":             {"slb:AddBackendServers"},
	"RemoveBackendServers":          {"slb:RemoveBackendServers"},
	"ListHTTPSListeners":            {"slb:DescribeLoadBalancerListeners"},
	"DescribeHTTPSListener":         {"slb:DescribeLoadBalancerHTTPSListenerAttribute"},
	"ListDomainExtensions":          {"slb:DescribeDomainExtensions"},
	"CreateHTTPSListener":           {"slb:CreateLoadBalancerHTTPSListener"},
	"SetHTTPSListenerAttribute":     {"slb:SetLoadBalancerHTTPSListenerAttribute"},
	"SetListenerCertificate":        {"slb:SetLoadBalancerHTTPSListenerAttribute"},
	"StartListener":                 {"slb:StartLoadBalancerListener"},
	"DeleteListener":                {"slb:DeleteLoadBalancerListener"},
	"CreateDomainExtension":         {"slb:CreateDomainExtension"},
	"SetDomainExtensionCertificate": {"slb:SetDomainExtensionAttribute"},
	"DeleteDomainExtension":         {"slb:DeleteDomainExtension"},
	// The rotation's target port (CLBPort over SLB; ALB and NLB over CAS)
	"Certificates": {"slb:DescribeServerCertificates", "yundun-cert:ListUserCertificateOrder"},
	"Upload":       {"slb:UploadServerCertificate", "slb:DescribeServerCertificates", "yundun-cert:UploadUserCertificate", "yundun-cert:ListUserCertificateOrder"},
	"Instances":    {"slb:DescribeLoadBalancers", "alb:ListLoadBalancers", "nlb:ListLoadBalancers"},
	"Listeners":    {"slb:DescribeLoadBalancerListeners", "alb:ListListeners", "alb:ListListenerCertificates", "nlb:ListListeners"},
	"SNI":          {"slb:DescribeDomainExtensions", "alb:ListListenerCertificates", "nlb:ListListenerCertificates"},
	"Listener":     {"slb:DescribeLoadBalancerHTTPSListenerAttribute", "alb:ListListeners", "alb:ListListenerCertificates", "nlb:ListListeners", "nlb:ListListenerCertificates"},
	"Switch": {"slb:SetLoadBalancerHTTPSListenerAttribute", "slb:SetDomainExtensionAttribute",
		"alb:GetListenerAttribute", "alb:UpdateListenerAttribute", "alb:AssociateAdditionalCertificatesWithListener", "alb:DissociateAdditionalCertificatesFromListener", "alb:ListAsynJobs", "alb:ListListenerCertificates",
		"nlb:GetListenerAttribute", "nlb:UpdateListenerAttribute", "nlb:AssociateAdditionalCertificatesWithListener", "nlb:DisassociateAdditionalCertificatesWithListener", "nlb:GetJobStatus", "nlb:ListListenerCertificates"},
	"ReadBatch":         {},
	"TargetPort.Delete": {"slb:DeleteServerCertificate", "yundun-cert:DeleteUserCertificate"}, // not OSS's Delete
	// OSS
	"Get":         {"oss:GetObject"},
	"ListKeys":    {"oss:ListObjects"},
	"List":        {"oss:ListObjects"},
	"Put":         {"oss:PutObject"},
	"PutIfAbsent": {"oss:PutObject"},
	"Delete":      {"oss:DeleteObject"},
	// OSS, secrets written with server-side encryption
	"PutSecret":         {"oss:PutObject"},
	"PutSecretIfAbsent": {"oss:PutObject", "oss:GetObject"}, // reads back after an ambiguous failure
	// Alibaba Cloud DNS
	"ListZones":    {"alidns:DescribeDomains"},
	"FindRecords":  {"alidns:DescribeSubDomainRecords"},
	"AddRecord":    {"alidns:AddDomainRecord", "alidns:DescribeSubDomainRecords"}, // looks up after a lost answer or a duplicate
	"DeleteRecord": {"alidns:DeleteDomainRecord"},
	// ALB and NLB listeners read once each (inventory.ListenerReader, the
	// albnlb ports of the rotation and the sweep), the sweep's CAS listing
	// (keyed <Port>.<Method>)
	"BareListeners":            {"alb:ListListeners", "nlb:ListListeners"},
	"ReadListener":             {"alb:ListListenerCertificates", "nlb:ListListenerCertificates"},
	"CertStore.Certificates":   {"yundun-cert:ListUserCertificateOrder"},
	"CertStore.StoreKey":       {}, // names a CAS region, no call
	"CertStore.IdentityRegion": {}, // parses an identity, no call
}

// TestPoliciesCoverPorts checks that each function's policy allows every
// action its code can call: the methods of the ports the function is wired
// with (functions/<fn>), mapped to RAM actions by portActions. A port that
// grows a method fails here until the method is mapped and, when needed, the
// policy and the README's table are updated.
func TestPoliciesCoverPorts(t *testing.T) {
	ports := func(ps ...any) []reflect.Type {
		out := make([]reflect.Type, len(ps))
		for i, p := range ps {
			out[i] = reflect.TypeOf(p).Elem()
		}
		return out
	}
	rotate := ports((*rotation.SLB)(nil), (*pairs.ObjectReader)(nil), (*lease.Store)(nil))
	wiring := map[string][]reflect.Type{
		// with the target ports of CLB, ALB and NLB (LB_PRODUCTS)
		"rotate-on-upload": append(ports((*rotation.TargetPort)(nil), (*inventory.ListenerReader)(nil)), rotate...),
		// the sweep, plus auto-rotation with the rotation's ports
		"expiry-check": append(ports((*inventory.Reader)(nil), (*inventory.ListenerReader)(nil), (*expiry.CertStore)(nil), (*expiry.Objects)(nil)), rotate...),
		// the provisioner, its pair loader (pairs.Load) and its instance lock
		"provision": append(ports((*provisioning.Instances)(nil), (*provisioning.Backends)(nil), (*provisioning.Listeners)(nil),
			(*provisioning.DomainExtensions)(nil), (*provisioning.Certificates)(nil)), ports((*pairs.ObjectReader)(nil), (*lease.Store)(nil))...),
		// the renewal: its bucket, DNS and the pair's lease lock
		"renew-certificates": ports((*issuance.Objects)(nil), (*issuance.DNS)(nil), (*lease.Store)(nil)),
	}
	root := repoRoot(t)
	for fn, types := range wiring {
		t.Run(fn, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(root, "policies", fn+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var doc struct{ Statement []struct{ Action []string } }
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("policies/%s.json: %v", fn, err)
			}
			var allowed []string
			for _, s := range doc.Statement {
				allowed = append(allowed, s.Action...)
			}
			for _, typ := range types {
				for i := range typ.NumMethod() {
					m := typ.Method(i).Name
					actions, ok := portActions[typ.Name()+"."+m]
					if !ok {
						actions, ok = portActions[m]
					}
					if !ok {
						t.Errorf("%s.%s: no RAM action known for it: add it to portActions", typ, m)
						continue
					}
					for _, a := range actions {
						if !slices.Contains(allowed, a) {
							t.Errorf("policies/%s.json lacks %s (called by %s.%s)", fn, a, typ, m)
						}
					}
				}
			}
		})
	}
}
