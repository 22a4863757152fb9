package expiry

import (
	"context"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// Objects reads and writes the bucket's reports (the OSS adapter satisfies it).
// Get must report a missing object with an error that Is apierr.ErrNotFound.
type Objects interface {
	Get(ctx context.Context, bucket, key string, maxSize int64) ([]byte, error)
	Put(ctx context.Context, bucket, key string, data []byte, contentType string) error
}

// Candidate is a valid pair stored in the bucket, as auto-rotation sees it.
type Candidate struct {
	// Name is the pair's name (certs/<name>/...).
	Name string
	// Domains are the DNS names of the pair's leaf.
	Domains []string
	// NotAfter is the leaf's expiry.
	NotAfter time.Time
	// Fingerprint is the leaf's SHA-1 (any case, with or without colons).
	Fingerprint string
	// Targets are the places the pair's deploy.yaml names: pinned to this
	// pair (no other pair replaces their certificate).
	Targets []clb.Target
	// ExplicitOnly is true when deploy.yaml turns discovery off: the pair
	// replaces certificates only at its Targets.
	ExplicitOnly bool
}

// Pairs lists the valid pairs in the bucket (invalid or incomplete pairs
// are left out, not reported as errors).
type Pairs interface {
	Candidates(ctx context.Context, now time.Time) ([]Candidate, error)
}

// RotationOutcome is what a rotation by pair name reported.
type RotationOutcome struct {
	// Status is the rotation's own status (outcome.Rotated, Unchanged,
	// Partial, Rejected, Failed, ...).
	Status outcome.Status
	// Detail is a one-line human summary.
	Detail string
	// OK is true when every target now serves the pair.
	OK bool
}

// Rotator runs the rotation of one pair by name: the same code, the same
// verification, rollback and lock as the OSS upload path. Its discovery
// leaves the pinned places (other pairs' deploy.yaml targets) alone and
// starts from the sweep's snapshots (rotation.Request.Snapshots), which it
// updates with the places it switched (rotation.Snapshots.Record).
type Rotator interface {
	RotateName(ctx context.Context, now time.Time, name string, pinned []clb.Target, snaps rotation.Snapshots) (RotationOutcome, error)
}

// ProbeResult, Prober and ProbeFunc are the rotation's own (the sweep and
// an auto-rotation verify with the same prober): ProbeResult is what a TLS
// handshake saw; a Prober performs one (without verifying the chain) and
// reports the served leaf; ProbeFunc adapts a function to Prober.
type (
	ProbeResult = rotation.ProbeResult
	Prober      = rotation.Prober
	ProbeFunc   = rotation.ProbeFunc
)

// CertStore is the certificate store ALB and NLB listeners reference
// (CAS), in the inventory's terms; albnlb.Store over *aliyun.CAS
// satisfies it.
type CertStore interface {
	// Certificates lists the store of region's store region (region may be
	// a load balancer's region or a store region), with each certificate's
	// expiry, domains, SHA-1 and name: ID is the identity listeners
	// reference, Region the store region, the owner tag set on ours.
	Certificates(ctx context.Context, region string) ([]clb.ServerCertificate, error)
	// StoreKey names the store region's certificates live in: regions with
	// the same key share one listing.
	StoreKey(region string) string
	// IdentityRegion is the store region a listener's certificate identity
	// names; false when id is no identity of the store.
	IdentityRegion(id string) (region string, ok bool)
}
