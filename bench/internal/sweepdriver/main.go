// Command sweepdriver runs one expiry sweep (inventory only, as the
// expiry-check function wires it) against SWEEP_SLB_ENDPOINT and prints one
// JSON object with its duration, calls and memory figures. The benchmarks
// run it as a child process so that its peak RSS is its own.
//
// Environment: SWEEP_SLB_ENDPOINT, SWEEP_REGIONS (comma separated),
// SWEEP_CONCURRENCY (default 16, as s.yaml's CONCURRENCY), and the
// ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET pair. The adapter runs with its
// defaults (pacer and retry policy), as in the function.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/aliyun"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
)

// output is what the driver prints.
type output struct {
	ElapsedMS    int64          `json:"elapsed_ms"`
	Listeners    int            `json:"listeners"`
	Targets      int            `json:"targets"`
	Errors       int            `json:"errors"`
	FirstError   string         `json:"first_error,omitempty"`
	Calls        map[string]int `json:"calls"`
	VmHWMKB      int64          `json:"vm_hwm_kb"`
	HeapSysBytes uint64         `json:"heap_sys_bytes"`
	SysBytes     uint64         `json:"sys_bytes"`
	TotalAlloc   uint64         `json:"total_alloc_bytes"`
	NumGC        uint32         `json:"num_gc"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sweepdriver:", err)
		os.Exit(1)
	}
}

func run() error {
	creds, err := aliyun.CredentialsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	conc := 16
	if v := os.Getenv("SWEEP_CONCURRENCY"); v != "" {
		if conc, err = strconv.Atoi(v); err != nil {
			return fmt.Errorf("SWEEP_CONCURRENCY: %w", err)
		}
	}
	s := &expiry.Sweeper{
		Inventory:   aliyun.NewSLB(creds, aliyun.SLBOptions{Endpoint: os.Getenv("SWEEP_SLB_ENDPOINT")}),
		Concurrency: conc,
	}
	regions := strings.Split(os.Getenv("SWEEP_REGIONS"), ",")
	start := time.Now()
	rep, err := s.Sweep(context.Background(), start, expiry.Request{Regions: regions})
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := output{
		ElapsedMS: elapsed.Milliseconds(), Listeners: rep.Listeners, Targets: rep.Targets,
		Errors: len(rep.Errors), Calls: rep.Calls, VmHWMKB: vmHWM(),
		HeapSysBytes: ms.HeapSys, SysBytes: ms.Sys, TotalAlloc: ms.TotalAlloc, NumGC: ms.NumGC,
	}
	if len(rep.Errors) > 0 {
		out.FirstError = rep.Errors[0].Error
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// vmHWM reads the peak resident set size (kB) from /proc/self/status; 0
// where there is no procfs.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
