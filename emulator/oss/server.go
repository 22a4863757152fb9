package oss

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"hash/crc64"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/faults"
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

type sentinel string

func (e sentinel) Error() string { return string(e) }

const (
	errNoSuchBucket sentinel = "oss: no such bucket"
	errExists       sentinel = "oss: object exists"
)

// reqCtx carries per-request state through the handlers.
type reqCtx struct {
	w      http.ResponseWriter
	r      *http.Request
	q      url.Values
	id     string
	action string
	bucket string
	key    string
	ak     string
	status int
	code   string
}

func (c *reqCtx) header() http.Header { return c.w.Header() }

func (c *reqCtx) writeHeader(status int) {
	c.status = status
	c.w.WriteHeader(status)
}

type errXML struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
	Extra     []xmlKV
	EC        string `xml:"EC"`
}

type xmlKV struct {
	XMLName xml.Name
	Value   string `xml:",chardata"`
}

var ecCodes = map[string]string{
	"NoSuchKey":             "0026-00000001",
	"NoSuchBucket":          "0015-00000101",
	"AccessDenied":          "0003-00000001",
	"SignatureDoesNotMatch": "0002-00000040",
	"InvalidAccessKeyId":    "0002-00000901",
	"InvalidSecurityToken":  "0002-00000902",
	"RequestTimeTooSkewed":  "0002-00000504",
	"InvalidArgument":       "0017-00000804",
	"InvalidDigest":         "0016-00000201",
	"FileAlreadyExists":     "0016-00000708",
	"InvalidObjectName":     "0016-00000005",
	"InvalidRange":          "0026-00000002",
	"PreconditionFailed":    "0026-00000003",
	"MalformedXML":          "0031-00000001",
	"InvalidTag":            "0017-00000101",
	"InternalError":         "0000-00000001",
	"ServiceUnavailable":    "0000-00000002",
	"NotImplemented":        "0000-00000003",
	"InvalidBucketName":     "0015-00000001",
}

func (c *reqCtx) fail(status int, code, msg string, extra ...[2]string) {
	e := errXML{Code: code, Message: msg, RequestID: c.id, HostID: c.r.Host, EC: ecCodes[code]}
	if e.EC == "" {
		e.EC = "0000-00000000"
	}
	for _, kv := range extra {
		e.Extra = append(e.Extra, xmlKV{XMLName: xml.Name{Local: kv[0]}, Value: kv[1]})
	}
	body, _ := xml.Marshal(e)
	body = append([]byte(xml.Header), body...)
	h := c.header()
	h.Set("Content-Type", "application/xml")
	h.Set("x-oss-ec", e.EC)
	c.code = code
	if c.r.Method == http.MethodHead {
		h.Set("x-oss-err", base64.StdEncoding.EncodeToString(body))
		c.writeHeader(status)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.writeHeader(status)
	c.w.Write(body)
}

func (c *reqCtx) writeXML(status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		c.fail(http.StatusInternalServerError, "InternalError", "encode response: "+err.Error())
		return
	}
	body = append([]byte(xml.Header), body...)
	c.header().Set("Content-Type", "application/xml")
	c.header().Set("Content-Length", strconv.Itoa(len(body)))
	c.writeHeader(status)
	c.w.Write(body)
}

// route splits the request into bucket and key (path style, or virtual
// host style when the host's first label is a known bucket).
func (s *Server) route(r *http.Request) (bucketName, key string) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if net.ParseIP(host) == nil && strings.Contains(host, ".") {
		label := host[:strings.Index(host, ".")]
		if _, ok := s.bucketRegion(label); ok {
			return label, p
		}
	}
	bucketName, key, _ = strings.Cut(p, "/")
	return bucketName, key
}

