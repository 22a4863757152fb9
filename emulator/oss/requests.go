package oss

import (
	"encoding/base64"
	"encoding/xml"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
	logged bool // in the server's log already (a reset logs it before closing)
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
	defer s.logOnce(c)
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

// logOnce appends c's request to the log unless it is there already.
func (s *Server) logOnce(c *reqCtx) {
	if c.logged {
		return
	}
	c.logged = true
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.log) >= maxRequestLog {
		s.log = append(s.log[:0], s.log[len(s.log)-maxRequestLog/2:]...)
	}
	s.log = append(s.log, RequestRecord{Time: s.now().UTC(), Action: c.action, Bucket: c.bucket, Key: c.key,
		Status: c.status, Code: c.code, RequestID: c.id, AccessKeyID: c.ak})
}
