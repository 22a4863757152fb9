// Package cas emulates the Certificate Management Service RPC API
// (cas 2020-04-07) as far as certificate rotation needs it:
// UploadUserCertificate, DeleteUserCertificate, GetUserCertificateDetail and
// ListUserCertificateOrder, behind the shared emulator/rpc front (signature,
// STS, faults, request log). Answers decode into the v1 SDK's
// services/cas structs.
//
// Model:
//   - Two stores: every cn-* request region lands in cn-hangzhou (the China
//     site, cas.aliyuncs.com), every other in ap-southeast-1 (the
//     international site). A certificate's identity as ALB and NLB reference
//     it is "<CertId>-<storeRegion>", e.g. "24664588-cn-hangzhou", whatever
//     the load balancer's region; Resolve refuses a bare CertId.
//   - Name is required, at most 63 characters and unique per store; the same
//     content under another name is a second certificate (no dedupe).
//   - ListUserCertificateOrder lists uploads only with OrderType UPLOAD or
//     CERT (the default CPACK lists purchases, of which there are none), by
//     pages (CurrentPage from 1, ShowSize default 50, at most 100); Status
//     ISSUED, WILLEXPIRED (30 days) or EXPIRED; Keyword matches name, common
//     name and SANs.
//   - DeleteUserCertificate is refused while an ALB or NLB listener uses the
//     certificate (as default or additional certificate, including a pending
//     change).
//
// Error codes chosen where the documentation names none: NameRepeat (a
// reused name; the message is the service's "The certificate name already
// exists."), CertificateNotFound (unknown CertId), CertificateInUse (delete
// while referenced), InvalidParameter for bad PEM, a key that does not
// match, an over-long name or an SM2 upload.
package cas