func actionFor(method string, q url.Values, bucketName, key string, h http.Header) string {
	_, tagging := q["tagging"]
	switch {
	case bucketName == "":
		return "oss:ListBuckets"
	case key == "":
		switch method {
		case http.MethodPut:
			return "oss:PutBucket"
		case http.MethodGet:
			if _, ok := q["bucketInfo"]; ok {
				return "oss:GetBucketInfo"
			}
			if q.Get("list-type") == "2" {
				return "oss:ListObjectsV2"
			}
			return "oss:ListObjects"
		}
		return "oss:" + method + "Bucket"
	}
	switch method {
	case http.MethodPut:
		if tagging {
			return "oss:PutObjectTagging"
		}
		if h.Get("X-Oss-Copy-Source") != "" {
			return "oss:CopyObject"
		}
		return "oss:PutObject"
	case http.MethodGet:
		if tagging {
			return "oss:GetObjectTagging"
		}
		return "oss:GetObject"
	case http.MethodHead:
		if _, ok := q["objectMeta"]; ok {
			return "oss:GetObjectMeta"
		}
		return "oss:HeadObject"
	case http.MethodDelete:
		if tagging {
			return "oss:DeleteObjectTagging"
		}
		return "oss:DeleteObject"
	}
	return "oss:" + method + "Object"
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	bucketName, key := s.route(r)
	c := &reqCtx{w: w, r: r, q: q, id: s.newRequestID(), bucket: bucketName, key: key}
	c.action = actionFor(r.Method, q, bucketName, key, r.Header)
	h := w.Header()
	h.Set("x-oss-request-id", c.id)
	h.Set("Server", "AliyunOSS")
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	defer func() {
		s.mu.Lock()
		if len(s.log) >= maxRequestLog {
			s.log = append(s.log[:0], s.log[len(s.log)-maxRequestLog/2:]...)
		}
		s.log = append(s.log, RequestRecord{Time: s.now().UTC(), Action: c.action, Bucket: bucketName, Key: key,
			Status: c.status, Code: c.code, RequestID: c.id, AccessKeyID: c.ak})
		s.mu.Unlock()
	}()
	if err != nil {
		c.fail(http.StatusBadRequest, "InvalidArgument", "malformed query string")
		return
	}
	if s.faults != nil {
		if !s.applyFault(c, s.faults(c.action)) {
			return
		}
	}
	lost := s.holdAnswer(c)
	s.serve(c)
	lost.finish(s, c)
}

