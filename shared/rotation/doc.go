// Package rotation is the certificate rotation use case: given a PEM pair
// stored in OSS under CERT_PREFIX, it validates the pair, plans where it must
// be served (deploy.yaml targets and discovery across regions), uploads it
// once per region (in every region with a target before any switch),
// switches each target as soon as its own facts are known while discovery
// goes on (pipeline.go), verifies the switch through the API and a TLS
// handshake, rolls back a target that serves something else, and cleans up
// superseded certificates it created.
//
// API summary (what the functions and the other use cases call):
//
//	r := &rotation.Rotator{Config: cfg, Objects: objs, SLB: slb, Prober: p, Locks: oss}
//	res, err := r.Rotate(ctx, now, rotation.Request{Bucket: b, Key: key, Owner: rotation.NewOwner(reqID)}) // OSS event
//	res, err := r.RotateName(ctx, now, bucket, "www")                     // by pair name
//	pairs, err := rotation.ListPairs(ctx, objs, bucket, "certs/")         // pairs stored in the bucket
//	b, err := rotation.LoadPair(ctx, objs, bucket, "certs/", "www", now, certs.Options{MinValidDays: 7})
//	ref, ok := rotation.ParseKey("certs/", "certs/www/fullchain.pem")     // which pair an object key belongs to
//
// The dependencies are small interfaces defined here (ObjectReader, SLB
// with its parts CertificateStore, ListenerInventory, CertificateSwitcher,
// Prober, and LockStore). *aliyun.SLB satisfies SLB directly and *aliyun.OSS
// satisfies LockStore; for ObjectReader *aliyun.OSS is adapted with
// AdaptObjects(oss, func(o aliyun.ObjectInfo) string { return o.Key });
// tlsprobe.Probe is adapted with a ProbeFunc.
//
// Errors: permanent problems (invalid pair, unknown target, certificate
// quota) end with Result.Status "rejected" and a nil error; a missing half or
// a key that does not match the certificate yet ends with "waiting"; transient
// failures (apierr.ErrTransient, context deadline) are returned as errors so
// that Function Compute retries the invocation.
//
// Idempotency: a rotation of one pair is serialised inside the process (one
// lock per bucket and name) and, when Rotator.Locks is set, across Function
// Compute instances by a lease lock object in the certificate bucket
// (<LockOptions.Prefix><name>.lock, default locks/, outside the trigger's
// filter): AcquireLock creates it with PutIfAbsent (OSS PutObject with
// x-oss-forbid-overwrite), waits with backoff and jitter while another
// invocation holds an unexpired lease (bounded by the ctx deadline minus a
// margin, then ErrLocked, transient, so FC retries), and breaks a lease whose
// holder's deadline has passed. The lock is taken after the pair is loaded
// and validated (a "waiting" or "rejected" pair takes none; dry runs take
// none), held through planning, upload, switch, verification and cleanup, and
// released (deleted if still ours) before returning. An invocation that had
// to wait reads the pair again and finds the certificate uploaded and the
// targets switched: exactly one upload per fingerprint and region.
//
// Backstop: should two uploads still happen (a lock store without the
// forbid-overwrite guarantee, a versioned bucket, a holder that overran its
// lease, clocks skewed by more than LockOptions.Skew), the
// region's certificates are listed after an upload; when two certificates
// with the same fingerprint exist, every invocation converges on the one with
// the lowest id (ordered by length, then lexically) and deletes its own
// duplicate while it is still unreferenced, so the end state holds one
// certificate per fingerprint and region.
//
//	lk, err := rotation.AcquireLock(ctx, oss, bucket, rotation.LockKey("", "www"), rotation.NewOwner(requestID), rotation.LockOptions{})
//	defer lk.Release(ctx)
package rotation
