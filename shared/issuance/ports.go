package issuance

import (
	"context"
	"errors"
)

// Objects is what issuance needs from the certificate bucket. Get reports
// a missing object with an error that Is apierr.ErrNotFound. PutSecret and
// PutSecretIfAbsent write with server-side encryption
// (x-oss-server-side-encryption); PutSecretIfAbsent reports an existing
// object as created=false with a nil error; Delete of a missing object is
// nil.
type Objects interface {
	Get(ctx context.Context, bucket, key string, maxSize int64) ([]byte, error)
	ListKeys(ctx context.Context, bucket, prefix string) ([]string, error)
	Put(ctx context.Context, bucket, key string, data []byte, contentType string) error
	PutSecret(ctx context.Context, bucket, key string, data []byte, contentType string) error
	PutSecretIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string) (created bool, err error)
	Delete(ctx context.Context, bucket, key string) error
}

// Zone is a DNS zone the account hosts.
type Zone struct {
	Name        string
	Nameservers []string // host names of its authoritative servers
}

// Record is one DNS record.
type Record struct {
	ID, Zone, RR, Type, Value string
}

// DNS is the DNS provider's API (Alibaba Cloud DNS through shared/aliyun).
// AddRecord returns the id of the record with that value, creating it only
// when it is not there; DeleteRecord of a missing record returns nil.
type DNS interface {
	ListZones(ctx context.Context) ([]Zone, error)
	FindRecords(ctx context.Context, zone, rr, typ string) ([]Record, error)
	AddRecord(ctx context.Context, zone, rr, typ, value string, ttl int) (id string, err error)
	DeleteRecord(ctx context.Context, id string) error
}

// ErrBusy is what a Locker returns when another invocation holds the
// pair's lock.
var ErrBusy = errors.New("issuance: the pair is locked by another invocation")

// Locker takes a pair's cross-instance lock (the rotation's lease lock, so
// that issuing and rotating one pair never overlap). Lock returns ErrBusy
// (possibly wrapped) when another invocation holds it.
type Locker interface {
	Lock(ctx context.Context, name string) (unlock func(context.Context) error, err error)
}
