package oss

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"hash/crc64"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Account is a credential the server accepts. A non-empty SecurityToken
// makes it an STS credential: requests must then carry the same token in
// x-oss-security-token.
type Account struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Fault is what the fault injector decided for one request.
type Fault struct {
	Delay       time.Duration
	Throttle    bool
	ServerError bool
	Timeout     bool
	Reset       bool
	// Status is the 5xx status for ServerError (500 or 503; 0 = 500).
	Status int
}

// Options configure a Server.
type Options struct {
	// Accounts are the accepted credentials.
	Accounts []Account
	// Faults, when set, is consulted once per request with the action name
	// ("oss:PutObject", "oss:GetObject", ...).
	Faults func(action string) Fault
	// FaultsAfter, when set, is consulted once a write (PUT, POST or DELETE)
	// has taken effect and succeeded; a Fault with ServerError, Timeout or
	// Reset replaces its answer (the state change stays): "applied, then the
	// answer was lost". Delay and Throttle are ignored here.
	FaultsAfter func(action string) Fault
	// Now is the server clock (default time.Now).
	Now func() time.Time
	// DefaultRegion is the region of buckets created through the API
	// without a location (default cn-zhangjiakou).
	DefaultRegion string
	// OwnerID is the account id reported as bucket owner (default
	// 1234567890123456).
	OwnerID string
}

// ObjectEvent describes one completed write, as OSS event notifications
// report it.
type ObjectEvent struct {
	// EventName without the "oss:" prefix, e.g. ObjectCreated:PutObject.
	EventName string
	Bucket    string
	Region    string
	Key       string
	Size      int64
	DeltaSize int64
	// ETag is the unquoted upper-case hex ETag.
	ETag        string
	ContentType string
	// RequestID is the x-oss-request-id of the triggering request.
	RequestID string
	Time      time.Time
	SourceIP  string
	OwnerID   string
	// versionID is the answer's x-oss-version-id (versioned buckets).
	versionID string
}

// RequestRecord is one entry of the request log.
type RequestRecord struct {
	Time        time.Time `json:"time"`
	Action      string    `json:"action"`
	Bucket      string    `json:"bucket,omitempty"`
	Key         string    `json:"key,omitempty"`
	Status      int       `json:"status"`
	Code        string    `json:"code,omitempty"`
	RequestID   string    `json:"requestId"`
	AccessKeyID string    `json:"accessKeyId,omitempty"`
}

type object struct {
	data         []byte
	etag         string // upper-case hex, unquoted
	crc          uint64
	contentType  string
	meta         map[string]string // lower-case header name -> value
	tags         [][2]string
	lastModified time.Time
}

type bucket struct {
	name    string
	region  string
	created time.Time
	objects map[string]*object
	// versioned: versioning enabled (or suspended). Only the current
	// version is kept; what matters here is what OSS does to writes:
	// x-oss-forbid-overwrite is ignored and answers carry x-oss-version-id.
	versioned bool
	versions  uint64
}

// Server is the OSS emulator. It is safe for concurrent use.
type Server struct {
	accounts      map[string]Account
	faults        func(string) Fault
	faultsAfter   func(string) Fault
	now           func() time.Time
	defaultRegion string
	ownerID       string
	closing       chan struct{}
	closeOnce     sync.Once

	mu      sync.Mutex
	buckets map[string]*bucket
	hooks   []func(ObjectEvent)
	log     []RequestRecord
	seq     uint64
}

var crcTable = crc64.MakeTable(crc64.ECMA)

// maxRequestLog bounds the request log; when full, the older half is
// dropped.
const maxRequestLog = 100000

// New returns a Server with no buckets.
func New(opts Options) *Server {
	s := &Server{
		accounts:      map[string]Account{},
		faults:        opts.Faults,
		faultsAfter:   opts.FaultsAfter,
		now:           opts.Now,
		defaultRegion: opts.DefaultRegion,
		ownerID:       opts.OwnerID,
		buckets:       map[string]*bucket{},
		closing:       make(chan struct{}),
	}
	for _, a := range opts.Accounts {
		s.accounts[a.AccessKeyID] = a
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.defaultRegion == "" {
		s.defaultRegion = "cn-zhangjiakou"
	}
	if s.ownerID == "" {
		s.ownerID = "1234567890123456"
	}
	return s
}

// Close releases requests held by an injected timeout.
func (s *Server) Close() { s.closeOnce.Do(func() { close(s.closing) }) }

// CreateBucket creates a bucket in region (no error if it exists).
func (s *Server) CreateBucket(name, region string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; ok {
		return
	}
	if region == "" {
		region = s.defaultRegion
	}
	s.buckets[name] = &bucket{name: name, region: region, created: s.now().UTC(), objects: map[string]*object{}}
}

// OnWrite registers a hook called after every successful object write or
// delete. Hooks run synchronously on the request goroutine after the
// response state is committed; they must not block for long.
func (s *Server) OnWrite(f func(ObjectEvent)) {
	s.mu.Lock()
	s.hooks = append(s.hooks, f)
	s.mu.Unlock()
}

// PutObject stores data directly (no HTTP, no auth) and fires the write
// hooks with ObjectCreated:PutObject. The bucket must exist.
func (s *Server) PutObject(bucketName, key string, data []byte) error {
	ev, err := s.store(bucketName, key, data, "", nil, nil, s.newRequestID(), "127.0.0.1", false)
	if err != nil {
		return err
	}
	s.fire(ev)
	return nil
}

// Object returns a copy of an object's content.
func (s *Server) Object(bucketName, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		return nil, false
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, false
	}
	return bytes.Clone(o.data), true
}

