package oss

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

type listV2XML struct {
	XMLName               xml.Name       `xml:"ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	Contents              []contentXML   `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
	KeyCount              int            `xml:"KeyCount"`
}

type contentXML struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Type         string `xml:"Type"`
	Size         int    `xml:"Size"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// Continuation tokens are base64url (no padding) of a marker: "k" + key
// (continue after that key) or "p" + common prefix (continue after every
// key under that prefix).
func encodeToken(kind byte, s string) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{kind}, s...))
}

func decodeToken(t string) (kind byte, s string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || len(b) == 0 || (b[0] != 'k' && b[0] != 'p') {
		return 0, "", false
	}
	return b[0], string(b[1:]), true
}

func urlEncode(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

type listV1XML struct {
	XMLName        xml.Name       `xml:"ListBucketResult"`
	Name           string         `xml:"Name"`
	Prefix         string         `xml:"Prefix"`
	Marker         string         `xml:"Marker"`
	MaxKeys        int            `xml:"MaxKeys"`
	Delimiter      string         `xml:"Delimiter"`
	EncodingType   string         `xml:"EncodingType,omitempty"`
	IsTruncated    bool           `xml:"IsTruncated"`
	NextMarker     string         `xml:"NextMarker,omitempty"`
	Contents       []contentXML   `xml:"Contents"`
	CommonPrefixes []commonPrefix `xml:"CommonPrefixes"`
}

// listObjects serves ListObjects (V1, marker based) and ListObjectsV2
// (continuation tokens).
func (s *Server) listObjects(c *reqCtx) {
	lq, ok := parseListQuery(c)
	if !ok {
		return
	}
	entries, truncated := s.listEntries(c.bucket, lq)
	writeList(c, lq, entries, truncated)
}

// listQuery is a listing request's parameters, validated.
type listQuery struct {
	v2                        bool
	prefix, delim, startAfter string
	maxKeys                   int
	encType                   string
	token                     string
	hasToken                  bool
	// markKind is 'k' (list after the key mark) or 'p' (after every key
	// under the common prefix mark).
	markKind byte
	mark     string
}

// listEntry is a key or a common prefix in a listing.
type listEntry struct {
	key  string
	o    object
	isCP bool
}

// parseListQuery reads and checks the query; on a bad one it answers the
// error and reports false.
func parseListQuery(c *reqCtx) (listQuery, bool) {
	q := c.q
	lq := listQuery{v2: q.Get("list-type") == "2", prefix: q.Get("prefix"), delim: q.Get("delimiter"),
		startAfter: q.Get("start-after"), maxKeys: 100, encType: q.Get("encoding-type"), markKind: 'k'}
	if !lq.v2 {
		lq.startAfter = q.Get("marker")
	}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			c.fail(http.StatusBadRequest, "InvalidArgument", "max-keys must be an integer between 1 and 1000.",
				[2]string{"ArgumentName", "max-keys"}, [2]string{"ArgumentValue", v})
			return lq, false
		}
		lq.maxKeys = n
	}
	if lq.encType != "" && lq.encType != "url" {
		c.fail(http.StatusBadRequest, "InvalidArgument", "encoding-type must be url.",
			[2]string{"ArgumentName", "encoding-type"}, [2]string{"ArgumentValue", lq.encType})
		return lq, false
	}
	lq.mark = lq.startAfter
	if !lq.v2 && lq.delim != "" && strings.HasSuffix(lq.startAfter, lq.delim) && strings.HasPrefix(lq.startAfter, lq.prefix) {
		lq.markKind = 'p'
	}
	token, hasToken := q["continuation-token"]
	if hasToken && lq.v2 {
		k, m, ok := decodeToken(token[0])
		if !ok {
			c.fail(http.StatusBadRequest, "InvalidArgument", "The continuation token is not valid.",
				[2]string{"ArgumentName", "continuation-token"}, [2]string{"ArgumentValue", token[0]})
			return lq, false
		}
		lq.markKind, lq.mark = k, m
	}
	if hasToken {
		lq.token, lq.hasToken = token[0], true
	}
	return lq, true
}

// listEntries lists the bucket's keys after the mark, common prefixes
// folded, up to maxKeys; truncated tells whether more follow.
func (s *Server) listEntries(bucketName string, lq listQuery) (entries []listEntry, truncated bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[bucketName]
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		if strings.HasPrefix(k, lq.prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	lastCP := ""
	for _, k := range keys {
		if lq.mark != "" {
			if k <= lq.mark || (lq.markKind == 'p' && strings.HasPrefix(k, lq.mark)) {
				continue
			}
		}
		e := listEntry{key: k}
		if lq.delim != "" {
			if i := strings.Index(k[len(lq.prefix):], lq.delim); i >= 0 {
				cp := k[:len(lq.prefix)+i+len(lq.delim)]
				if cp == lastCP {
					continue
				}
				lastCP = cp
				e = listEntry{key: cp, isCP: true}
			}
		}
		if len(entries) == lq.maxKeys {
			return entries, true
		}
		if !e.isCP {
			e.o = *b.objects[k]
		}
		entries = append(entries, e)
	}
	return entries, false
}

// writeList answers the listing in the V1 or V2 form.
func writeList(c *reqCtx, lq listQuery, entries []listEntry, truncated bool) {
	enc := func(v string) string { return v }
	if lq.encType == "url" {
		enc = urlEncode
	}
	contents := []contentXML{}
	cps := []commonPrefix{}
	for _, e := range entries {
		if e.isCP {
			cps = append(cps, commonPrefix{Prefix: enc(e.key)})
			continue
		}
		contents = append(contents, contentXML{Key: enc(e.key), LastModified: e.o.lastModified.Format("2006-01-02T15:04:05.000Z"),
			ETag: `"` + e.o.etag + `"`, Type: "Normal", Size: len(e.o.data), StorageClass: "Standard"})
	}
	if !lq.v2 {
		out := listV1XML{Name: c.bucket, Prefix: enc(lq.prefix), Marker: enc(lq.startAfter), MaxKeys: lq.maxKeys, Delimiter: enc(lq.delim),
			EncodingType: lq.encType, IsTruncated: truncated, Contents: contents, CommonPrefixes: cps}
		if truncated && len(entries) > 0 {
			out.NextMarker = enc(entries[len(entries)-1].key)
		}
		c.writeXML(http.StatusOK, out)
		return
	}
	out := listV2XML{Name: c.bucket, Prefix: enc(lq.prefix), StartAfter: enc(lq.startAfter), MaxKeys: lq.maxKeys,
		Delimiter: enc(lq.delim), EncodingType: lq.encType, IsTruncated: truncated,
		Contents: contents, CommonPrefixes: cps}
	if lq.hasToken {
		out.ContinuationToken = lq.token
	}
	out.KeyCount = len(entries)
	if truncated && len(entries) > 0 {
		last := entries[len(entries)-1]
		kind := byte('k')
		if last.isCP {
			kind = 'p'
		}
		out.NextContinuationToken = encodeToken(kind, last.key)
	}
	c.writeXML(http.StatusOK, out)
}
