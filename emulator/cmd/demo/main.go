package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

const (
	region   = "cn-zhangjiakou"
	bucket   = "slb-cert-drop"
	certName = "example.com"
	lbName   = "SLB1"
)

var domains = []string{"example.com", "www.example.com"}

func main() {
	root := flag.String("root", ".", "repository root (holds s.yaml, events/ and dist/)")
	timeout := flag.Duration("timeout", 110*time.Second, "give up after this long")
	verbose := flag.Bool("v", false, "show the functions' log output on stderr")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	start := time.Now()
	if err := run(ctx, os.Stdout, *root, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "\nDEMO FAILED after %s: %v\n", time.Since(start).Round(time.Millisecond), err)
		os.Exit(1)
	}
	fmt.Printf("\nDemo finished in %s: every step passed.\n", time.Since(start).Round(time.Millisecond))
}

// step prints a titled block.
type printer struct {
	w io.Writer
	n int
}

func (p *printer) title(format string, a ...any) {
	p.n++
	fmt.Fprintf(p.w, "\n==== Step %d: %s ====\n", p.n, fmt.Sprintf(format, a...))
}

func (p *printer) line(format string, a ...any) { fmt.Fprintf(p.w, "  "+format+"\n", a...) }

func (p *printer) json(label string, body []byte) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "    ", "  "); err != nil {
		buf.Reset()
		buf.Write(body)
	}
	fmt.Fprintf(p.w, "  %s:\n    %s\n", label, buf.String())
}

func (p *printer) served(s served) {
	p.line("subject:     %s", s.Subject)
	p.line("dns names:   %s", strings.Join(s.DNSNames, ", "))
	p.line("fingerprint: %s", s.Fingerprint)
	p.line("expires:     %s", s.NotAfter.UTC().Format(time.RFC3339))
}

