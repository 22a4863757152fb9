// Package slb emulates the Classic Load Balancer RPC API (SLB 2014-05-15)
// for the local cloud: the real alibaba-cloud-sdk-go talks to a *Server over
// loopback HTTP exactly as it talks to slb.aliyuncs.com. It checks the RPC
// signature (HMAC-SHA1, STS tokens, timestamp skew, nonce reuse), keeps state
// per region, enforces the documented rules (RSA/PKCS#1 certificates, key
// match, quotas, certificate references, listener states) with the service's
// error codes, and answers with bodies that decode into the SDK's own
// response structs.
//
// Every load balancer gets its own loopback address (127.0.0.x) and every
// running HTTPS listener really listens on Address:ListenerPort, serving the
// certificate the API currently says (domain extensions by SNI) and
// forwarding plain HTTP to a backend stand-in per ECS instance. Faults
// (latency, throttling, 5xx, timeouts, resets, QPS limits) come from a
// seeded faults.Injector.
package slb
