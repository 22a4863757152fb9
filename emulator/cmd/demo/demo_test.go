package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoEndToEnd runs the whole demo (what `make demo` shows) when the
// function binaries exist; `make test` builds them first.
func TestDemoEndToEnd(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"rotate-on-upload", "expiry-check", "provision", "renew-certificates"} {
		if _, err := os.Stat(filepath.Join(root, "dist", fn, "bootstrap")); err != nil {
			t.Skipf("dist/%s/bootstrap absent (run `make build`; make test does): demo NOT run", fn)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, root, false); err != nil {
		t.Fatalf("demo failed: %v\noutput:\n%s", err, out.String())
	}
	for _, want := range []string{
		"Step 1: start the local cloud",
		"Step 2: provision",
		"Step 3: TLS handshake",
		"O=certificate A",
		"Step 4: drop certificate B",
		"Step 5: the listener now serves B and A is deleted",
		"O=certificate B",
		"Step 6: drop certs/example.com/acme.yaml",
		`"status": "issued"`,
		"chain verifies against the local ACME CA's root",
		"Step 7: run expiry-check",
		"Step 8: destroy",
		"no SLB1 left",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
}

func TestWithAction(t *testing.T) {
	got, err := withAction([]byte(`{"action":"apply","region":"r"}`), "destroy")
	if err != nil || !strings.Contains(string(got), `"action":"destroy"`) || !strings.Contains(string(got), `"region":"r"`) {
		t.Errorf("got %s, %v", got, err)
	}
	if _, err := withAction([]byte(`null`), "destroy"); err == nil {
		t.Error("null payload accepted")
	}
}
