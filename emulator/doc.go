// Package emulator is the local cloud: it composes the SLB RPC API
// (emulator/slb, with its live TLS frontends), the ALB, NLB and CAS RPC APIs
// (emulator/alb, emulator/nlb, emulator/cas, with live TLS per ALB HTTPS and
// NLB TCPSSL listener), the OSS REST API (emulator/oss) and Function Compute
// (emulator/fcrt) behind loopback HTTP endpoints, a DNS server resolving the
// load balancers' names to their loopback addresses (emulator/dns), one
// seeded fault injector (emulator/faults) and the functions of the
// project's s.yaml deployed. Tests use it in-process; emulator/cmd/localcloud
// runs it as one process.
//
// # ALB, NLB and CAS: asynchronous timings
//
// Every ALB and NLB listener write (CreateListener, UpdateListenerAttribute,
// Associate/Dissociate/DisassociateAdditionalCertificates…) returns a JobId
// and leaves the listener Configuring for Options.LBConfiguring, default 2 s
// (alb.DefaultConfiguringDuration, nlb.DefaultConfiguringDuration;
// localcloud -lb-configuring; alb.Options/nlb.Options.ConfiguringDuration).
// During that time a write on the listener is refused with
// IncorrectStatus.Listener; an association is Associating, a dissociation
// Dissociating (still served); the live TLS frontend serves the old
// certificates until the job is due, then the new ones. Jobs settle lazily
// against Options.Now on every call and every handshake, so a fake clock
// controls them exactly. NLB's CreateLoadBalancer returns a job that only
// reports (the instance is Active at once); ALB's CreateLoadBalancer is
// synchronous. A job failed by JobFaults (POST /local/faults with
// jobFailRate or jobFailNext) ends Failed with ErrorCode Job.Failed and its
// change is rolled back (a failed CreateListener job leaves the listener
// in place: only changes to an existing listener are rolled back).
//
// # Error codes chosen where the documentation is silent
//
// ALB and NLB (emulator/lbcert): ResourceNotAssociated.Certificate (a bare
// numeric CertId, as peers report), ResourceNotFound.Certificate (no such
// CAS certificate in that region), ResourceAlreadyAssociated.Certificate,
// ResourceNotAssociated.AdditionalCertificate (dissociating one that is not
// Associated), QuotaExceeded.LoadBalancerCertificatesNum (ALB: Basic 10,
// Standard and StandardWithWaf 25 per instance; NLB: 25 per instance, the
// default certificate not counted), InvalidParameter.NextToken,
// DryRunOperation, Job.Failed (a failed job's ErrorCode). ALB:
// ResourceNotFound.LoadBalancer, ResourceNotFound.Listener,
// ResourceAlreadyExist.Listener. NLB: ResourceNotFound.loadBalancer,
// ResourceNotFound.listener, ResourceNotFound.Job, Conflict.Port.
// IncorrectStatus.Listener is documented (by peers' reports) for ALB and
// used for NLB as well.
//
// CAS (emulator/cas): NameRepeat for a reused name (the message is the
// service's "The certificate name already exists."), CertificateNotFound for
// an unknown CertId, CertificateInUse for DeleteUserCertificate while an ALB
// or NLB listener uses the certificate, InvalidParameter for bad PEM, a key
// that does not match, a name over 63 characters or an SM2 upload.
package emulator