func run(ctx context.Context, w io.Writer, root string, verbose bool) (err error) {
	p := &printer{w: w}
	fmt.Fprintln(w, "slb-cert-rotator demo: local cloud, real SDKs, real function binaries, real TLS")

	p.title("start the local cloud and deploy the functions from s.yaml")
	cloud, err := startCloud(ctx, verbose)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := cloud.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("demo: stop local cloud: %w", cerr)
		}
	}()
	p.line("FC  %s", cloud.FCEndpoint)
	p.line("SLB %s", cloud.SLBEndpoint)
	p.line("OSS %s", cloud.OSSEndpoint)
	creds := aliyun.Credentials{AccessKeyID: cloud.AccessKeyID, AccessKeySecret: cloud.AccessKeySecret}
	slb := aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: cloud.SLBEndpoint})
	oss, err := aliyun.NewOSS(creds, aliyun.OSSOptions{Endpoint: cloud.OSSEndpoint, Region: region, V4: true})
	if err != nil {
		return fmt.Errorf("demo: oss client: %w", err)
	}
	fc := newFCClient(cloud.FCEndpoint)

	now := time.Now()
	ca, caKey, err := newCA(now)
	if err != nil {
		return fmt.Errorf("demo: CA: %w", err)
	}
	certA, err := issue(ca, caKey, now, 1001, "certificate A", 60, domains...)
	if err != nil {
		return err
	}
	certB, err := issue(ca, caKey, now, 1002, "certificate B", 90, domains...)
	if err != nil {
		return err
	}
	cloud.CreateBucket(bucket, region)
	if err := putPair(ctx, oss, certA); err != nil {
		return err
	}
	p.line("bucket %s holds certificate A at certs/%s/{fullchain,privkey}.pem (fingerprint %s)", bucket, certName, fingerprint(certA.Leaf.Raw))

	overrides := map[string]string{
		"SLB_ENDPOINT": cloud.SLBEndpoint, "OSS_ENDPOINT": cloud.OSSEndpoint, "OSS_REGION": region,
		"CERT_BUCKET": bucket, "REGIONS": region, "KEEP_SUPERSEDED": "0", "LOG_LEVEL": "warn",
	}
	for k, v := range cloud.ACMEEnv {
		overrides[k] = v
	}
	// s.yaml is read with the environment the demo sets (the local cloud's
	// endpoints and bucket) and nothing from the caller's shell.
	specs, err := fcrt.LoadSYAML(filepath.Join(root, "s.yaml"), func(k string) string { return overrides[k] })
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	names := map[string]string{}
	for _, spec := range specs {
		if _, err := os.Stat(spec.Binary); err != nil {
			return fmt.Errorf("demo: %s: %w (run `make build`)", spec.Resource, err)
		}
		if err := fc.Deploy(ctx, spec); err != nil {
			return err
		}
		names[spec.Resource] = spec.Name
		var trig []string
		for _, t := range spec.Triggers {
			trig = append(trig, t.Type+":"+t.Name)
		}
		p.line("deployed %-17s as %-26s triggers [%s]", spec.Resource, spec.Name, strings.Join(trig, ", "))
	}
	for _, want := range []string{"rotate-on-upload", "expiry-check", "provision", "renew-certificates"} {
		if names[want] == "" {
			return fmt.Errorf("demo: s.yaml has no resource %s", want)
		}
	}

	p.title("provision the seed's setup through the provision function (events/provision.json)")
	payload, err := os.ReadFile(filepath.Join(root, "events", "provision.json"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	out, err := fc.Invoke(ctx, names["provision"], payload)
	if err != nil {
		return err
	}
	p.json("provision result", out)
	lb, listener, err := findListener(ctx, slb)
	if err != nil {
		return err
	}
	p.line("load balancer %s (%s) address %s, HTTPS listener %d -> backend %d", lb.Name, lb.ID, lb.Address, listener.Port, listener.BackendPort)

	p.title("TLS handshake to %s:%d (SNI %s): certificate A is served", lb.Address, listener.Port, domains[0])
	got, err := handshake(ctx, lb.Address, listener.Port, domains[0])
	if err != nil {
		return err
	}
	p.served(got)
	if got.Fingerprint != fingerprint(certA.Leaf.Raw) {
		return fmt.Errorf("demo: listener serves %s, want certificate A %s", got.Fingerprint, fingerprint(certA.Leaf.Raw))
	}
	certsBefore, err := slb.ListServerCertificates(ctx, region)
	if err != nil {
		return err
	}
	idA := ""
	for _, c := range certsBefore {
		if c.Fingerprint == fingerprint(certA.Leaf.Raw) {
			idA = c.ID
		}
	}
	p.line("DescribeServerCertificates: A is %s", idA)

	p.title("drop certificate B's pair into oss://%s/certs/%s/ (PutObject through the OSS SDK)", bucket, certName)
	if err := putPair(ctx, oss, certB); err != nil {
		return err
	}
	p.line("put certs/%s/privkey.pem and certs/%s/fullchain.pem (B, fingerprint %s)", certName, certName, fingerprint(certB.Leaf.Raw))
	p.line("the OSS trigger invokes rotate-on-upload asynchronously; waiting for the listener to serve B ...")
	got, err = waitServed(ctx, lb.Address, listener.Port, fingerprint(certB.Leaf.Raw))
	if err != nil {
		return err
	}
	if state, err := fc.State(ctx); err == nil {
		printAsync(p, state, names["rotate-on-upload"])
	}

	p.title("the listener now serves B and A is deleted")
	p.served(got)
	certsAfter, err := slb.ListServerCertificates(ctx, region)
	if err != nil {
		return err
	}
	for _, c := range certsAfter {
		p.line("DescribeServerCertificates: %s %s expires %s fingerprint %s", c.ID, c.Name, c.ExpireTime.UTC().Format("2006-01-02"), c.Fingerprint)
		if c.Fingerprint == fingerprint(certA.Leaf.Raw) {
			return fmt.Errorf("demo: certificate A (%s) still exists after the rotation", c.ID)
		}
	}
	p.line("certificate A %s: gone", idA)

	if err := acmeStep(ctx, p, cloud, oss, fc, names["renew-certificates"], lb, listener); err != nil {
		return err
	}

	p.title("run expiry-check (fire its timer) and show the report")
	out, err = fc.Fire(ctx, names["expiry-check"], "daily-expiry-check")
	if err != nil {
		return err
	}
	p.json("expiry-check report", out)

	p.title("destroy the setup (provision with action destroy)")
	destroy, err := os.ReadFile(filepath.Join(root, "events", "provision-destroy.json"))
	if err != nil {
		if destroy, err = withAction(payload, "destroy"); err != nil {
			return err
		}
	}
	out, err = fc.Invoke(ctx, names["provision"], destroy)
	if err != nil {
		return err
	}
	p.json("destroy result", out)
	lbs, err := slb.ListLoadBalancers(ctx, region)
	if err != nil {
		return err
	}
	for _, l := range lbs {
		if l.Name == lbName {
			return fmt.Errorf("demo: load balancer %s (%s) still exists after destroy", l.Name, l.ID)
		}
	}
	p.line("DescribeLoadBalancers: no %s left in %s; stopping the local cloud", lbName, region)
	return nil
}

// putPair writes a pair under certs/<certName>/: key first, then the chain.
func putPair(ctx context.Context, oss *aliyun.OSS, c pair) error {
	if err := oss.Put(ctx, bucket, "certs/"+certName+"/privkey.pem", c.Key, "application/x-pem-file"); err != nil {
		return err
	}
	return oss.Put(ctx, bucket, "certs/"+certName+"/fullchain.pem", c.Chain, "application/x-pem-file")
}

// findListener returns the seed's load balancer and its HTTPS listener.
func findListener(ctx context.Context, slb *aliyun.SLB) (clb.LoadBalancer, clb.Listener, error) {
	lbs, err := slb.ListLoadBalancers(ctx, region)
	if err != nil {
		return clb.LoadBalancer{}, clb.Listener{}, err
	}
	for _, lb := range lbs {
		if lb.Name != lbName {
			continue
		}
		ls, err := slb.ListHTTPSListeners(ctx, region, []string{lb.ID})
		if err != nil {
			return lb, clb.Listener{}, err
		}
		if len(ls) == 0 {
			return lb, clb.Listener{}, fmt.Errorf("demo: %s has no HTTPS listener", lb.ID)
		}
		return lb, ls[0], nil
	}
	return clb.LoadBalancer{}, clb.Listener{}, fmt.Errorf("demo: no load balancer named %s in %s", lbName, region)
}

// waitServed polls the listener until it serves the fingerprint.
func waitServed(ctx context.Context, addr string, port int, fp string) (served, error) {
	var last served
	var lastErr error
	for {
		s, err := handshake(ctx, addr, port, domains[0])
		if err == nil && s.Fingerprint == fp {
			return s, nil
		}
		last, lastErr = s, err
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("demo: listener never served %s (last %s, %v): %w", fp, last.Fingerprint, lastErr, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// printAsync shows the asynchronous invocations of fn recorded in /local/state.
func printAsync(p *printer, state []byte, fn string) {
	// The runtime's dump has "async" at the top (/local/fc/state) or under
	// "fc" (/local/state of the whole cloud).
	var doc struct {
		Async []json.RawMessage `json:"async"`
		FC    struct {
			Async []json.RawMessage `json:"async"`
		} `json:"fc"`
	}
	if json.Unmarshal(state, &doc) != nil {
		return
	}
	for _, raw := range append(doc.Async, doc.FC.Async...) {
		var rec struct {
			Function string `json:"function"`
		}
		if json.Unmarshal(raw, &rec) == nil && rec.Function == fn {
			p.json("async invocation", raw)
		}
	}
}

// withAction returns the payload with "action" replaced.
func withAction(payload []byte, action string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("demo: provision payload: %w", err)
	}
	if m == nil {
		return nil, errors.New("demo: provision payload is not an object")
	}
	m["action"] = action
	return json.Marshal(m)
}
