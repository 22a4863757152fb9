package oss

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"hash/crc64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// userMeta extracts x-oss-meta-* headers and the server-side encryption
// asked for (names lower-cased), kept with the object and shown by Dump.
func userMeta(h http.Header) map[string]string {
	var m map[string]string
	for k, v := range h {
		lk := strings.ToLower(k)
		if (strings.HasPrefix(lk, "x-oss-meta-") || lk == "x-oss-server-side-encryption") && len(v) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			m[lk] = v[0]
		}
	}
	return m
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
	ev, ok := s.storeObject(c, data, c.r.Header.Get("Content-Type"), userMeta(c.r.Header), tags)
	if !ok {
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

// storeObject stores the request's object (x-oss-forbid-overwrite
// honoured) and answers the store's refusal itself; false when it did.
func (s *Server) storeObject(c *reqCtx, data []byte, ctype string, meta map[string]string, tags [][2]string) (ObjectEvent, bool) {
	ev, err := s.store(c.bucket, c.key, data, ctype, meta, tags, c.id, remoteIP(c.r),
		strings.EqualFold(c.r.Header.Get("X-Oss-Forbid-Overwrite"), "true"))
	if err == errExists {
		c.fail(http.StatusConflict, "FileAlreadyExists", "The object you specified already exists and can not be overwritten.")
		return ev, false
	}
	if err != nil {
		c.fail(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist.", [2]string{"BucketName", c.bucket})
		return ev, false
	}
	return ev, true
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
	ev, ok := s.storeObject(c, data, ctype, meta, tags)
	if !ok {
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
