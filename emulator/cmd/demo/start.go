package main

import (
	"context"
	"io"
	"os"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator"
)

// cloudHandle is what the demo needs from the local cloud.
type cloudHandle struct {
	FCEndpoint, SLBEndpoint, OSSEndpoint string
	AccessKeyID, AccessKeySecret         string
	// ACMEEnv is what the renewal function needs of the local cloud
	// (ALIDNS_ENDPOINT, ACME_DNS_NAMESERVERS, ACME_CA_ROOTS);
	// ACMEDirectory is the local CA's directory and ACMERoot its root.
	ACMEEnv       map[string]string
	ACMEDirectory string
	ACMERoot      []byte
	// CreateBucket makes the certificate bucket (in-process, no API call).
	CreateBucket func(name, region string)
	// SeedLB seeds one ALB and one NLB instance in region (in-process);
	// DNSAddr is the DNS server resolving their names.
	SeedLB  func(region string) ([]emulator.FleetMember, error)
	DNSAddr string
	// Close stops every listener and function process the cloud started.
	Close func() error
}

// lbFleet is how many ALB and NLB instances the local cloud seeds (-lb-fleet).
var lbFleet int

// startCloud starts the in-process local cloud (emulator.Start); function
// output goes to stderr when verbose.
func startCloud(_ context.Context, verbose bool) (*cloudHandle, error) {
	var logs io.Writer = io.Discard
	if verbose {
		logs = os.Stderr
	}
	c, err := emulator.Start(emulator.Options{Bucket: bucket, BucketRegion: region, Logs: logs, LBFleet: lbFleet})
	if err != nil {
		return nil, err
	}
	ak, secret := c.Credentials()
	return &cloudHandle{
		FCEndpoint: c.FCEndpoint(), SLBEndpoint: c.SLBEndpoint(), OSSEndpoint: c.OSSEndpoint(),
		AccessKeyID: ak, AccessKeySecret: secret,
		CreateBucket: c.OSS.CreateBucket,
		SeedLB:       func(region string) ([]emulator.FleetMember, error) { return c.SeedLBFleet(region, 1) },
		DNSAddr:      c.DNSAddr(),
		ACMEEnv: map[string]string{
			"ALIDNS_ENDPOINT": c.AlidnsEndpoint(), "ACME_DNS_NAMESERVERS": c.DNS.Addr(),
			"ACME_CA_ROOTS": string(c.ACME.TLSCertPEM()),
		},
		ACMEDirectory: c.ACME.DirectoryURL(),
		ACMERoot:      c.ACME.RootPEM(),
		Close:         c.Close,
	}, nil
}
