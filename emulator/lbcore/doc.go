// Package lbcore is the load-balancer side that the ALB and NLB emulators
// share: the RPC front and the action dispatch under one lock, the region
// check, instances with their loopback addresses and DNS names, listeners
// with their live TLS frontends, the asynchronous writes of certificates
// (default and additional, each a job that keeps the listener Configuring),
// the per-instance quota, paging, seeding and the state dump.
//
// What differs between the products stays in emulator/alb and emulator/nlb
// and reaches the core through a Product: action names and the request
// table, protocols, quotas, request and response field names, error codes,
// the views of instances and listeners, the job status API (ALB
// ListAsynJobs, NLB GetJobStatus) and NLB's success envelope. The
// certificate state machine underneath (association states, jobs, TLS
// selection by SNI) is emulator/lbcert.
package lbcore
