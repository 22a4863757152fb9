// Package rotation is the certificate rotation use case: given a PEM pair
// stored in OSS under CERT_PREFIX, it validates the pair, plans where it must
// be served (deploy.yaml targets and discovery across regions), uploads it
// once per region, switches every target with bounded concurrency, verifies
// the switch through the API and a TLS handshake, rolls back a target that
// serves something else, and cleans up superseded certificates it created.
//
// API summary (what the functions and the other use cases call):
//
//	r := &rotation.Rotator{Config: cfg, Objects: objs, SLB: slb, Prober: p}
//	res, err := r.Rotate(ctx, now, rotation.Request{Bucket: b, Key: key})   // OSS event
//	res, err := r.RotateName(ctx, now, bucket, "www")                     // by pair name
//	pairs, err := rotation.ListPairs(ctx, objs, bucket, "certs/")         // pairs stored in the bucket
//	b, err := rotation.LoadPair(ctx, objs, bucket, "certs/", "www", now, certs.Options{MinValidDays: 7})
//	ref, ok := rotation.ParseKey("certs/", "certs/www/fullchain.pem")     // which pair an object key belongs to
//
// The dependencies are small interfaces defined here (ObjectReader, SLB
// with its parts CertificateStore, ListenerInventory, CertificateSwitcher,
// and Prober). *aliyun.SLB satisfies SLB directly; *aliyun.OSS is adapted
// with AdaptObjects(oss, func(o aliyun.ObjectInfo) string { return o.Key });
// tlsprobe.Probe is adapted with a ProbeFunc.
//
// Errors: permanent problems (invalid pair, unknown target, certificate
// quota) end with Result.Status "rejected" and a nil error; a missing half or
// a key that does not match the certificate yet ends with "waiting"; transient
// failures (apierr.ErrTransient, context deadline) are returned as errors so
// that Function Compute retries the invocation.
//
// Idempotency: a rotation of one pair is serialised inside the process (one
// lock per bucket and name), so two events for the same pair handled by the
// same instance end with exactly one upload. Across instances, after an
// upload the region's certificates are listed again; when two certificates
// with the same fingerprint exist, every invocation converges on the one with
// the lowest id (ordered by length, then lexically) and deletes its own
// duplicate while it is still unreferenced, so the end state holds one
// certificate per fingerprint and region.
package rotation
