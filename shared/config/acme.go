package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// loadACME reads the renewal function's variables (ALIDNS_ENDPOINT is
// checked with the other endpoints).
func loadACME(l *loader, c *Config) {
	for _, ns := range strings.Split(l.get(EnvACMENameservers), ",") {
		ns = strings.TrimSpace(ns)
		if ns == "" {
			continue
		}
		host, port, err := net.SplitHostPort(ns)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			l.bad(EnvACMENameservers, fmt.Sprintf("%q is not host:port", ns), "list DNS servers as host:port separated by commas, e.g. 127.0.0.1:5353; leave it empty to check the zone's own servers")
			continue
		}
		c.ACMENameservers = append(c.ACMENameservers, ns)
	}
	// one-line form too: "\n" escapes (env files are line based)
	c.ACMECARoots = strings.ReplaceAll(l.get(EnvACMECARoots), `\n`, "\n")
	if c.ACMECARoots != "" && countCertificates([]byte(c.ACMECARoots)) == 0 {
		l.bad(EnvACMECARoots, "holds no PEM certificate", "paste the CA's root certificate(s) in PEM (-----BEGIN CERTIFICATE-----), or leave it empty to trust the system roots only")
	}
}

// countCertificates counts the parseable CERTIFICATE blocks of PEM data.
func countCertificates(data []byte) int {
	n := 0
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return n
		}
		if _, err := x509.ParseCertificate(b.Bytes); b.Type == "CERTIFICATE" && err == nil {
			n++
		}
	}
}
