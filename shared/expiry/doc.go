// Package expiry is the scheduled expiry sweep: it inventories every HTTPS
// listener (default certificate and SNI domain extensions) of the
// configured regions, classifies each served certificate by the days it has
// left, optionally rotates expiring ones from a newer pair already in the
// bucket (through the same rotation code as an OSS upload), optionally
// probes every listener to detect drift between what the API says and what
// is served, notifies once per threshold crossed, and writes
// reports/<yyyy-mm-dd>.json to the bucket.
//
// Collect first, then act: the inventory of all regions is gathered before
// anything is probed, rotated or notified, and one failing region, listener
// page or listener is recorded in Report.Errors while the rest continue.
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
package expiry
