package main

import (
	"context"
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

// demo is the state the steps share: the local cloud, the clients, the two
// certificates and what earlier steps found.
type demo struct {
	p            *printer
	root         string
	cloud        *cloudHandle
	slb          *aliyun.SLB
	oss          *aliyun.OSS
	fc           *fcClient
	certA, certB pair
	names        map[string]string // s.yaml resource -> deployed function name
	payload      []byte            // events/provision.json
	lb           clb.LoadBalancer
	listener     clb.Listener
	idA          string
}

func run(ctx context.Context, w io.Writer, root string, verbose bool) (err error) {
	d := &demo{p: &printer{w: w}, root: root}
	fmt.Fprintln(w, "slb-cert-rotator demo: local cloud, real SDKs, real function binaries, real TLS")

	d.p.title("start the local cloud and deploy the functions from s.yaml")
	if d.cloud, err = startCloud(ctx, verbose); err != nil {
		return err
	}
	defer func() {
		if cerr := d.cloud.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("demo: stop local cloud: %w", cerr)
		}
	}()
	for _, step := range []func(context.Context) error{
		d.setUp, d.deploy, d.provision, d.servesA, d.rotateToB, d.aGone, d.acme, d.expiryCheck, d.everyLB, d.destroy,
	} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// setUp makes the clients, issues certificates A and B and drops A's pair
// into the bucket.
func (d *demo) setUp(ctx context.Context) error {
	p, cloud := d.p, d.cloud
	p.line("FC  %s", cloud.FCEndpoint)
	p.line("SLB %s", cloud.SLBEndpoint)
	p.line("OSS %s", cloud.OSSEndpoint)
	creds := aliyun.Credentials{AccessKeyID: cloud.AccessKeyID, AccessKeySecret: cloud.AccessKeySecret}
	d.slb = aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: cloud.SLBEndpoint})
	oss, err := aliyun.NewOSS(creds, aliyun.OSSOptions{Endpoint: cloud.OSSEndpoint, Region: region, V4: true})
	if err != nil {
		return fmt.Errorf("demo: oss client: %w", err)
	}
	d.oss, d.fc = oss, newFCClient(cloud.FCEndpoint)

	now := time.Now()
	ca, caKey, err := newCA(now)
	if err != nil {
		return fmt.Errorf("demo: CA: %w", err)
	}
	if d.certA, err = issue(ca, caKey, now, 1001, "certificate A", 60, domains...); err != nil {
		return err
	}
	if d.certB, err = issue(ca, caKey, now, 1002, "certificate B", 90, domains...); err != nil {
		return err
	}
	cloud.CreateBucket(bucket, region)
	if err := putPair(ctx, d.oss, d.certA); err != nil {
		return err
	}
	p.line("bucket %s holds certificate A at certs/%s/{fullchain,privkey}.pem (fingerprint %s)", bucket, certName, fingerprint(d.certA.Leaf.Raw))
	return nil
}

// deploy deploys every function of s.yaml, read with the environment the
// demo sets (the local cloud's endpoints and bucket) and nothing from the
// caller's shell.
func (d *demo) deploy(ctx context.Context) error {
	overrides := map[string]string{
		"SLB_ENDPOINT": d.cloud.SLBEndpoint, "OSS_ENDPOINT": d.cloud.OSSEndpoint, "OSS_REGION": region,
		"CERT_BUCKET": bucket, "REGIONS": region, "KEEP_SUPERSEDED": "0", "LOG_LEVEL": "warn",
	}
	for k, v := range d.cloud.ACMEEnv {
		overrides[k] = v
	}
	specs, err := fcrt.LoadSYAML(filepath.Join(d.root, "s.yaml"), func(k string) string { return overrides[k] })
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.names = map[string]string{}
	for _, spec := range specs {
		if _, err := os.Stat(spec.Binary); err != nil {
			return fmt.Errorf("demo: %s: %w (run `make build`)", spec.Resource, err)
		}
		if err := d.fc.Deploy(ctx, spec); err != nil {
			return err
		}
		d.names[spec.Resource] = spec.Name
		var trig []string
		for _, t := range spec.Triggers {
			trig = append(trig, t.Type+":"+t.Name)
		}
		d.p.line("deployed %-17s as %-26s triggers [%s]", spec.Resource, spec.Name, strings.Join(trig, ", "))
	}
	for _, want := range []string{"rotate-on-upload", "expiry-check", "provision", "renew-certificates"} {
		if d.names[want] == "" {
			return fmt.Errorf("demo: s.yaml has no resource %s", want)
		}
	}
	return nil
}

// provision invokes the provision function with events/provision.json and
// finds the load balancer and listener it made.
func (d *demo) provision(ctx context.Context) error {
	d.p.title("provision the seed's setup through the provision function (events/provision.json)")
	payload, err := os.ReadFile(filepath.Join(d.root, "events", "provision.json"))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.payload = payload
	out, err := d.fc.Invoke(ctx, d.names["provision"], payload)
	if err != nil {
		return err
	}
	d.p.json("provision result", out)
	if d.lb, d.listener, err = findListener(ctx, d.slb); err != nil {
		return err
	}
	d.p.line("load balancer %s (%s) address %s, HTTPS listener %d -> backend %d", d.lb.Name, d.lb.ID, d.lb.Address, d.listener.Port, d.listener.BackendPort)
	return nil
}