// serve authenticates and dispatches one request.
func (s *Server) serve(c *reqCtx) {
	r, q, bucketName, key := c.r, c.q, c.bucket, c.key
	ak, f := s.authenticate(r, q, bucketName, key)
	if f != nil {
		c.fail(f.status, f.code, f.msg, f.extra...)
		return
	}
	c.ak = ak
	if key != "" && (!utf8.ValidString(key) || len(key) > 1023 || strings.HasPrefix(key, "/") || strings.HasPrefix(key, `\`)) {
		c.fail(http.StatusBadRequest, "InvalidObjectName", "The specified object name is not valid.")
		return
	}
	switch c.action {
	case "oss:PutBucket":
		s.putBucket(c)
		return
	case "oss:ListBuckets":
		c.fail(http.StatusNotImplemented, "NotImplemented", "ListBuckets is not emulated.")
		return
	}
	region, ok := s.bucketRegion(bucketName)
	if !ok {
		c.fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.", [2]string{"BucketName", bucketName})
		return
	}
	switch c.action {
	case "oss:GetBucketInfo":
		s.getBucketInfo(c, region)
	case "oss:ListObjectsV2", "oss:ListObjects":
		s.listObjects(c)
	case "oss:PutObject":
		s.putObject(c)
	case "oss:CopyObject":
		s.copyObject(c)
	case "oss:GetObject", "oss:HeadObject", "oss:GetObjectMeta":
		s.getObject(c)
	case "oss:DeleteObject":
		s.deleteObject(c)
	case "oss:PutObjectTagging":
		s.putTagging(c)
	case "oss:GetObjectTagging":
		s.getTagging(c)
	case "oss:DeleteObjectTagging":
		s.deleteTagging(c)
	default:
		c.fail(http.StatusNotImplemented, "NotImplemented", "This operation is not emulated: "+c.action)
	}
}

// applyFault carries out an injected fault; it reports whether the request
// should proceed.
func (s *Server) applyFault(c *reqCtx, f Fault) bool {
	if f.Delay > 0 && !s.delay(c, f.Delay) {
		return false
	}
	return s.answerFault(c, f)
}

// delay waits d (or until the server closes); false when the client went
// away first.
func (s *Server) delay(c *reqCtx, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.r.Context().Done():
		c.status = 499
		return false
	case <-s.closing:
	}
	return true
}

// answerFault answers with the fault f asks for; it reports whether the
// request should proceed (no fault).
func (s *Server) answerFault(c *reqCtx, f Fault) bool {
	switch {
	case f.Reset:
		c.status, c.code = 0, "ConnectionReset"
		if faults.Reset(c.w) {
			return false
		}
		panic(http.ErrAbortHandler)
	case f.Timeout:
		c.status, c.code = 0, "Timeout"
		select {
		case <-c.r.Context().Done():
		case <-s.closing:
		}
		return false
	case f.Throttle:
		c.fail(http.StatusServiceUnavailable, "ServiceUnavailable", "Please reduce your request rate.")
		return false
	case f.ServerError && f.Status == http.StatusServiceUnavailable:
		c.fail(http.StatusServiceUnavailable, "ServiceUnavailable", "The service is temporarily unavailable. Please try again.")
		return false
	case f.ServerError:
		c.fail(http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
		return false
	}
	return true
}

func (s *Server) putBucket(c *reqCtx) {
	if !validBucketName(c.bucket) {
		c.fail(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.", [2]string{"BucketName", c.bucket})
		return
	}
	s.CreateBucket(c.bucket, "")
	c.header().Set("Location", "/"+c.bucket)
	c.header().Set("Content-Length", "0")
	c.writeHeader(http.StatusOK)
}

func validBucketName(n string) bool {
	if len(n) < 3 || len(n) > 63 || n[0] == '-' || n[len(n)-1] == '-' {
		return false
	}
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

type bucketInfoXML struct {
	XMLName xml.Name `xml:"BucketInfo"`
	Bucket  struct {
		Name             string `xml:"Name"`
		Location         string `xml:"Location"`
		CreationDate     string `xml:"CreationDate"`
		ExtranetEndpoint string `xml:"ExtranetEndpoint"`
		IntranetEndpoint string `xml:"IntranetEndpoint"`
		ACL              string `xml:"AccessControlList>Grant"`
		RedundancyType   string `xml:"DataRedundancyType"`
		Owner            struct {
			ID          string `xml:"ID"`
			DisplayName string `xml:"DisplayName"`
		} `xml:"Owner"`
		StorageClass string `xml:"StorageClass"`
	} `xml:"Bucket"`
}

func (s *Server) getBucketInfo(c *reqCtx, region string) {
	s.mu.Lock()
	b := s.buckets[c.bucket]
	created := b.created
	s.mu.Unlock()
	var out bucketInfoXML
	out.Bucket.Name = c.bucket
	out.Bucket.Location = "oss-" + region
	out.Bucket.CreationDate = created.Format("2006-01-02T15:04:05.000Z")
	out.Bucket.ExtranetEndpoint = "oss-" + region + ".aliyuncs.com"
	out.Bucket.IntranetEndpoint = "oss-" + region + "-internal.aliyuncs.com"
	out.Bucket.ACL = "private"
	out.Bucket.RedundancyType = "LRS"
	out.Bucket.Owner.ID = s.ownerID
	out.Bucket.Owner.DisplayName = s.ownerID
	out.Bucket.StorageClass = "Standard"
	c.writeXML(http.StatusOK, out)
}

// userMeta extracts x-oss-meta-* headers (names lower-cased).
func userMeta(h http.Header) map[string]string {
	var m map[string]string
	for k, v := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-meta-") && len(v) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			m[lk] = v[0]
		}
	}
	return m
}

func parseTaggingHeader(v string) ([][2]string, error) {
	if v == "" {
		return nil, nil
	}
	var tags [][2]string
	for _, part := range strings.Split(v, "&") {
		k, val, _ := strings.Cut(part, "=")
		uk, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		uv, err := url.QueryUnescape(val)
		if err != nil {
			return nil, err
		}
		tags = append(tags, [2]string{uk, uv})
	}
	return tags, validateTags(tags)
}

func validateTags(tags [][2]string) error {
	if len(tags) > 10 {
		return fmt.Errorf("too many tags: %d > 10", len(tags))
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t[0] == "" || len(t[0]) > 128 || len(t[1]) > 256 {
			return fmt.Errorf("tag %q: key must be 1-128 bytes and value at most 256 bytes", t[0])
		}
		if seen[t[0]] {
			return fmt.Errorf("duplicate tag key %q", t[0])
		}
		seen[t[0]] = true
	}
	return nil
}

func (s *Server) putObject(c *reqCtx) {
	data, err := io.ReadAll(c.r.Body)
	if err != nil {
		c.fail(http.StatusBadRequest, "IncompleteBody", "read body: "+err.Error())
		return
	}
	sum := md5.Sum(data)
	md5b64 := base64.StdEncoding.EncodeToString(sum[:])
	if cm := c.r.Header.Get("Content-MD5"); cm != "" && cm != md5b64 {
		c.fail(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.", [2]string{"Content-MD5", cm})
		return
	}
	tags, err := parseTaggingHeader(c.r.Header.Get("X-Oss-Tagging"))
	if err != nil {
		c.fail(http.StatusBadRequest, "InvalidTag", err.Error())
		return
	}
	ev, err := s.store(c.bucket, c.key, data, c.r.Header.Get("Content-Type"), userMeta(c.r.Header), tags, c.id, remoteIP(c.r),
		strings.EqualFold(c.r.Header.Get("X-Oss-Forbid-Overwrite"), "true"))
	if err == errExists {
		c.fail(http.StatusConflict, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
		return
	}
	if err != nil {
		c.fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.", [2]string{"BucketName", c.bucket})
		return
	}
	h := c.header()
	h.Set("ETag", `"`+ev.ETag+`"`)
	if ev.versionID != "" {
		h.Set("x-oss-version-id", ev.versionID)
	}
	h.Set("x-oss-hash-crc64ecma", strconv.FormatUint(crc64.Checksum(data, crcTable), 10))
	h.Set("Content-MD5", md5b64)
	h.Set("Content-Length", "0")
	c.writeHeader(http.StatusOK)
	s.fire(ev)
}

func remoteIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

type copyResultXML struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	ETag         string   `xml:"ETag"`
	LastModified string   `xml:"LastModified"`
}

func (s *Server) copyObject(c *reqCtx) {
	src, err := url.QueryUnescape(c.r.Header.Get("X-Oss-Copy-Source"))
	if err != nil || !strings.HasPrefix(src, "/") {
		c.fail(http.StatusBadRequest, "InvalidArgument", "x-oss-copy-source is invalid.")
		return
	}
	if i := strings.Index(src, "?versionId="); i >= 0 {
		src = src[:i]
	}
	srcBucket, srcKey, _ := strings.Cut(src[1:], "/")
	s.mu.Lock()
	sb, ok := s.buckets[srcBucket]
	if !ok {
		s.mu.Unlock()
		c.fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.", [2]string{"BucketName", srcBucket})
		return
	}
	so, ok := sb.objects[srcKey]
	if !ok {
		s.mu.Unlock()
		c.fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", [2]string{"Key", srcKey})
		return
	}
	if im := c.r.Header.Get("X-Oss-Copy-Source-If-Match"); im != "" && strings.Trim(im, `"`) != so.etag {
		s.mu.Unlock()
		c.fail(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
		return
	}
	data, ctype, meta, tags := so.data, so.contentType, so.meta, so.tags
	s.mu.Unlock()
	if strings.EqualFold(c.r.Header.Get("X-Oss-Metadata-Directive"), "REPLACE") {
		ctype, meta = c.r.Header.Get("Content-Type"), userMeta(c.r.Header)
	}
	if strings.EqualFold(c.r.Header.Get("X-Oss-Tagging-Directive"), "Replace") {
		tags, err = parseTaggingHeader(c.r.Header.Get("X-Oss-Tagging"))
		if err != nil {
			c.fail(http.StatusBadRequest, "InvalidTag", err.Error())
			return
		}
	}
	ev, err := s.store(c.bucket, c.key, data, ctype, meta, tags, c.id, remoteIP(c.r),
		strings.EqualFold(c.r.Header.Get("X-Oss-Forbid-Overwrite"), "true"))
	if err == errExists {
		c.fail(http.StatusConflict, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
		return
	}
	if err != nil {
		c.fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.", [2]string{"BucketName", c.bucket})
		return
	}
	ev.EventName = "ObjectCreated:CopyObject"
	c.writeXML(http.StatusOK, copyResultXML{ETag: `"` + ev.ETag + `"`, LastModified: ev.Time.Truncate(time.Second).Format("2006-01-02T15:04:05.000Z")})
	s.fire(ev)
}

// lookup returns a snapshot of the request's object; false when there is
// none (the caller answers NoSuchKey).
func (s *Server) lookup(c *reqCtx) (object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[c.bucket]
	if !ok {
		return object{}, false
	}
	o, ok := b.objects[c.key]
	if !ok {
		return object{}, false
	}
	return *o, true
}

func (s *Server) getObject(c *reqCtx) {
	o, ok := s.lookup(c)
	if !ok {
		c.fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", [2]string{"Key", c.key})
		return
	}
	h := c.header()
	h.Set("ETag", `"`+o.etag+`"`)
	h.Set("Last-Modified", o.lastModified.Format(http.TimeFormat))
	h.Set("x-oss-hash-crc64ecma", strconv.FormatUint(o.crc, 10))
	if c.action == "oss:GetObjectMeta" {
		h.Set("Content-Length", strconv.Itoa(len(o.data)))
		c.writeHeader(http.StatusOK)
		return
	}
	if im := c.r.Header.Get("If-Match"); im != "" && strings.Trim(im, `"`) != o.etag {
		c.fail(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
		return
	}
	if inm := c.r.Header.Get("If-None-Match"); inm != "" && strings.Trim(inm, `"`) == o.etag {
		c.writeHeader(http.StatusNotModified)
		return
	}
	sum := md5.Sum(o.data)
	h.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
	h.Set("Content-Type", o.contentType)
	h.Set("Accept-Ranges", "bytes")
	h.Set("x-oss-object-type", "Normal")
	h.Set("x-oss-storage-class", "Standard")
	for k, v := range o.meta {
		h.Set(k, v)
	}
	if len(o.tags) > 0 {
		h.Set("x-oss-tagging-count", strconv.Itoa(len(o.tags)))
	}
	body := o.data
	status := http.StatusOK
	if rg := c.r.Header.Get("Range"); rg != "" && c.action == "oss:GetObject" {
		standard := strings.EqualFold(c.r.Header.Get("X-Oss-Range-Behavior"), "standard")
		start, end, ok := parseRange(rg, int64(len(o.data)), standard)
		switch {
		case ok:
			body = o.data[start : end+1]
			status = http.StatusPartialContent
			h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(o.data)))
		case standard && start >= int64(len(o.data)):
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", len(o.data)))
			c.fail(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range cannot be satisfied.")
			return
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.writeHeader(status)
	if c.r.Method != http.MethodHead {
		c.w.Write(body)
	}
}

// parseRange parses one "bytes=a-b" range. By OSS's default behaviour an
// invalid or unsatisfiable range is ignored (ok=false, start<size); with
// standard behaviour an end past the size is truncated and a start past it
// is reported through start>=size.
func parseRange(v string, size int64, standard bool) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	var err error
	switch {
	case a == "" && b == "":
		return 0, 0, false
	case a == "":
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false
		}
		if n > size {
			if !standard {
				return 0, 0, false
			}
			n = size
		}
		if size == 0 {
			return 0, 0, false
		}
		return size - n, size - 1, true
	default:
		start, err = strconv.ParseInt(a, 10, 64)
		if err != nil || start < 0 {
			return 0, 0, false
		}
		if b == "" {
			end = size - 1
		} else if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
			return 0, 0, false
		}
	}
	if start >= size {
		return start, 0, false
	}
	if end >= size {
		if !standard && b != "" {
			return 0, 0, false
		}
		end = size - 1
	}
	return start, end, true
}

func (s *Server) deleteObject(c *reqCtx) {
	s.mu.Lock()
	b := s.buckets[c.bucket]
	old, existed := b.objects[c.key]
	region := b.region
	delete(b.objects, c.key)
	s.mu.Unlock()
	c.writeHeader(http.StatusNoContent)
	if existed {
		s.fire(ObjectEvent{EventName: "ObjectRemoved:DeleteObject", Bucket: c.bucket, Region: region, Key: c.key,
			Size: 0, DeltaSize: -int64(len(old.data)), ETag: old.etag, ContentType: old.contentType,
			RequestID: c.id, Time: s.now().UTC(), SourceIP: remoteIP(c.r), OwnerID: s.ownerID})
	}
}

type taggingXML struct {
	XMLName xml.Name `xml:"Tagging"`
	Tags    []tagXML `xml:"TagSet>Tag"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func (s *Server) putTagging(c *reqCtx) {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, 64<<10))
	if err != nil {
		c.fail(http.StatusBadRequest, "IncompleteBody", "read body: "+err.Error())
		return
	}
	var t taggingXML
	if err := xml.Unmarshal(body, &t); err != nil {
		c.fail(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed.")
		return
	}
	tags := make([][2]string, 0, len(t.Tags))
	for _, tg := range t.Tags {
		tags = append(tags, [2]string{tg.Key, tg.Value})
	}
	if err := validateTags(tags); err != nil {
		c.fail(http.StatusBadRequest, "InvalidTag", err.Error())
		return
	}
	if !s.setTags(c, tags) {
		return
	}
	c.header().Set("Content-Length", "0")
	c.writeHeader(http.StatusOK)
}

func (s *Server) getTagging(c *reqCtx) {
	o, ok := s.lookup(c)
	if !ok {
		c.fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", [2]string{"Key", c.key})
		return
	}
	out := taggingXML{Tags: []tagXML{}}
	for _, t := range o.tags {
		out.Tags = append(out.Tags, tagXML{Key: t[0], Value: t[1]})
	}
	c.writeXML(http.StatusOK, out)
}

func (s *Server) deleteTagging(c *reqCtx) {
	if s.setTags(c, nil) {
		c.writeHeader(http.StatusNoContent)
	}
}

// setTags replaces the tags of the request's object; when there is no such
// object it answers NoSuchKey and reports false.
func (s *Server) setTags(c *reqCtx, tags [][2]string) bool {
	s.mu.Lock()
	o, ok := s.buckets[c.bucket].objects[c.key]
	if ok {
		o.tags = tags
	}
	s.mu.Unlock()
	if !ok {
		c.fail(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", [2]string{"Key", c.key})
	}
	return ok
}
