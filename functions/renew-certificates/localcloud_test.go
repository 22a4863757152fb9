package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt/fcrttest"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/app"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/issuance"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

const fnName = "renew-certificates"

// fnTimeout is the function's timeout on the local FC; a killed holder's
// lease on the pair ends fnTimeout + 5 s after its start.
const fnTimeout = 8 * time.Second

func invoke(t *testing.T, c *emulator.Cloud, payload string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, errType, err := c.FC.Invoke(ctx, fnName, []byte(payload))
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	var res Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("result %s (error type %q): %v", out, errType, err)
	}
	return res
}

func txtRecords(c *emulator.Cloud) int {
	n := 0
	for _, r := range c.DNS.Store().Records("") {
		if r.Type == "TXT" {
			n++
		}
	}
	return n
}

// TestLocalCloud runs the built function on the local FC against the local
// Alidns, DNS server and ACME CA: it issues a pair; then it is killed
// (SIGKILL of its process) while waiting for the CA's validation, FC
// retries, and the next run deletes the TXT record and finishes the order
// the killed run placed; then it is killed after the CA issued, and the
// next run downloads that certificate. One order per pair throughout. Last,
// nothing secret appears in the function's logs, its results, the state
// objects or the request logs. (An order whose challenges the CA never got
// to validate cannot be finished: that path, a backoff, is
// issuance.TestInterruptedOrder.)
func TestLocalCloud(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function binary")
	}
	bin := fcrttest.BuildFunction(t, ".")
	var logs fcrttest.Log
	c, err := emulator.Start(emulator.Options{Logs: &logs, RetryBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	bucketName, region := c.Bucket()
	err = c.FC.Deploy(fcrt.FunctionSpec{Name: fnName, Binary: bin, Timeout: fnTimeout, AsyncRetries: 1,
		Env: map[string]string{"REGIONS": region, "CERT_PREFIX": "certs/", "OSS_SIGNATURE": "v4", "LOG_LEVEL": "info"}})
	if err != nil {
		t.Fatal(err)
	}
	acme := func(domains string) []byte {
		return []byte("domains: [" + domains + "]\ndirectory: " + c.ACME.DirectoryURL() + "\n")
	}
	var results []Result

	// 1. a new acme.yaml is issued at once
	if err := c.OSS.PutObject(bucketName, "certs/api/acme.yaml", acme("api.example.com")); err != nil {
		t.Fatal(err)
	}
	res := invoke(t, c, `{"name":"api"}`)
	results = append(results, res)
	if res.Status != outcome.Issued || c.ACME.Orders() != 1 {
		t.Fatalf("issue: %+v, orders %d", res, c.ACME.Orders())
	}
	if _, ok := c.OSS.Object(bucketName, "certs/api/fullchain.pem"); !ok {
		t.Fatal("no fullchain.pem")
	}

	// 2. killed while waiting for the CA's validation (the TXT record is
	// there, the challenge answered, the authorization polls held), FC
	// retries; the next run deletes the record and finishes the order (the
	// CA validated it meanwhile: ready, finalized with the saved key)
	if err := c.OSS.PutObject(bucketName, "certs/www/acme.yaml", acme("www.example.com")); err != nil {
		t.Fatal(err)
	}
	challenges := c.Faults.Stats()["acme:challenge"].Calls
	c.Faults.Set(faults.Rule{Action: "acme:authorization", Latency: time.Second})
	killStart := time.Now()
	if _, err := c.FC.InvokeAsync(fnName, []byte(`{"name":"www"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the challenge of the order", diagnose(c, &logs), func() bool {
		return c.ACME.Orders() == 2 && txtRecords(c) == 1 && c.Faults.Stats()["acme:challenge"].Calls > challenges
	})
	killInstance(t, c)
	c.Faults.Clear()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.FC.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	for _, r := range c.FC.AsyncResults() {
		var rr Result
		_ = json.Unmarshal(r.Result, &rr)
		results = append(results, rr)
		if r.Attempts != 2 {
			t.Errorf("async invocation: %d attempts, want 2 (killed, then FC's retry): %+v", r.Attempts, r)
		}
	}
	// the next run after the killed holder's lease ran out (its deadline + 5 s)
	time.Sleep(time.Until(killStart.Add(fnTimeout + 6*time.Second)))
	res = invoke(t, c, `{"name":"www"}`)
	results = append(results, res)
	if len(res.Names) != 1 || res.Names[0].Status != outcome.Issued || !strings.Contains(res.Names[0].Reason, "finished the order an interrupted run placed") ||
		c.ACME.Orders() != 2 || txtRecords(c) != 0 {
		t.Fatalf("after the kill: %+v, CA orders %d (want 2: one per pair), TXT records %d", res, c.ACME.Orders(), txtRecords(c))
	}
	stData, _ := c.OSS.Object(bucketName, app.StatePrefix+"www.json")
	var st issuance.State
	if err := json.Unmarshal(stData, &st); err != nil || st.Failures != 0 || st.Orders != 1 || !st.OrderStarted.IsZero() {
		t.Errorf("state after the kill: %s", stData)
	}

	// 3. killed after the CA issued, while downloading the certificate: the
	// next run finishes that order (no second one) and the pair is issued
	if err := c.OSS.PutObject(bucketName, "certs/shop/acme.yaml", acme("shop.example.com")); err != nil {
		t.Fatal(err)
	}
	c.Faults.Set(faults.Rule{Action: "acme:certificate", Latency: 3 * time.Second})
	downloads := c.Faults.Stats()["acme:certificate"].Calls // the first pair's download counted already
	killStart = time.Now()
	if _, err := c.FC.InvokeAsync(fnName, []byte(`{"name":"shop"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the certificate download", diagnose(c, &logs), func() bool { return c.ACME.Orders() == 3 && c.Faults.Stats()["acme:certificate"].Calls > downloads })
	killInstance(t, c)
	c.Faults.Clear()
	if err := c.FC.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(killStart.Add(fnTimeout + 6*time.Second)))
	res = invoke(t, c, `{"name":"shop"}`)
	results = append(results, res)
	if len(res.Names) != 1 || res.Names[0].Status != outcome.Issued || !strings.Contains(res.Names[0].Reason, "finished the order an interrupted run placed") || c.ACME.Orders() != 3 {
		stData, _ := c.OSS.Object(bucketName, app.StatePrefix+"shop.json")
		t.Fatalf("after a kill during the download: %+v, CA orders %d (want 3: one per pair); state %s", res, c.ACME.Orders(), stData)
	}
	for _, r := range c.FC.AsyncResults() {
		var rr Result
		_ = json.Unmarshal(r.Result, &rr)
		results = append(results, rr)
	}

	// 4. secrets scan
	scanSecrets(t, c, bucketName, logs.String(), results)
}

// waitFor polls cond for 20 s; on timeout it fails with what diagnose
// tells of the cloud's state (orders, records, invocations, logs).
func waitFor(t *testing.T, what string, diagnose func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; %s", what, diagnose())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// diagnose describes the state a wait depends on: the CA's orders, the TXT
// records, the ACME calls, the async invocations and the function's logs.
func diagnose(c *emulator.Cloud, logs *fcrttest.Log) func() string {
	return func() string {
		stats := c.Faults.Stats()
		var async []string
		for _, r := range c.FC.AsyncResults() {
			async = append(async, fmt.Sprintf("%s attempts %d error %q result %s", r.Status, r.Attempts, r.ErrorType, r.Result))
		}
		return fmt.Sprintf("CA orders %d, TXT records %d, acme calls: challenge %d authorization %d certificate %d; async results %v; logs:\n%s",
			c.ACME.Orders(), txtRecords(c), stats["acme:challenge"].Calls, stats["acme:authorization"].Calls, stats["acme:certificate"].Calls, async, logs.String())
	}
}

func killInstance(t *testing.T, c *emulator.Cloud) {
	t.Helper()
	insts, err := c.FC.Instances(fnName)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insts {
		if len(in.RequestIDs) > 0 {
			if err := c.FC.KillInstance(fnName, in.ID); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("no instance is running an invocation: %+v", insts)
}

// scanSecrets looks for the local keys' secret and token, the ACME account
// key and the issued private key in everything the function wrote or
// returned, except the two objects that must hold keys.
func scanSecrets(t *testing.T, c *emulator.Cloud, bucketName, logs string, results []Result) {
	t.Helper()
	ak, secret, token := c.STSCredentials()
	_, plainSecret := c.Credentials()
	needles := map[string]string{"STS secret": secret, "STS token": token, "AccessKey secret": plainSecret}
	keyObjects := map[string]bool{}
	for _, b := range c.OSS.Dump() {
		for _, o := range b.Objects {
			if strings.HasPrefix(o.Key, app.AccountPrefix) || strings.HasSuffix(o.Key, "privkey.pem") {
				keyObjects[o.Key] = true
				if o.Meta["x-oss-server-side-encryption"] != "AES256" {
					t.Errorf("%s written without server-side encryption", o.Key)
				}
				data, _ := c.OSS.Object(bucketName, o.Key)
				if blk, _ := pem.Decode(data); blk != nil {
					body := strings.Join(strings.Split(string(pem.EncodeToMemory(blk)), "\n")[2:4], "")
					needles["key material of "+o.Key] = body
				}
			}
		}
	}
	if len(keyObjects) < 2 {
		t.Fatalf("expected an account key and a private key in the bucket, found %v", keyObjects)
	}
	var hay strings.Builder
	hay.WriteString(logs)
	for _, r := range results {
		b, _ := json.Marshal(r)
		hay.Write(b)
	}
	for _, b := range c.OSS.Dump() {
		for _, o := range b.Objects {
			if !keyObjects[o.Key] {
				data, _ := c.OSS.Object(bucketName, o.Key)
				hay.Write(data)
			}
		}
	}
	reqs, _ := json.Marshal(c.RequestLog())
	hay.Write(reqs)
	for what, n := range needles {
		if n != "" && strings.Contains(hay.String(), n) {
			t.Errorf("%s found in logs, results, state or request logs", what)
		}
	}
	if !strings.Contains(hay.String(), ak) {
		t.Error("the scan saw nothing: the access key id (not a secret) should appear in the request logs")
	}
}