// servesA checks by a TLS handshake that the listener serves A.
func (d *demo) servesA(ctx context.Context) error {
	d.p.title("TLS handshake to %s:%d (SNI %s): certificate A is served", d.lb.Address, d.listener.Port, domains[0])
	got, err := handshake(ctx, d.lb.Address, d.listener.Port, domains[0])
	if err != nil {
		return err
	}
	d.p.served(got)
	if got.Fingerprint != fingerprint(d.certA.Leaf.Raw) {
		return fmt.Errorf("demo: listener serves %s, want certificate A %s", got.Fingerprint, fingerprint(d.certA.Leaf.Raw))
	}
	certsBefore, err := d.slb.ListServerCertificates(ctx, region)
	if err != nil {
		return err
	}
	for _, c := range certsBefore {
		if c.Fingerprint == fingerprint(d.certA.Leaf.Raw) {
			d.idA = c.ID
		}
	}
	d.p.line("DescribeServerCertificates: A is %s", d.idA)
	return nil
}

// rotateToB drops B's pair into the bucket and waits until the listener
// serves it and every invocation the upload triggered has ended.
func (d *demo) rotateToB(ctx context.Context) error {
	p := d.p
	p.title("drop certificate B's pair into oss://%s/certs/%s/ (PutObject through the OSS SDK)", bucket, certName)
	if err := putPair(ctx, d.oss, d.certB); err != nil {
		return err
	}
	p.line("put certs/%s/privkey.pem and certs/%s/fullchain.pem (B, fingerprint %s)", certName, certName, fingerprint(d.certB.Leaf.Raw))
	p.line("the OSS trigger invokes rotate-on-upload asynchronously; waiting for the listener to serve B ...")
	got, err := waitServed(ctx, d.lb.Address, d.listener.Port, fingerprint(d.certB.Leaf.Raw))
	if err != nil {
		return err
	}
	// B is served once the first invocation rotated; the other event's
	// invocation may still run: show each one's end, not "pending".
	state, err := waitAsync(ctx, d.fc.State, d.names["rotate-on-upload"], 200*time.Millisecond)
	if err != nil {
		return err
	}
	printAsync(p, state, d.names["rotate-on-upload"])
	p.title("the listener now serves B and A is deleted")
	p.served(got)
	return nil
}

// aGone checks that the rotation's cleanup deleted certificate A.
func (d *demo) aGone(ctx context.Context) error {
	certsAfter, err := d.slb.ListServerCertificates(ctx, region)
	if err != nil {
		return err
	}
	for _, c := range certsAfter {
		d.p.line("DescribeServerCertificates: %s %s expires %s fingerprint %s", c.ID, c.Name, c.ExpireTime.UTC().Format("2006-01-02"), c.Fingerprint)
		if c.Fingerprint == fingerprint(d.certA.Leaf.Raw) {
			return fmt.Errorf("demo: certificate A (%s) still exists after the rotation", c.ID)
		}
	}
	d.p.line("certificate A %s: gone", d.idA)
	return nil
}

// expiryCheck fires the expiry check's timer and shows its report.
func (d *demo) expiryCheck(ctx context.Context) error {
	d.p.title("run expiry-check (fire its timer) and show the report")
	out, err := d.fc.Fire(ctx, d.names["expiry-check"], "daily-expiry-check")
	if err != nil {
		return err
	}
	d.p.json("expiry-check report", out)
	return nil
}

// destroy destroys the setup through the provision function and checks
// that the load balancer is gone.
func (d *demo) destroy(ctx context.Context) error {
	d.p.title("destroy the setup (provision with action destroy)")
	destroy, err := os.ReadFile(filepath.Join(d.root, "events", "provision-destroy.json"))
	if err != nil {
		if destroy, err = withAction(d.payload, "destroy"); err != nil {
			return err
		}
	}
	out, err := d.fc.Invoke(ctx, d.names["provision"], destroy)
	if err != nil {
		return err
	}
	d.p.json("destroy result", out)
	lbs, err := d.slb.ListLoadBalancers(ctx, region)
	if err != nil {
		return err
	}
	for _, l := range lbs {
		if l.Name == lbName {
			return fmt.Errorf("demo: load balancer %s (%s) still exists after destroy", l.Name, l.ID)
		}
	}
	d.p.line("DescribeLoadBalancers: no %s left in %s; stopping the local cloud", lbName, region)
	return nil
}

// acme drops an acme.yaml and follows the renewal to the listener (acmeStep).
func (d *demo) acme(ctx context.Context) error {
	return acmeStep(ctx, d.p, d.cloud, d.oss, d.fc, d.names["renew-certificates"], d.lb, d.listener)
}