func (s *Server) bucketRegion(name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[name]
	if !ok {
		return "", false
	}
	return b.region, true
}

// ObjectDump is an object in Dump.
type ObjectDump struct {
	Key          string            `json:"key"`
	Size         int               `json:"size"`
	ETag         string            `json:"eTag"`
	CRC64        string            `json:"crc64"`
	ContentType  string            `json:"contentType"`
	LastModified time.Time         `json:"lastModified"`
	Meta         map[string]string `json:"meta,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
}

// BucketDump is a bucket in Dump.
type BucketDump struct {
	Name    string       `json:"name"`
	Region  string       `json:"region"`
	Objects []ObjectDump `json:"objects"`
}

// Dump returns the state (object metadata, not content), sorted.
func (s *Server) Dump() []BucketDump {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []BucketDump{}
	for _, b := range s.buckets {
		bd := BucketDump{Name: b.name, Region: b.region, Objects: []ObjectDump{}}
		for k, o := range b.objects {
			od := ObjectDump{Key: k, Size: len(o.data), ETag: o.etag, CRC64: strconv.FormatUint(o.crc, 10),
				ContentType: o.contentType, LastModified: o.lastModified}
			if len(o.meta) > 0 {
				od.Meta = map[string]string{}
				for mk, mv := range o.meta {
					od.Meta[mk] = mv
				}
			}
			if len(o.tags) > 0 {
				od.Tags = map[string]string{}
				for _, t := range o.tags {
					od.Tags[t[0]] = t[1]
				}
			}
			bd.Objects = append(bd.Objects, od)
		}
		sort.Slice(bd.Objects, func(i, j int) bool { return bd.Objects[i].Key < bd.Objects[j].Key })
		out = append(out, bd)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestRecord(nil), s.log...)
}

func (s *Server) newRequestID() string {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	return fmt.Sprintf("%08X%016X", uint32(s.now().Unix()), n)
}

func (s *Server) fire(ev ObjectEvent) {
	s.mu.Lock()
	hooks := append([]func(ObjectEvent){}, s.hooks...)
	s.mu.Unlock()
	for _, h := range hooks {
		h(ev)
	}
}

// store writes an object and returns the event to fire.
func (s *Server) store(bucketName, key string, data []byte, contentType string, meta map[string]string, tags [][2]string, reqID, ip string, forbidOverwrite bool) (ObjectEvent, error) {
	sum := md5.Sum(data)
	o := &object{
		data:         data,
		etag:         strings.ToUpper(hex.EncodeToString(sum[:])),
		crc:          crc64.Checksum(data, crcTable),
		contentType:  contentType,
		meta:         meta,
		tags:         tags,
		lastModified: s.now().UTC().Truncate(time.Second),
	}
	if o.contentType == "" {
		o.contentType = "application/octet-stream"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		return ObjectEvent{}, errNoSuchBucket
	}
	var delta = int64(len(data))
	if old, ok := b.objects[key]; ok {
		if forbidOverwrite && !b.versioned {
			return ObjectEvent{}, errExists
		}
		delta -= int64(len(old.data))
	}
	b.objects[key] = o
	version := ""
	if b.versioned {
		b.versions++
		version = fmt.Sprintf("CAEQ%016d", b.versions)
	}
	return ObjectEvent{EventName: "ObjectCreated:PutObject", Bucket: bucketName, Region: b.region, Key: key,
		Size: int64(len(data)), DeltaSize: delta, ETag: o.etag, ContentType: o.contentType, RequestID: reqID,
		Time: s.now().UTC(), SourceIP: ip, OwnerID: s.ownerID, versionID: version}, nil
}
