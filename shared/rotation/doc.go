// Package rotation is the certificate rotation use case: given a PEM pair
// stored in OSS under CERT_PREFIX (read with package pairs, the bucket's
// pair layout and deploy.yaml), it validates the pair, plans where it must
// be served (deploy.yaml targets and discovery across regions), uploads it
// once per region (in every region with a target before any switch),
// switches each target as soon as its own facts are known while discovery
// goes on (pipeline.go), verifies the switch through the API and a TLS
// handshake, rolls back a target that serves something else, and cleans up
// superseded certificates it created.
//
// API summary (what the functions and the other use cases call):
//
//	r := &rotation.Rotator{Config: cfg, Objects: objs, SLB: slb, Prober: p, Locks: lease.Adapt(oss, info)}
//	res, err := r.Rotate(ctx, now, rotation.Request{Bucket: b, Key: key, Owner: lease.NewOwner(reqID)}) // OSS event
//	res, err := r.RotateName(ctx, now, bucket, "www")                     // by pair name
//
// Listing, naming and loading pairs is package pairs (pairs.List,
// pairs.Load, pairs.ParseKey); the Rotator reads through it.
//
// The dependencies are small interfaces: the bucket is pairs.ObjectReader;
// SLB with its parts CertificateStore, ListenerInventory,
// CertificateSwitcher, and Prober are defined here; the lock's is
// lease.Store. *aliyun.SLB satisfies SLB and *aliyun.OSS satisfies
// pairs.ObjectReader directly; *aliyun.OSS is adapted with aliyun.LockStore
// for the lock; tlsprobe.Probe is adapted with a ProbeFunc.
//
// Errors: permanent problems (invalid pair, unknown target, certificate
// quota) end with Result.Status "rejected" and a nil error; a missing half or
// a key that does not match the certificate yet ends with "waiting"; transient
// failures (apierr.ErrTransient, context deadline) are returned as errors so
// that Function Compute retries the invocation.
//
// Idempotency: a rotation of one pair is serialised inside the process (one
// lock per bucket and name) and, when Rotator.Locks is set, across Function
// Compute instances by the fenced lease of package lease (generation objects
// under <Lock.Prefix><name>/, default locks/, outside the trigger's filter;
// see its package doc for why it never has two holders). The pair is first
// loaded and validated without the lock (a "waiting" or "rejected" pair takes
// none; dry runs take none); once the lock is held the pair and deploy.yaml
// are read again and only what is read then is planned and applied, so a
// rotation never applies files read before another instance rotated a newer
// pair and released. The lock is held through planning, upload, switch,
// verification and cleanup, and released before returning. An invocation
// that had to wait finds the certificate uploaded and the targets switched:
// exactly one upload per fingerprint and region.
//
// Inventory: planning and cleanup's reference check read a lane (product,
// region) through package inventory's Collector over the port's read side
// (inventory.Reader, embedded in TargetPort): certificates and load
// balancers, listeners in the port's ReadBatch, SNI per listener, each
// answer handed to the pipeline as it arrives (discover.go). A caller that
// already holds a complete snapshot of a lane (the expiry sweep) passes it
// in Request.Snapshots: discovery then takes the load balancers from it and
// lists again, under the lock, only the certificates, the listeners of the
// load balancers it shows holding a place that may be the pair's, and the
// SNI of those listeners and of every listener whose default qualifies now.
// Every target is decided on those fresh reads, so "decide under the lock"
// and "never rotate backwards" hold as with full discovery; what the
// snapshot shows elsewhere only adds references for cleanup (a delete the
// service refuses is Kept). A place that began serving the pair's domains
// after the snapshot is left to the next sweep or upload. See Snapshots.
//
// Backstop: should two uploads still happen (a lock store without the
// forbid-overwrite guarantee, a versioned bucket, a holder that overran its
// lease, clocks skewed by more than lease.Options.Skew), the
// region's certificates are listed after an upload; when two certificates
// with the same fingerprint exist, every invocation converges on the one with
// the lowest id (ordered by length, then lexically) and deletes its own
// duplicate while it is still unreferenced, so the end state holds one
// certificate per fingerprint and region.
package rotation
