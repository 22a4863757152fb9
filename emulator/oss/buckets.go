package oss

import (
	"encoding/xml"
	"net/http"
)

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
