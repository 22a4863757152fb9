// Command localcloud runs the local cloud (SLB, ALB, NLB, CAS, OSS, DNS and
// Function Compute with the s.yaml functions) as one process on loopback ports, for the demo and
// for manual use. It prints one "localcloud ready ..." line on stdout when
// it serves, writes the endpoints to -env-file / -addr-file, and shuts down
// cleanly (function processes killed) on SIGINT or SIGTERM.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
)

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localcloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		addrFile    = fs.String("addr-file", "", "write the endpoints as JSON to this file")
		envFile     = fs.String("env-file", "", "write SLB_ENDPOINT, ALB_ENDPOINT, NLB_ENDPOINT, CAS_ENDPOINT, PROBE_RESOLVER, OSS_ENDPOINT, FC_ENDPOINT, ALIDNS_ENDPOINT, the ACME settings and the local credentials to this file (export KEY=value lines)")
		syaml       = fs.String("s-yaml", "", "deploy the functions of this s.yaml (binaries are started on first invocation)")
		seed        = fs.Int64("seed", 1, "seed of fault injection and delivery reordering")
		latency     = fs.Duration("latency", 0, "latency added to every SLB and OSS call")
		bucket      = fs.String("bucket", envOr("CERT_BUCKET", emulator.DefaultBucket), "bucket created at start (default $CERT_BUCKET, else slb-cert-drop, the s.yaml default)")
		region      = fs.String("bucket-region", emulator.DefaultBucketRegion, "region of the bucket (and of the functions)")
		duplicate   = fs.Bool("duplicate", false, "deliver every OSS trigger event twice")
		reorder     = fs.Duration("reorder", 0, "random extra delay (up to this) for OSS trigger deliveries")
		noFrontends = fs.Bool("no-frontends", false, "do not open TLS listeners for HTTPS listeners")
		quiet       = fs.Bool("quiet", false, "do not copy function output to stderr")
		lbFleet     = fs.Int("lb-fleet", 0, "seed this many ALB and as many NLB instances (HTTPS/TCPSSL on 443, certificates in CAS) in -bucket-region")
		lbConfig    = fs.Duration("lb-configuring", 0, "how long an ALB or NLB write keeps its listener Configuring (0: 2s)")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var logs io.Writer = stderr
	if *quiet {
		logs = io.Discard
	}
	t0 := time.Now()
	c, err := emulator.Start(emulator.Options{
		Seed: *seed, Latency: *latency, NoFrontends: *noFrontends, Logs: logs, SYAML: *syaml,
		Bucket: *bucket, BucketRegion: *region, LBFleet: *lbFleet, LBConfiguring: *lbConfig,
		OSSDelivery: fcrt.OSSDelivery{Duplicate: *duplicate, Reorder: *reorder},
	})
	if err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	startup := time.Since(t0)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	if *envFile != "" {
		var b strings.Builder
		for _, kv := range envLines(c, *region, *bucket) {
			fmt.Fprintf(&b, "export %s=%s\n", kv[0], kv[1])
		}
		if err := writeFile(*envFile, b.String()); err != nil {
			log.Error("write env file", "err", err)
			c.Close()
			return 1
		}
	}
	if *addrFile != "" {
		j, _ := json.MarshalIndent(map[string]string{"slb": c.SLBEndpoint(), "oss": c.OSSEndpoint(), "fc": c.FCEndpoint(),
			"alb": c.ALBEndpoint(), "nlb": c.NLBEndpoint(), "cas": c.CASEndpoint(), "dns": c.DNSAddr(),
			"alidns": c.AlidnsEndpoint(), "acme": c.ACME.DirectoryURL()}, "", "  ")
		if err := writeFile(*addrFile, string(j)+"\n"); err != nil {
			log.Error("write addr file", "err", err)
			c.Close()
			return 1
		}
	}
	fns := len(c.FC.Functions())
	fmt.Fprintf(stdout, "localcloud ready slb=%s oss=%s fc=%s alb=%s nlb=%s cas=%s dns=%s alidns=%s acme=%s bucket=%s functions=%d startup=%s\n",
		c.SLBEndpoint(), c.OSSEndpoint(), c.FCEndpoint(), c.ALBEndpoint(), c.NLBEndpoint(), c.CASEndpoint(), c.DNSAddr(),
		c.AlidnsEndpoint(), c.ACME.DirectoryURL(), *bucket, fns, startup.Round(time.Microsecond))

	sig := <-sigs
	log.Info("shutting down", "signal", sig.String())
	signal.Stop(sigs)
	if err := c.Close(); err != nil {
		log.Error("close", "err", err)
		return 1
	}
	return 0
}

// envLines are the variables -env-file writes: the cloud's endpoints, its
// DNS server for the TLS probe, the bucket and the local credentials.
func envLines(c *emulator.Cloud, region, bucket string) [][2]string {
	ak, sk := c.Credentials()
	return [][2]string{
		{"SLB_ENDPOINT", c.SLBEndpoint()},
		{"ALB_ENDPOINT", c.ALBEndpoint()},
		{"NLB_ENDPOINT", c.NLBEndpoint()},
		{"CAS_ENDPOINT", c.CASEndpoint()},
		{"PROBE_RESOLVER", c.DNSAddr()},
		{"OSS_ENDPOINT", c.OSSEndpoint()},
		{"FC_ENDPOINT", c.FCEndpoint()},
		// The names the local Serverless Devs component (tooling/fc3-local) reads.
		{"LOCALCLOUD_FC_ENDPOINT", c.FCEndpoint()},
		{"LOCALCLOUD_SLB_ENDPOINT", c.SLBEndpoint()},
		{"LOCALCLOUD_OSS_ENDPOINT", c.OSSEndpoint()},
		{"ALIDNS_ENDPOINT", c.AlidnsEndpoint()},
		{"ACME_DNS_NAMESERVERS", c.DNSAddr()},
		// the local ACME CA's HTTPS certificate, on one line ("\n" escaped)
		{"ACME_CA_ROOTS", "'" + strings.ReplaceAll(strings.TrimSpace(string(c.ACME.TLSCertPEM())), "\n", `\n`) + "'"},
		{"ACME_DIRECTORY", c.ACME.DirectoryURL()},
		{"OSS_REGION", region},
		{"CERT_BUCKET", bucket},
		{"ALIBABA_CLOUD_ACCESS_KEY_ID", ak},
		// A fixed local dummy accepted only by this emulator.
		{"ALIBABA_CLOUD_ACCESS_KEY_SECRET", sk},
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// writeFile writes atomically (temp file + rename) so that a script polling
// for the file never reads half of it.
func writeFile(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".localcloud-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
