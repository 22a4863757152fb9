// Package bench measures slb-cert-rotator against its lower bounds on the
// local cloud (issue 6): rotation latency with 20 ms added to every API call,
// fan-out to 50 listeners under a 20 QPS per-action limit, the expiry sweep
// of a large inventory (time, calls, peak RSS of the sweeping process), cold
// start and zip size of each built function, and API calls per rotation
// compared with a naive script. Every benchmark reports the measured value,
// its lower bound and their ratio with b.ReportMetric on the same run.
//
//	make bench                       # go test -run '^$' -bench . -benchmem ./bench/...
//	BENCH_SWEEP_LBS=200 make bench   # the headline sweep size (10 x 200 x 5)
//
// The non-test code is the arithmetic of the bounds (critical path from a
// request log, minimal page counts, QPS bounds), unit-tested here.
package bench
