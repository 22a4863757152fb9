// Package rpc is the plumbing every RPC-style API of the local cloud shares
// (SLB 2014-05-15, ALB 2020-06-16, NLB 2022-04-30, CAS 2020-04-07): the
// signature check (HMAC-SHA1, STS tokens, timestamp skew, nonce reuse), the
// service's error bodies, the request log with secrets redacted, and the
// faults injected before an action (latency, throttling, 5xx, timeouts,
// resets, QPS limits). A product package supplies only its dispatcher.
//
// Query and body parameters are merged as the gateway does: the v1 SDK puts
// ALB and CAS parameters in the query string and NLB's write parameters in a
// form body, and signs both.
package rpc
