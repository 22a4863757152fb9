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
	q := c.q
	v2 := q.Get("list-type") == "2"
	prefix, delim, startAfter := q.Get("prefix"), q.Get("delimiter"), q.Get("start-after")
	if !v2 {
		startAfter = q.Get("marker")
	}
	maxKeys := 100
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			c.fail(http.StatusBadRequest, "InvalidArgument", "max-keys must be an integer between 1 and 1000.",
				[2]string{"ArgumentName", "max-keys"}, [2]string{"ArgumentValue", v})
			return
		}
		maxKeys = n
	}
	encType := q.Get("encoding-type")
	if encType != "" && encType != "url" {
		c.fail(http.StatusBadRequest, "InvalidArgument", "encoding-type must be url.",
			[2]string{"ArgumentName", "encoding-type"}, [2]string{"ArgumentValue", encType})
		return
	}
	var (
		markKind byte = 'k'
		mark          = startAfter
	)
	if !v2 && delim != "" && strings.HasSuffix(startAfter, delim) && strings.HasPrefix(startAfter, prefix) {
		markKind = 'p'
	}
	token, hasToken := q["continuation-token"]
	if hasToken && v2 {
		k, m, ok := decodeToken(token[0])
		if !ok {
			c.fail(http.StatusBadRequest, "InvalidArgument", "The continuation token is not valid.",
				[2]string{"ArgumentName", "continuation-token"}, [2]string{"ArgumentValue", token[0]})
			return
		}
		markKind, mark = k, m
	}

	type entry struct {
		key  string
		o    object
		isCP bool
	}
	s.mu.Lock()
	b := s.buckets[c.bucket]
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var entries []entry
	truncated := false
	lastCP := ""
	for _, k := range keys {
		if mark != "" {
			if k <= mark || (markKind == 'p' && strings.HasPrefix(k, mark)) {
				continue
			}
		}
		e := entry{key: k}
		if delim != "" {
			if i := strings.Index(k[len(prefix):], delim); i >= 0 {
				cp := k[:len(prefix)+i+len(delim)]
				if cp == lastCP {
					continue
				}
				lastCP = cp
				e = entry{key: cp, isCP: true}
			}
		}
		if len(entries) == maxKeys {
			truncated = true
			break
		}
		if !e.isCP {
			e.o = *b.objects[k]
		}
		entries = append(entries, e)
	}
	s.mu.Unlock()

	enc := func(v string) string { return v }
	if encType == "url" {
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
	if !v2 {
		out := listV1XML{Name: c.bucket, Prefix: enc(prefix), Marker: enc(startAfter), MaxKeys: maxKeys, Delimiter: enc(delim),
			EncodingType: encType, IsTruncated: truncated, Contents: contents, CommonPrefixes: cps}
		if truncated && len(entries) > 0 {
			out.NextMarker = enc(entries[len(entries)-1].key)
		}
		c.writeXML(http.StatusOK, out)
		return
	}
	out := listV2XML{Name: c.bucket, Prefix: enc(prefix), StartAfter: enc(startAfter), MaxKeys: maxKeys,
		Delimiter: enc(delim), EncodingType: encType, IsTruncated: truncated,
		Contents: contents, CommonPrefixes: cps}
	if hasToken {
		out.ContinuationToken = token[0]
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
