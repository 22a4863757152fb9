// Package expiry is the scheduled expiry sweep: it inventories every HTTPS
// listener (default certificate and SNI domain extensions) of the
// configured regions, classifies each served certificate by the days it has
// left, optionally (autoRotate) converges the fleet on the bucket, whether
// or not a certificate is near expiry: every place serving an older
// certificate than a valid pair covering its domains is rotated to the
// latest such pair (a place named in a pair's deploy.yaml only to that
// pair), through the same rotation code and lock as an OSS upload, so a
// lost upload event is healed by the next run; optionally
// probes every listener to detect drift between what the API says and what
// is served, notifies once per threshold crossed, and writes
// reports/<yyyy-mm-dd>.json to the bucket.
//
// Collect first, then act: the inventory of all regions and the probes are
// gathered before anything is rotated, notified or written, and one failing
// region, listener page or listener is recorded in Report.Errors while the
// rest continue. Probes only read, so they are part of collecting: each
// target is probed as soon as its load balancer's address and its listener
// (for SNI, its domain extension) are known, by ProbeConcurrency workers
// separate from the inventory's Concurrency, so a sweep takes about
// max(inventory, probes) rather than their sum. Targets are queued per
// address, one worker per address at a time: once a port of an address
// times out, its other targets are reported unreachable without a dial.
// No handshake starts later than one ProbeTimeout before the working
// deadline; the rest are counted in ProbeCounts.OutOfTime with one Problem
// (stage "probe"), never as reachable or unreachable, and the sweep still
// notifies and writes its report on the reserved tail of the deadline.
//
// API calls per region (the fewest the API allows, measured by
// TestInventoryCallCount):
//
//	DescribeServerCertificates       1
//	DescribeLoadBalancers            ceil(LBs / 100)
//	DescribeLoadBalancerListeners    Σ over groups of 10 LBs of max(1, ceil(listeners in group / 100))
//	DescribeDomainExtensions         1 per HTTPS listener (the listener list does not carry them)
//
// For 10 regions × 200 LBs × 5 HTTPS listeners that is 10 + 20 + 200 +
// 10,000 calls: the domain extensions dominate. They run with bounded
// concurrency (Sweeper.Concurrency) and the adapters' throttling backoff.
//
// Every product's inventory is package inventory's: one Collector per sweep
// over Sweeper.Inventory (CLB) and Sweeper.ALB, Sweeper.NLB (the albnlb
// ports, each listener read once), counting ALB and NLB under their
// product's prefix; the CAS listings (one per CAS region) are counted with
// them under a bound of their own. Auto-rotation does not inventory a
// region again: each rotation gets the sweep's complete snapshots of every
// product
// (rotation.Request.Snapshots), re-reads under its lock only the load
// balancers and listeners that may hold its places, and the snapshots
// record what it switched before the next pair runs.
package expiry
