// Package alb emulates the Application Load Balancer RPC API (Alb
// 2020-06-16) as far as certificate rotation needs it, behind the shared
// emulator/rpc front (signature, STS, faults, request log): CreateLoadBalancer,
// ListLoadBalancers, CreateListener, ListListeners, GetListenerAttribute,
// UpdateListenerAttribute, AssociateAdditionalCertificatesWithListener,
// DissociateAdditionalCertificatesFromListener, ListListenerCertificates and
// ListAsynJobs. Answers decode into the v1 SDK's services/alb structs.
//
// Model (shared with NLB through emulator/lbcore and emulator/lbcert):
//   - Certificates live in CAS (emulator/cas) and are referenced as
//     "<CertId>-<casRegion>"; HTTPS and QUIC listeners carry them.
//   - Every write on a listener (create, UpdateListenerAttribute, associate,
//     dissociate) returns a JobId and leaves the listener Configuring for
//     Options.ConfiguringDuration (default 2 s; localcloud -lb-configuring);
//     a write in that time is refused with IncorrectStatus.Listener. A new
//     default certificate takes effect, an Associating certificate becomes
//     Associated and a Dissociating one disappears only when the job is due;
//     a job that faults.JobFaults fails ends Failed and is rolled back.
//   - Additional certificates per instance, across its listeners: Basic 10,
//     Standard and StandardWithWaf 25 (Options.Quotas).
//   - Every HTTPS listener serves TLS on its instance's own loopback address
//     (the instance's DNS name, <id>.<region>.alb.aliyuncs.com, resolves to
//     it through the local cloud's DNS), the certificates in effect,
//     additional ones chosen by SNI (exact name, then wildcard), from
//     creation; QUIC and HTTP listeners open none.
//   - Lists page with NextToken/MaxResults (default 20, at most 100).
//   - Not modelled: ClientToken idempotency, server groups and forwarding
//     rules (DefaultActions are accepted and ignored), deleting instances
//     or listeners.
//
// Error codes chosen where the documentation is silent:
// ResourceNotAssociated.Certificate (a bare numeric CertId; peers report it),
// ResourceNotFound.Certificate (no such CAS certificate in that region),
// ResourceAlreadyAssociated.Certificate, ResourceNotAssociated.AdditionalCertificate
// (dissociating one that is not Associated), QuotaExceeded.LoadBalancerCertificatesNum,
// ResourceNotFound.LoadBalancer, ResourceNotFound.Listener,
// ResourceAlreadyExist.Listener, InvalidParameter.NextToken, DryRunOperation,
// and Job.Failed as a failed job's ErrorCode.
package alb
