package acmeca

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDirectoryOverTLSAndRefusals(t *testing.T) {
	if _, err := Start(Options{}); err == nil {
		t.Fatal("Start without a DNS server must fail")
	}
	ca, err := Start(Options{DNSServer: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	if !strings.HasPrefix(ca.DirectoryURL(), "https://127.0.0.1:") {
		t.Fatalf("directory %s", ca.DirectoryURL())
	}
	if _, err := http.Get(ca.DirectoryURL()); err == nil {
		t.Error("an untrusting client reached the CA: its certificate must not verify against system roots")
	}
	resp, err := ca.HTTPClient().Get(ca.DirectoryURL())
	if err != nil {
		t.Fatal(err)
	}
	var dir map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&dir); err != nil || dir["newOrder"] == nil || dir["renewalInfo"] == nil {
		t.Fatalf("directory %v, %v", dir, err)
	}
	resp.Body.Close()
	if !strings.Contains(string(ca.RootPEM()), "BEGIN CERTIFICATE") || !strings.Contains(string(ca.TLSCertPEM()), "BEGIN CERTIFICATE") {
		t.Error("root or TLS certificate missing")
	}

	ca.Refuse("newOrder", Problem{Type: "urn:ietf:params:acme:error:rejectedIdentifier", Detail: "no", Status: 400})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, strings.TrimSuffix(ca.DirectoryURL(), "/dir")+"/order-plz", strings.NewReader("{}"))
	resp, err = ca.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), "rejectedIdentifier") {
		t.Errorf("refusal: %d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if ca.Orders() != 0 {
		t.Errorf("a refused order was counted")
	}
}
