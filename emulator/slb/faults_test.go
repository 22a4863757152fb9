package slb

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	sdkslb "github.com/aliyun/alibaba-cloud-sdk-go/services/slb"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
)

func describeCerts(c *sdkslb.Client) error {
	_, err := c.DescribeServerCertificates(sdkslb.CreateDescribeServerCertificatesRequest())
	return err
}

func TestFaultsReplayWithSameSeed(t *testing.T) {
	run := func(seed int64) []string {
		inj := faults.New(seed)
		inj.Set(faults.Rule{ThrottleRate: 0.3, ServerErrorRate: 0.3})
		e := newEnv(t, Options{NoFrontends: true, Faults: inj})
		c := e.client(zjk)
		var codes []string
		for range 40 {
			err := describeCerts(c)
			codes = append(codes, code(err))
			var se *sdkerrors.ServerError
			if errors.As(err, &se) {
				switch se.ErrorCode() {
				case "Throttling":
					if se.HttpStatus() != 400 || se.Message() != "Request was denied due to request throttling." {
						t.Fatalf("throttling answer: %d %q", se.HttpStatus(), se.Message())
					}
				case "InternalError", "ServiceUnavailable":
					if se.HttpStatus() < 500 {
						t.Fatalf("%s with status %d", se.ErrorCode(), se.HttpStatus())
					}
				default:
					t.Fatalf("unexpected code %s", se.ErrorCode())
				}
			}
		}
		st := inj.Stats()["DescribeServerCertificates"]
		if st.Calls != 40 || st.Throttled == 0 || st.Errors == 0 {
			t.Fatalf("stats %+v", st)
		}
		return codes
	}
	a, b, other := run(7), run(7), run(8)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different faults:\n%v\n%v", a, b)
	}
	if reflect.DeepEqual(a, other) {
		t.Fatal("different seeds gave the same faults")
	}
}

func TestFaultKinds(t *testing.T) {
	tests := []struct {
		name      string
		rule      faults.Rule
		wantCode  string // service code, or "" with wantOther
		wantOther bool   // a transport error (timeout/reset)
		fault     string
	}{
		{"throttle", faults.Rule{ThrottleRate: 1}, "Throttling", false, "throttle"},
		{"server error", faults.Rule{ServerErrorRate: 1}, "", false, "5xx"},
		{"timeout", faults.Rule{TimeoutRate: 1}, "", true, "timeout"},
		{"reset", faults.Rule{ResetRate: 1}, "", true, "reset"},
		{"latency only", faults.Rule{Latency: 20 * time.Millisecond}, "", false, ""},
		{"other action untouched", faults.Rule{Action: "UploadServerCertificate", ThrottleRate: 1}, "", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inj := faults.New(1)
			inj.Set(tc.rule)
			e := newEnv(t, Options{NoFrontends: true, Faults: inj})
			c := e.client(zjk)
			c.SetReadTimeout(500 * time.Millisecond)
			err := describeCerts(c)
			got := code(err)
			switch {
			case tc.wantOther:
				if err == nil || !strings.HasPrefix(got, "!other") {
					t.Fatalf("want a transport error, got %q", got)
				}
			case tc.fault == "5xx":
				if got != "InternalError" && got != "ServiceUnavailable" {
					t.Fatalf("code %q", got)
				}
			default:
				wantCode(t, err, tc.wantCode)
			}
			// The request log records the fault (the held request is logged
			// once the client has gone).
			deadline := time.Now().Add(5 * time.Second)
			for {
				reqs := e.s.Requests()
				if len(reqs) == 1 && reqs[0].Fault == tc.fault {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("request log %+v, want one record with fault %q", reqs, tc.fault)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestQPSLimitThrottles(t *testing.T) {
	inj := faults.New(1)
	inj.Set(faults.Rule{Action: "DescribeServerCertificates", QPS: 0.1})
	e := newEnv(t, Options{NoFrontends: true, Faults: inj})
	c := e.client(zjk)
	must(t, describeCerts(c))
	for range 3 {
		wantCode(t, describeCerts(c), "Throttling")
	}
	_, err := c.DescribeLoadBalancers(sdkslb.CreateDescribeLoadBalancersRequest())
	must(t, err)
	if st := inj.Stats()["DescribeServerCertificates"]; st.Calls != 4 || st.Throttled != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultsAccessorNeverNil(t *testing.T) {
	s, err := New(Options{NoFrontends: true})
	must(t, err)
	defer s.Close()
	if s.Faults() == nil {
		t.Fatal("Faults() is nil")
	}
	s.Faults().Set(faults.Rule{ThrottleRate: 1})
	if !s.Faults().Decide("X").Throttle {
		t.Fatal("rule set through Faults() not applied")
	}
}
