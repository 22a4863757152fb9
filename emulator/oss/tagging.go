package oss

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

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
