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
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
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
	flag.IntVar(&lbFleet, "lb-fleet", 0, "also seed this many ALB and NLB instances in the local cloud (make demo LB_FLEET=n)")
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
		if !pause.For(ctx, 200*time.Millisecond) {
			return last, fmt.Errorf("demo: listener never served %s (last %s, %v): %w", fp, last.Fingerprint, lastErr, ctx.Err())
		}
	}
}

// asyncRecords returns the asynchronous invocations of fn in a state
// document: "async" at the top (/local/fc/state) or under "fc" (/local/state
// of the whole cloud).
func asyncRecords(state []byte, fn string) []json.RawMessage {
	var doc struct {
		Async []json.RawMessage `json:"async"`
		FC    struct {
			Async []json.RawMessage `json:"async"`
		} `json:"fc"`
	}
	if json.Unmarshal(state, &doc) != nil {
		return nil
	}
	var out []json.RawMessage
	for _, raw := range append(doc.Async, doc.FC.Async...) {
		var rec struct {
			Function string `json:"function"`
		}
		if json.Unmarshal(raw, &rec) == nil && rec.Function == fn {
			out = append(out, raw)
		}
	}
	return out
}

// waitAsync polls the state until no asynchronous invocation of fn is
// pending (retries included) and returns that state.
func waitAsync(ctx context.Context, state func(context.Context) ([]byte, error), fn string, every time.Duration) ([]byte, error) {
	for {
		st, err := state(ctx)
		if err != nil {
			return nil, err
		}
		pending := 0
		for _, raw := range asyncRecords(st, fn) {
			var rec struct {
				Status string `json:"status"`
			}
			if json.Unmarshal(raw, &rec) == nil && rec.Status == "pending" {
				pending++
			}
		}
		if pending == 0 {
			return st, nil
		}
		if !pause.For(ctx, every) {
			return nil, fmt.Errorf("demo: %d invocations of %s still pending: %w", pending, fn, ctx.Err())
		}
	}
}

// printAsync shows the asynchronous invocations of fn recorded in /local/state.
func printAsync(p *printer, state []byte, fn string) {
	for _, raw := range asyncRecords(state, fn) {
		p.json("async invocation", raw)
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
