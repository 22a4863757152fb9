package slb

import (
	"strings"
	"testing"
	"time"

	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
)

// A write whose answer is lost after it took effect: the SDK client sees the
// failure, the state has changed.
func TestLostAnswerAfterWriteApplied(t *testing.T) {
	kinds := lossSeeds(t, "UploadServerCertificate")
	for kind, seed := range kinds {
		t.Run(kind, func(t *testing.T) {
			inj := faults.New(seed)
			inj.Set(faults.Rule{Action: "UploadServerCertificate", LostRate: 1})
			inj.Set(faults.Rule{Action: "DeleteServerCertificate", LostRate: 1})
			e := newEnv(t, Options{NoFrontends: true, Faults: inj})
			c := e.client(zjk)
			c.SetReadTimeout(300 * time.Millisecond)
			testKeys(t)
			a := issue(t, rsaKeyA, "lost.example.com")
			up := sdkslb.CreateUploadServerCertificateRequest()
			up.ServerCertificate, up.PrivateKey, up.ServerCertificateName = a.cert, a.key, "lost-cert"
			if _, err := c.UploadServerCertificate(up); err == nil {
				t.Fatal("upload answered although its answer was to be lost")
			}
			certs := e.s.Dump().Regions[zjk].Certificates
			if len(certs) != 1 || certs[0].Name != "lost-cert" {
				t.Fatalf("after a lost upload answer the region holds %+v, want the uploaded certificate", certs)
			}
			waitFault(t, e.s, "UploadServerCertificate", "lost "+kind)

			del := sdkslb.CreateDeleteServerCertificateRequest()
			del.ServerCertificateId = certs[0].ID
			if _, err := c.DeleteServerCertificate(del); err == nil {
				t.Fatal("delete answered although its answer was to be lost")
			}
			if left := e.s.Dump().Regions[zjk].Certificates; len(left) != 0 {
				t.Fatalf("after a lost delete answer the region still holds %+v", left)
			}
			// Reads are never answered with a lost-answer fault.
			inj.Set(faults.Rule{LostRate: 1})
			must(t, describeCerts(c))
			if st := inj.Stats(); st["UploadServerCertificate"].Lost != 1 || st["DeleteServerCertificate"].Lost != 1 || st["DescribeServerCertificates"].Lost != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// A write refused by the service (nothing applied) keeps its own answer.
func TestLostAnswerOnlyAfterSuccess(t *testing.T) {
	inj := faults.New(1)
	inj.Set(faults.Rule{LostRate: 1})
	e := newEnv(t, Options{NoFrontends: true, Faults: inj})
	del := sdkslb.CreateDeleteServerCertificateRequest()
	del.ServerCertificateId = "idontexist"
	_, err := e.client(zjk).DeleteServerCertificate(del)
	if got := code(err); !strings.Contains(got, "NotFound") && !strings.Contains(got, "NotExist") {
		t.Fatalf("refused write answered %q, want its own not-found error", got)
	}
}

func TestIsWrite(t *testing.T) {
	for a, want := range map[string]bool{
		"UploadServerCertificate": true, "SetDomainExtensionAttribute": true, "TagResources": true,
		"DescribeServerCertificates": false, "ListTagResources": false, "NoSuchAction": false,
	} {
		if IsWrite(a) != want {
			t.Errorf("IsWrite(%s) = %v", a, !want)
		}
	}
}

func waitFault(t *testing.T, s *Server, action, fault string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, r := range s.Requests() {
			if r.Action == action && r.Fault == fault {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("request log %+v has no %s with fault %q", s.Requests(), action, fault)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lossSeeds finds, for each kind of lost answer (5xx, timeout, reset), a seed
// whose first DecideAfter of action draws it.
func lossSeeds(t *testing.T, action string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for seed := int64(1); len(out) < 3 && seed < 200; seed++ {
		inj := faults.New(seed)
		inj.Set(faults.Rule{Action: action, LostRate: 1})
		d := inj.DecideAfter(action)
		kind := "5xx"
		if d.Timeout {
			kind = "timeout"
		} else if d.Reset {
			kind = "reset"
		}
		if _, ok := out[kind]; !ok {
			out[kind] = seed
		}
	}
	if len(out) != 3 {
		t.Fatalf("kinds of loss drawn: %v", out)
	}
	return out
}
