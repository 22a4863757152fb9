// Package nlb emulates the Network Load Balancer RPC API (Nlb 2022-04-30)
// as far as certificate rotation needs it, behind the shared emulator/rpc
// front (signature, STS, faults, request log): CreateLoadBalancer,
// ListLoadBalancers, CreateListener, ListListeners, GetListenerAttribute,
// UpdateListenerAttribute (CertificateIds), AssociateAdditionalCertificatesWithListener,
// DisassociateAdditionalCertificatesWithListener (AdditionalCertificateIds),
// ListListenerCertificates and GetJobStatus. The v1 SDK sends the write
// parameters in the form body; answers carry NLB's Success/HttpStatusCode
// envelope and decode into the SDK's services/nlb structs.
//
// Model (shared with ALB through emulator/lbcore and emulator/lbcert):
//   - Certificates live in CAS and are referenced as "<CertId>-<casRegion>";
//     only TCPSSL listeners carry them (exactly one server certificate).
//   - Every listener write returns a JobId and leaves the listener
//     Configuring for Options.ConfiguringDuration (default 2 s); a write in
//     that time is refused with IncorrectStatus.Listener; the change takes
//     effect when the job is due, or is rolled back when faults.JobFaults
//     fails it (GetJobStatus: Processing, Succeeded, Failed).
//   - 25 additional certificates per instance, the default ones not counted
//     (Options.Quota).
//   - Listener ids are lsn-<20 characters>@<port>; instance DNS names are
//     <id>.<region>.nlb.aliyuncsslb.com, published in the local cloud's DNS.
//   - Every TCPSSL listener serves TLS on its instance's own loopback
//     address, the certificates in effect, additional ones by SNI.
//   - Not modelled: server groups (ServerGroupId is accepted), port ranges,
//     ClientToken idempotency, deletes.
//
// Error codes chosen where the documentation is silent: the lbcert codes
// (ResourceNotAssociated.Certificate for a bare CertId,
// ResourceNotFound.Certificate, ResourceAlreadyAssociated.Certificate,
// ResourceNotAssociated.AdditionalCertificate,
// QuotaExceeded.LoadBalancerCertificatesNum), ResourceNotFound.loadBalancer,
// ResourceNotFound.listener, ResourceNotFound.Job, Conflict.Port,
// InvalidParameter.NextToken and DryRunOperation.
package nlb
