package aliyun

import (
	"context"
	"encoding/pem"
	"errors"
	"maps"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/slb"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// ListServerCertificates returns every server certificate of the region.
func (s *SLB) ListServerCertificates(ctx context.Context, region string) ([]clb.ServerCertificate, error) {
	var out []clb.ServerCertificate
	err := s.do(ctx, region, "DescribeServerCertificates", func(c *slb.Client) error {
		req := slb.CreateDescribeServerCertificatesRequest()
		req.RegionId = region
		resp := slb.CreateDescribeServerCertificatesResponse()
		if err := c.DoAction(req, resp); err != nil {
			return err
		}
		out = make([]clb.ServerCertificate, 0, len(resp.ServerCertificates.ServerCertificate))
		for _, sc := range resp.ServerCertificates.ServerCertificate {
			out = append(out, certFromDescribe(region, sc))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UploadServerCertificate uploads a certificate chain and its private key
// as a server certificate of the region, with the given tags.
//
// UploadServerCertificate is not idempotent (SLB has no client token for it),
// so after an ambiguous failure (timeout, reset or 5xx: the upload may have
// happened) the adapter lists the region's certificates and returns the one
// with the same fingerprint (and name, when one matches) instead of
// uploading again. The key never appears in any error.
func (s *SLB) UploadServerCertificate(ctx context.Context, region, name, certPEM, keyPEM string, tags map[string]string) (clb.ServerCertificate, error) {
	fp := LeafFingerprint(certPEM)
	var out clb.ServerCertificate
	var found clb.ServerCertificate
	before := func() (bool, error) {
		if fp == "" {
			return false, nil
		}
		list, err := s.ListServerCertificates(ctx, region)
		if err != nil {
			// cannot tell: do not upload blindly
			return true, err
		}
		if c, ok := pickUploaded(list, name, fp); ok {
			found = c
			return true, nil
		}
		return false, nil
	}
	hookDone, err := s.doAmbig(ctx, region, "UploadServerCertificate", before, func(c *slb.Client) error {
		req := slb.CreateUploadServerCertificateRequest()
		req.RegionId = region
		req.ServerCertificateName = name
		req.ServerCertificate = certPEM
		req.PrivateKey = keyPEM
		if len(tags) > 0 {
			t := make([]slb.UploadServerCertificateTag, 0, len(tags))
			for _, k := range sortedKeys(tags) {
				t = append(t, slb.UploadServerCertificateTag{Key: k, Value: tags[k]})
			}
			req.Tag = &t
		}
		resp := slb.CreateUploadServerCertificateResponse()
		if err := c.DoAction(req, resp); err != nil {
			return err
		}
		out = clb.ServerCertificate{
			ID:          resp.ServerCertificateId,
			Name:        resp.ServerCertificateName,
			Region:      firstNonEmpty(resp.RegionId, region),
			Fingerprint: strings.ToLower(resp.Fingerprint),
			CommonName:  resp.CommonName,
			SANs:        append([]string(nil), resp.SubjectAlternativeNames.SubjectAlternativeName...),
			ExpireTime:  sdkTime(resp.ExpireTimeStamp, resp.ExpireTime),
			CreateTime:  sdkTime(resp.CreateTimeStamp, resp.CreateTime),
			Tags:        maps.Clone(tags),
		}
		return nil
	})
	if err != nil {
		return clb.ServerCertificate{}, err
	}
	if hookDone {
		out = found
		if out.Tags == nil {
			out.Tags = maps.Clone(tags)
		}
	}
	if out.ID == "" {
		// Never report an upload without the certificate it made: the
		// caller would act on a zero certificate. Retrying the whole
		// operation is safe (the retry finds the upload by fingerprint).
		return clb.ServerCertificate{}, &APIError{Service: "slb", Action: "UploadServerCertificate", Region: region,
			Code: "IncompleteResponse", Message: "the upload returned no server certificate id", Kind: apierr.ErrTransient}
	}
	return out, nil
}

// pickUploaded finds a certificate with fingerprint fp (compared through
// certs.NormalizeFingerprint, whatever the case or separators; an empty one
// matches nothing), preferring the one named name.
func pickUploaded(list []clb.ServerCertificate, name, fp string) (clb.ServerCertificate, bool) {
	var any clb.ServerCertificate
	ok := false
	want := certs.NormalizeFingerprint(fp)
	for _, c := range list {
		if want == "" || certs.NormalizeFingerprint(c.Fingerprint) != want {
			continue
		}
		if c.Name == name {
			return c, true
		}
		if !ok {
			any, ok = c, true
		}
	}
	return any, ok
}

// DeleteServerCertificate deletes a server certificate; one that does not
// exist (any more) is not an error. A certificate still in use gives an
// error that Is apierr.ErrConflict.
func (s *SLB) DeleteServerCertificate(ctx context.Context, region, id string) error {
	return s.deleteGone(ctx, region, "DeleteServerCertificate", func() (requests.AcsRequest, responses.AcsResponse) {
		req := slb.CreateDeleteServerCertificateRequest()
		req.RegionId, req.ServerCertificateId = region, id
		return req, slb.CreateDeleteServerCertificateResponse()
	})
}

// LeafFingerprint is the SHA-1 of the first certificate's DER in certPEM as
// SLB shows it (lower-case hex pairs joined by colons), or "" when certPEM
// holds no certificate.
func LeafFingerprint(certPEM string) string {
	rest := []byte(certPEM)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return ""
		}
		if b.Type == "CERTIFICATE" {
			return certs.FingerprintSHA1(b.Bytes)
		}
	}
}

func certFromDescribe(region string, sc slb.ServerCertificate) clb.ServerCertificate {
	return clb.ServerCertificate{
		ID:          sc.ServerCertificateId,
		Name:        sc.ServerCertificateName,
		Region:      firstNonEmpty(sc.RegionId, region),
		Fingerprint: strings.ToLower(sc.Fingerprint),
		CommonName:  sc.CommonName,
		SANs:        append([]string(nil), sc.SubjectAlternativeNames.SubjectAlternativeName...),
		ExpireTime:  sdkTime(sc.ExpireTimeStamp, sc.ExpireTime),
		CreateTime:  sdkTime(sc.CreateTimeStamp, sc.CreateTime),
		Tags:        tagMap(sc.Tags.Tag),
	}
}

// sdkTime prefers the millisecond timestamp and falls back to the ISO text.
func sdkTime(ms int64, text string) time.Time {
	if ms > 0 {
		return time.UnixMilli(ms).UTC()
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, text); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// goneIsNil is the answer of a delete: what does not exist (any more) is
// deleted.
func goneIsNil(err error) error {
	if errors.Is(err, apierr.ErrNotFound) {
		return nil
	}
	return err
}

// deleteGone runs a delete action, a fresh request from build per attempt;
// a resource that does not exist (any more) is not an error.
func (s *SLB) deleteGone(ctx context.Context, region, action string, build func() (requests.AcsRequest, responses.AcsResponse)) error {
	return goneIsNil(s.do(ctx, region, action, func(c *slb.Client) error {
		req, resp := build()
		return c.DoAction(req, resp)
	}))
}
