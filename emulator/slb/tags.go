package slb

import (
	"sort"
	"strconv"
	"strings"
)

// tagTarget returns the tag map of an instance or certificate resource.
func (c *call) tagTarget(typ, id string) (map[string]string, *apiError) {
	switch strings.ToLower(typ) {
	case "instance":
		lb, aerr := c.lb(id)
		if aerr != nil {
			return nil, aerr
		}
		return lb.Tags, nil
	case "certificate":
		cert, aerr := c.cert(id)
		if aerr != nil {
			return nil, aerr
		}
		if cert.Tags == nil {
			cert.Tags = map[string]string{}
		}
		return cert.Tags, nil
	case "":
		return nil, missing("ResourceType")
	}
	return nil, invalid("ResourceType", "the emulator tags instance and certificate resources")
}

func (c *call) resourceIDs() []string {
	var ids []string
	for i := 1; i <= 50; i++ {
		if v := c.p["ResourceId."+strconv.Itoa(i)]; v != "" {
			ids = append(ids, v)
		}
	}
	return ids
}

func tagResources(c *call) (obj, *apiError) {
	ids := c.resourceIDs()
	if len(ids) == 0 {
		return nil, missing("ResourceId.N")
	}
	tags, aerr := c.tagParams()
	if aerr != nil {
		return nil, aerr
	}
	if len(tags) == 0 {
		return nil, missing("Tag.N.Key")
	}
	targets := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		t, aerr := c.tagTarget(c.p["ResourceType"], id)
		if aerr != nil {
			return nil, aerr
		}
		n := len(t)
		for k := range tags {
			if _, ok := t[k]; !ok {
				n++
			}
		}
		if n > MaxTagsPerResource {
			return nil, errorf(400, "QuotaExceeded.TagNum", "A resource can have at most %d tags.", MaxTagsPerResource)
		}
		targets = append(targets, t)
	}
	for _, t := range targets {
		for k, v := range tags {
			t[k] = v
		}
	}
	return obj{}, nil
}

func untagResources(c *call) (obj, *apiError) {
	ids := c.resourceIDs()
	if len(ids) == 0 {
		return nil, missing("ResourceId.N")
	}
	var keys []string
	for i := 1; i <= 20; i++ {
		if v := c.p["TagKey."+strconv.Itoa(i)]; v != "" {
			keys = append(keys, v)
		}
	}
	all := c.p["All"] == "true"
	for _, id := range ids {
		t, aerr := c.tagTarget(c.p["ResourceType"], id)
		if aerr != nil {
			return nil, aerr
		}
		for k := range t {
			if all {
				delete(t, k)
			}
		}
		for _, k := range keys {
			delete(t, k)
		}
	}
	return obj{}, nil
}

func listTagResources(c *call) (obj, *apiError) {
	typ := c.p["ResourceType"]
	want, aerr := c.tagParams()
	if aerr != nil {
		return nil, aerr
	}
	ids := c.resourceIDs()
	if len(ids) == 0 {
		switch strings.ToLower(typ) {
		case "instance":
			for _, lb := range c.reg.lbOrder {
				ids = append(ids, lb.ID)
			}
		case "certificate":
			for _, cert := range c.reg.cOrder {
				ids = append(ids, cert.ID)
			}
		}
	}
	var out []obj
	for _, id := range ids {
		t, aerr := c.tagTarget(typ, id)
		if aerr != nil {
			return nil, aerr
		}
		if !tagsMatch(t, want) {
			continue
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, obj{"ResourceType": strings.ToLower(typ), "ResourceId": id, "TagKey": k, "TagValue": t[k]})
		}
	}
	start := 0
	if tok := c.p["NextToken"]; tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(out) {
			return nil, invalid("NextToken", "unknown token")
		}
		start = n
	}
	end, next := start+50, ""
	if end < len(out) {
		next = strconv.Itoa(end)
	} else {
		end = len(out)
	}
	page := append([]obj{}, out[start:end]...)
	return obj{"TagResources": obj{"TagResource": page}, "NextToken": next}, nil
}
