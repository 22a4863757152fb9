// Package provisioning is the declarative apply / plan / destroy use case
// behind the provision function: one Classic Load Balancer with its backend
// servers, HTTPS listeners, SNI domain extensions and server certificates,
// described by a JSON payload and converged idempotently.
//
// # Payload
//
//	{
//	  "action": "apply",                      // apply (default) | plan | destroy
//	  "region": "cn-zhangjiakou",
//	  "loadBalancer": {
//	    "name": "SLB1",                       // identity: name + tag managed-by=slb-cert-rotator
//	    "masterZoneId": "cn-zhangjiakou-a",   // zones must belong to the region
//	    "slaveZoneId": "cn-zhangjiakou-b",
//	    "payType": "PayOnDemand",             // default PayOnDemand
//	    "spec": "slb.s1.small",               // slb.s1.small … slb.s3.large
//	    "addressType": "internet",            // internet (default) | intranet
//	    "bandwidth": 0                        // optional, 1..5120
//	  },
//	  "backends": [                           // at least one (apply, plan)
//	    {"serverId": "i-…", "weight": 100, "type": "ecs"}   // weight 0..100 (default 100)
//	  ],
//	  "listeners": [
//	    {
//	      "frontendPort": 80, "backendPort": 443,           // 1..65535, front ports unique
//	      "protocol": "https",                              // https only (default)
//	      "bandwidth": 6,                                   // 1..5120 or -1 (unlimited)
//	      "healthCheck": "off",                             // on | off (default off)
//	      "stickySession": "off",                           // off (on is not supported yet)
//	      "certificate": "example.com",                     // pair certs/example.com/ in the bucket
//	      "domainExtensions": [{"domain": "api.example.com", "certificate": "api"}]
//	    }
//	  ]
//	}
//
// Parse decodes strictly and validates before any cloud call, reporting
// every problem at once by JSON path with a fix ("listeners[0].bandwidth:
// 6000 is out of range 1..5120 (or -1); fix: …"). Destroy needs only region
// and loadBalancer.name.
//
// # Behaviour
//
// Apply loads and validates every referenced pair first (through
// PairLoader: pairs.Load, the rotation's own loader), then finds the instance by name
// and ownership tag, creates what is missing (CreateLoadBalancer carries a
// ClientToken derived from the instance spec, so a retried invocation cannot
// create a second instance), updates what differs (backend weights, listener
// attributes, certificates, domain extensions), deletes backends, listeners
// and extensions not in the payload, uploads each pair once per region
// (reused by fingerprint, named <name>-<yyyymmdd>-<fp8>, tagged as ours),
// starts the listeners and waits until they run. An unchanged state makes no
// write call and yields status "unchanged". When a step fails, what this call
// created is deleted again in reverse order and listed in Result.RolledBack.
//
// Plan runs the same comparison with read calls only and lists the changes.
// Destroy deletes the HTTPS listeners, the instance and the certificates we
// created that it used; a certificate still used elsewhere, or not ours, is
// kept and reported.
//
// Permanent failures (payload, quota, invalid, conflict) give a result with
// status "rejected" and a nil error; transient ones give status "failed" and
// the error, so that Function Compute retries the invocation.
package provisioning
