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
		"Step 8: drop one pair (certs/every-lb/",
		"ALB additional",
		"NLB listener",
		"serves certificate C",
		"Step 9: destroy",
		"no SLB1 left",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	// Every asynchronous invocation is shown with its end.
	if strings.Contains(out.String(), `"status": "pending"`) {
		t.Errorf("demo shows a pending invocation:\n%s", out.String())
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

func TestWaitAsyncShowsTheEnd(t *testing.T) {
	states := []string{
		`{"async":[{"function":"f","status":"succeeded"},{"function":"f","status":"pending"},{"function":"g","status":"pending"}],"pending":2}`,
		`{"async":[{"function":"f","status":"succeeded"},{"function":"f","status":"pending"}],"pending":1}`,
		`{"async":[{"function":"f","status":"succeeded","result":{"status":"rotated"}},{"function":"f","status":"succeeded","result":{"status":"unchanged"}},{"function":"g","status":"pending"}],"pending":1}`,
	}
	calls := 0
	state := func(context.Context) ([]byte, error) {
		s := states[min(calls, len(states)-1)]
		calls++
		return []byte(s), nil
	}
	got, err := waitAsync(context.Background(), state, "f", time.Millisecond)
	if err != nil || calls != 3 {
		t.Fatalf("waitAsync: %v after %d polls", err, calls)
	}
	var out bytes.Buffer
	printAsync(&printer{w: &out}, got, "f")
	if strings.Contains(out.String(), "pending") || !strings.Contains(out.String(), "unchanged") {
		t.Errorf("printed:\n%s", out.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	stuck := func(context.Context) ([]byte, error) { return []byte(states[0]), nil }
	if _, err := waitAsync(ctx, stuck, "f", time.Millisecond); err == nil || !strings.Contains(err.Error(), "1 invocations of f still pending") {
		t.Errorf("stuck: %v", err)
	}
}
