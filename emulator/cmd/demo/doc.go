// Command demo runs the whole slb-cert-rotator story offline against the
// in-process local cloud, printing one titled block per step with the API
// results, and exits non-zero on the first failure:
//
//  1. start the local cloud and deploy the three functions from s.yaml
//     (the binaries `make build` wrote under dist/);
//  2. provision the seed's setup through the provision function
//     (events/provision.json);
//  3. TLS handshake to the HTTPS listener: certificate A is served;
//  4. drop certificate B's pair into the bucket (OSS PutObject through the
//     real OSS SDK): the OSS trigger runs rotate-on-upload;
//  5. the handshake now serves B and A is gone (DescribeServerCertificates);
//  6. fire the expiry-check timer and show its report;
//  7. destroy the setup and stop everything.
//
// Run it with `make demo` (which builds first) from the repository root.
package main
