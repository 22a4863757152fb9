package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name string
		out  string
		code int
		says string
	}{
		{"fc3 JSON rotated", "========= FC invoke Logs begin =========\n{\"level\":\"INFO\",\"status\":\"rejected\"}\n========= FC invoke Logs end =========\n\nFC Invoke Result:\n{\"status\":\"rotated\",\"name\":\"example.com\"}\n\n✔ [rotate-on-upload] completed (1.2s)\n", 0, "status rotated"},
		{"fc3 JSON rejected", "FC Invoke Result:\n{\"status\":\"rejected\",\"reason\":\"certs/a/privkey.pem: the private key is encrypted\"}\n✔ [rotate-on-upload] completed\n", 1, "status rejected is not a success (s shows ✔ because the invocation returned): certs/a/privkey.pem: the private key is encrypted"},
		{"nested status is not the result's", "{\"status\":\"partial\",\"targets\":[{\"status\":\"rotated\"}],\"error\":\"one listener left\"}\n", 1, "status partial is not a success (s shows ✔ because the invocation returned): one listener left"},
		{"configuration error", "{\"action\":\"apply\",\"status\":\"rejected\",\"error\":\"config: CERT_BUCKET is not set\",\"problems\":[\"CERT_BUCKET: missing\"]}", 1, "config: CERT_BUCKET is not set; CERT_BUCKET: missing"},
		{"failed", "{\"status\":\"failed\"}", 1, "status failed is not a success (s shows ✔ because the invocation returned): see the result above"},
		{"YAML rendering waiting", "rotate-on-upload:\nstatus: waiting\nreason: the key is missing\n✔ [rotate-on-upload] completed\n", 0, "status waiting"},
		{"YAML rendering rejected", "status: rejected\nreason: no listener serves example.com\nchanges:\n  - status: ok\n", 1, "status rejected is not a success (s shows ✔ because the invocation returned): no listener serves example.com"},
		{"s 3 coloured YAML", "🚀  Result for [invoke] of [slb-cert-rotator]\n====================\n\x1b[1mstatus: \x1b[22m     rejected\n\x1b[1mreason: \x1b[22m     the key is encrypted\n\x1b[1m__component: \x1b[22m/x/fc3-local\n", 1, "status rejected is not a success (s shows ✔ because the invocation returned): the key is encrypted"},
		{"no result", "✖ [rotate-on-upload] failed to [invoke]:\nfc3-local: invoke: HTTP 500\n", 3, "no result with a status"},
		{"unknown status", "{\"status\":\"dry-run\"}", 1, "status dry-run is not a success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := run(strings.NewReader(tt.out), &stderr); code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.says) {
				t.Errorf("says %q, want %q", stderr.String(), tt.says)
			}
		})
	}
}
