// Package lease is the cross-instance lock of slb-cert-rotator: a fenced
// lease kept in an OSS bucket, using only what OSS offers (PutObject with
// x-oss-forbid-overwrite, GetObject, ListObjects, DeleteObject; no
// conditional delete, no compare-and-swap).
//
//	lk, err := lease.Acquire(ctx, aliyun.LockStore(oss), bucket, "www", lease.NewOwner(requestID), lease.Options{})
//	if err != nil { ... }             // errors.Is(err, lease.ErrLocked): held elsewhere, transient
//	defer lk.Release(ctx)
//	if !lk.Held(time.Now()) { ... }   // past the deadline: stop writing
//
// # Protocol
//
// Lock name lives in the folder <Prefix><name>/ as a chain of generation
// objects g<20 digits> (zero-padded, so key order is number order), each
// holding a Lease {owner, generation, acquired, expires}, and release markers
// g<N>.released. To acquire, a contender lists the folder; with N the highest
// generation, it may contend for N+1 only when N is released (its marker is
// listed) or expired by its own clock (now >= N's Expires, or, for an object
// that is not a lease or is over MaxSize, now >= its LastModified plus
// MalformedAfter). It creates g<N+1> with forbid-overwrite, then lists again
// and holds the lock only if N+1 is still the highest generation. Release
// writes g<N>.released and deletes the generations below N. Nothing ever
// deletes the highest generation, nor any object of a holder.
//
// # Holder
//
// A contender holds generation N from the moment Acquire returns it until
// the earlier of its call of Release and the moment its own clock reaches
// Lock.Deadline (its invocation's deadline; Expires = Deadline + Skew). It
// writes only while Held. Safety needs two timing assumptions, no more: a
// contender's clock runs at most Skew ahead of a holder's (then "expired" by
// the contender's clock implies past the deadline by the holder's), and a
// holder's writes take effect before its deadline (FC stops an instance at
// its timeout; each SLB call has a read timeout well under Skew).
//
// # Why there are never two holders
//
//  1. The highest generation never decreases: a generation is deleted only
//     by a releaser that listed a higher one.
//  2. So generation N+1 is created exactly once as "the new highest", while
//     N is the highest, and forbid-overwrite lets only one put create it. A
//     put that lands late on a collected lower generation creates an object
//     that is not the highest, and its author's confirming listing sees the
//     higher one: it never holds. Hence each generation has at most one
//     holder, its rightful creator.
//  3. The rightful creator of N+1 read N as released or expired before its
//     put. Both facts only ever stay true (a marker is never removed while
//     N is the highest; an expiry never un-expires; a generation object is
//     never rewritten), however long the put is delayed. Released means N's
//     holder called Release; expired means N's holder passed its deadline by
//     assumption 1. Either way N's holder stopped holding before N+1 began,
//     and by induction every lower holder stopped earlier.
//
// Lost answers are safe by the same argument: a create whose answer was
// lost is found on the next listing as the highest generation carrying
// this owner's lease, and held only after the same put is refused (the
// object exists) and a new listing confirms it; a create that was never
// applied is simply tried again. Expiry never requires deleting anything.
//
// # Versioned buckets
//
// OSS ignores x-oss-forbid-overwrite when the bucket's versioning is enabled
// or suspended: every put succeeds and its answer carries x-oss-version-id.
// The store must then fail the put (aliyun's PutIfAbsent does, with a
// permanent error naming the bucket); Acquire never holds on such a bucket,
// since both of its ways to hold (a create, or a check put refused) need a
// put that did not overwrite. The model test shows two holders on a
// versioned bucket without that refusal and none with it.
//
// # Proof by model
//
// model_test.go plays thousands of seeded interleavings of 2 to 5
// contenders against an in-memory OSS on a simulated clock: every call
// delayed in both directions (sometimes by more than a lease), answers lost
// before the write applied, after it applied, or with the write landing
// after the client gave up; clocks apart by up to the skew; holders that
// stall past their deadline or crash without releasing; malformed and
// oversized top generations. It asserts no two holdings overlap, and finds
// overlaps in the design this package replaced (one lock object whose
// expired lease was read, then deleted unconditionally). LEASE_MODEL_SEEDS
// sets the number of interleavings (default 2000 per design).
package lease
