package aliyun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/lease"
)

// DefaultOSSTimeout bounds one OSS request (the ctx deadline may shorten it).
const DefaultOSSTimeout = 30 * time.Second

// OSSOptions configures the OSS adapter.
type OSSOptions struct {
	// Endpoint is "" for https://oss-<Region>-internal.aliyuncs.com (the
	// VPC endpoint Function Compute reaches), or an override such as
	// "http://127.0.0.1:PORT" (an IP or localhost endpoint gives path-style
	// URLs) or "https://oss-{region}.aliyuncs.com".
	Endpoint string
	// Region is the bucket's region (needed for V4 signing and the default
	// endpoint).
	Region string
	// V4 selects signature version 4 (needs Region); false signs with V1.
	V4 bool
	// Retry bounds the adapter's own retries (the OSS SDK has none).
	Retry RetryPolicy
	// Timeout bounds each request (0: DefaultOSSTimeout); the ctx deadline
	// may shorten it. A request held by the service without an answer ends
	// after it and is retried like any transient failure.
	Timeout time.Duration
}

// OSS is the object storage adapter. It is safe for concurrent use: each
// call builds its own SDK client and bucket over a shared connection pool.
type OSS struct {
	creds    Credentials
	endpoint string
	region   string
	v4       bool
	pathSty  bool
	retry    *retrier
	http     *http.Client
}

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	ETag         string
	LastModified time.Time
}

// NewOSS returns an OSS adapter; it fails when the endpoint cannot be used.
func NewOSS(creds Credentials, opts OSSOptions) (*OSS, error) {
	ep := strings.TrimSpace(opts.Endpoint)
	if ep == "" {
		if opts.Region == "" {
			return nil, fmt.Errorf("oss: no endpoint and no region: set the OSS endpoint or region")
		}
		ep = "https://oss-" + opts.Region + "-internal.aliyuncs.com"
	}
	ep = strings.ReplaceAll(ep, "{region}", opts.Region)
	if !strings.Contains(ep, "://") {
		ep = "https://" + ep
	}
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("oss: endpoint %q is not a URL like https://oss-cn-hangzhou-internal.aliyuncs.com or http://127.0.0.1:PORT", opts.Endpoint)
	}
	if opts.V4 && opts.Region == "" {
		return nil, fmt.Errorf("oss: V4 signing needs the region: set the OSS region or use V1 signing")
	}
	host := u.Hostname()
	o := &OSS{
		creds:    creds,
		endpoint: u.Scheme + "://" + u.Host,
		region:   opts.Region,
		v4:       opts.V4,
		pathSty:  host == "localhost" || net.ParseIP(host) != nil,
		retry:    newRetrier(opts.Retry),
		http:     &http.Client{Transport: newBaseTransport(), Timeout: DefaultOSSTimeout},
	}
	if opts.Timeout > 0 {
		o.http.Timeout = opts.Timeout
	}
	return o, nil
}

func (o *OSS) bucket(name string) (*oss.Bucket, error) {
	opts := []oss.ClientOption{oss.HTTPClient(o.http)}
	if o.creds.SecurityToken != "" {
		opts = append(opts, oss.SecurityToken(o.creds.SecurityToken))
	}
	if o.v4 {
		opts = append(opts, oss.AuthVersion(oss.AuthV4), oss.Region(o.region))
	}
	if o.pathSty {
		opts = append(opts, oss.ForcePathStyle(true))
	}
	c, err := oss.New(o.endpoint, o.creds.AccessKeyID, o.creds.AccessKeySecret, opts...)
	if err != nil {
		return nil, err
	}
	return c.Bucket(name)
}

// run does one OSS action with retries; where names the object for errors.
func (o *OSS) run(ctx context.Context, action, where string, op func(b *oss.Bucket) error, bucket string) error {
	if err := ctx.Err(); err != nil {
		return &APIError{Service: "oss", Action: action, Region: where, Message: err.Error(), Kind: ctxKind(err), cause: err}
	}
	return o.retry.do(ctx, func(int) error {
		b, err := o.bucket(bucket)
		if err != nil {
			return &APIError{Service: "oss", Action: action, Region: where, Code: "ClientSetup",
				Message: cleanMessage(err.Error(), o.creds.secrets()), Kind: apierr.ErrInvalid}
		}
		if err := op(b); err != nil {
			var ae *APIError
			if errors.As(err, &ae) {
				return err
			}
			return o.toAPIError(ctx, action, where, err)
		}
		return nil
	})
}

func (o *OSS) toAPIError(ctx context.Context, action, where string, err error) *APIError {
	secrets := o.creds.secrets()
	ae := &APIError{Service: "oss", Action: action, Region: where}
	var se oss.ServiceError
	var sep *oss.ServiceError
	var ue oss.UnexpectedStatusCodeError
	switch {
	case errors.As(err, &se):
		fillOSS(ae, se, secrets)
		return ae
	case errors.As(err, &sep) && sep != nil:
		fillOSS(ae, *sep, secrets)
		return ae
	case errors.As(err, &ue):
		ae.HTTPStatus = ue.Got()
		ae.Code = "UnexpectedStatusCode"
		ae.Kind = classify("", "", ae.HTTPStatus)
		return ae
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		ae.Message = ctxErr.Error()
		ae.cause = ctxErr
		ae.Kind = ctxKind(ctxErr)
		return ae
	}
	msg := transportMessage(err)
	// "oss: service returned invalid response body, status = 502, ..."
	if i := strings.Index(msg, "status = "); i >= 0 && strings.HasPrefix(msg, "oss: service returned") {
		if st, cerr := strconv.Atoi(strings.TrimSpace(strings.SplitN(msg[i+len("status = "):], ",", 2)[0])); cerr == nil {
			ae.HTTPStatus = st
			ae.Kind = classify("", "", st)
			ae.Message = "invalid response body"
			return ae
		}
	}
	transient, _ := transportKind(err)
	ae.Message = cleanMessage(msg, secrets)
	ae.cause = err
	if transient {
		ae.Kind = apierr.ErrTransient
	}
	return ae
}

func fillOSS(ae *APIError, se oss.ServiceError, secrets []string) {
	ae.Code = se.Code
	ae.HTTPStatus = se.StatusCode
	ae.RequestID = se.RequestID
	ae.Message = cleanMessage(se.Message, secrets)
	ae.Kind = classify(se.Code, se.Message, se.StatusCode)
}

func objectWhere(bucket, key string) string { return "oss://" + bucket + "/" + key }

// Get reads an object of at most maxSize bytes. A larger object is refused
// from its Content-Length without reading the body (error Is
// apierr.ErrInvalid, naming the key and the limit); a missing object gives
// an error that Is apierr.ErrNotFound.
func (o *OSS) Get(ctx context.Context, bucket, key string, maxSize int64) ([]byte, error) {
	where := objectWhere(bucket, key)
	var data []byte
	err := o.run(ctx, "GetObject", where, func(b *oss.Bucket) error {
		res, err := b.DoGetObject(&oss.GetObjectRequest{ObjectKey: key}, []oss.Option{oss.WithContext(ctx)})
		if err != nil {
			return err
		}
		body := res.Response.Body
		defer body.Close()
		if cl := res.Response.Headers.Get("Content-Length"); cl != "" && maxSize > 0 {
			if n, perr := strconv.ParseInt(cl, 10, 64); perr == nil && n > maxSize {
				return tooLarge(where, n, maxSize)
			}
		}
		limit := maxSize
		if limit <= 0 {
			limit = 1 << 30
		}
		buf, err := io.ReadAll(io.LimitReader(body, limit+1))
		if err != nil {
			return err
		}
		if int64(len(buf)) > limit {
			return tooLarge(where, -1, limit)
		}
		data = buf
		return nil
	}, bucket)
	if err != nil {
		return nil, err
	}
	return data, nil
}

func tooLarge(where string, size, limit int64) *APIError {
	msg := fmt.Sprintf("object is larger than the limit of %d bytes: not read", limit)
	if size >= 0 {
		msg = fmt.Sprintf("object is %d bytes, larger than the limit of %d bytes: not read", size, limit)
	}
	return &APIError{Service: "oss", Action: "GetObject", Region: where, Code: "ObjectTooLarge",
		Message: msg, Kind: apierr.ErrInvalid}
}

// Head returns an object's size, ETag and modification time; a missing
// object gives an error that Is apierr.ErrNotFound.
func (o *OSS) Head(ctx context.Context, bucket, key string) (ObjectInfo, error) {
	var info ObjectInfo
	err := o.run(ctx, "HeadObject", objectWhere(bucket, key), func(b *oss.Bucket) error {
		h, err := b.GetObjectDetailedMeta(key, oss.WithContext(ctx))
		if err != nil {
			return err
		}
		size, _ := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
		lm, _ := http.ParseTime(h.Get("Last-Modified"))
		info = ObjectInfo{Key: key, Size: size, ETag: strings.Trim(h.Get("ETag"), `"`), LastModified: lm.UTC()}
		return nil
	}, bucket)
	if err != nil {
		return ObjectInfo{}, err
	}
	return info, nil
}

// List returns every object under prefix (all pages).
func (o *OSS) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	token := ""
	for page := 0; page < maxPages; page++ {
		var res oss.ListObjectsResultV2
		err := o.run(ctx, "ListObjectsV2", objectWhere(bucket, prefix), func(b *oss.Bucket) error {
			opts := []oss.Option{oss.WithContext(ctx), oss.Prefix(prefix), oss.MaxKeys(1000)}
			if token != "" {
				opts = append(opts, oss.ContinuationToken(token))
			}
			var err error
			res, err = b.ListObjectsV2(opts...)
			return err
		}, bucket)
		if err != nil {
			return nil, err
		}
		for _, obj := range res.Objects {
			out = append(out, ObjectInfo{Key: obj.Key, Size: obj.Size, ETag: strings.Trim(obj.ETag, `"`), LastModified: obj.LastModified.UTC()})
		}
		if !res.IsTruncated || res.NextContinuationToken == "" || res.NextContinuationToken == token {
			return out, nil
		}
		token = res.NextContinuationToken
	}
	return nil, &APIError{Service: "oss", Action: "ListObjectsV2", Region: objectWhere(bucket, prefix),
		Code: "PaginationLoop", Message: fmt.Sprintf("more than %d pages", maxPages), Kind: apierr.ErrTransient}
}

// ListKeys returns the key of every object under prefix (all pages), in
// List's order: the listing the bucket's readers consume (pairs.ObjectReader,
// issuance.Objects).
func (o *OSS) ListKeys(ctx context.Context, bucket, prefix string) ([]string, error) {
	infos, err := o.List(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	keys := make([]string, len(infos))
	for i, in := range infos {
		keys[i] = in.Key
	}
	return keys, nil
}

// Put writes an object (PutObject is idempotent: retried as is).
func (o *OSS) Put(ctx context.Context, bucket, key string, data []byte, contentType string) error {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return o.run(ctx, "PutObject", objectWhere(bucket, key), func(b *oss.Bucket) error {
		return b.PutObject(key, bytes.NewReader(data), oss.WithContext(ctx), oss.ContentType(contentType))
	}, bucket)
}

// PutIfAbsent writes an object only when no object has the key (PutObject
// with x-oss-forbid-overwrite: true; unversioned buckets only). It reports
// created=false with a nil error when the object exists (409
// FileAlreadyExists). When a retry meets the object after an earlier attempt
// whose answer was lost, the stored body is compared with data: equal means
// the earlier attempt created it (data should hold something unique, such as
// an owner token, for that to be conclusive).
func (o *OSS) PutIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string) (created bool, err error) {
	return o.putIfAbsent(ctx, bucket, key, data, contentType)
}

// putIfAbsent is PutIfAbsent with extra PutObject options.
func (o *OSS) putIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string, extra ...oss.Option) (created bool, err error) {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	exists, retried := false, false
	err = o.run(ctx, "PutObject", objectWhere(bucket, key), func(b *oss.Bucket) error {
		var h http.Header
		opts := append([]oss.Option{oss.WithContext(ctx), oss.ContentType(contentType), oss.ForbidOverWrite(true), oss.GetResponseHeader(&h)}, extra...)
		err := b.PutObject(key, bytes.NewReader(data), opts...)
		if err == nil {
			if v := h.Get("X-Oss-Version-Id"); v != "" {
				return &APIError{Service: "oss", Action: "PutObject", Region: objectWhere(bucket, key), Code: "VersionedBucket",
					Message: "bucket " + bucket + " has versioning enabled or suspended, where OSS ignores x-oss-forbid-overwrite, so a lock there cannot be exclusive: keep the locks in a bucket that was never versioned",
					Kind:    apierr.ErrInvalid}
			}
			return nil
		}
		ae := o.toAPIError(ctx, "PutObject", objectWhere(bucket, key), err)
		if ae.Code == "FileAlreadyExists" || (ae.HTTPStatus == http.StatusConflict && errors.Is(ae, apierr.ErrConflict)) {
			exists = true
			return nil
		}
		retried = true // a later attempt may meet the object this one stored
		return ae
	}, bucket)
	if err != nil {
		return false, err
	}
	if !exists {
		return true, nil
	}
	if retried {
		got, gerr := o.Get(ctx, bucket, key, int64(len(data))+1)
		if gerr == nil && bytes.Equal(got, data) {
			return true, nil
		}
	}
	return false, nil
}

// Delete removes an object; a missing object is not an error (OSS answers
// 204 either way; a NoSuchKey answer is mapped to nil as well).
func (o *OSS) Delete(ctx context.Context, bucket, key string) error {
	err := o.run(ctx, "DeleteObject", objectWhere(bucket, key), func(b *oss.Bucket) error {
		return b.DeleteObject(key, oss.WithContext(ctx))
	}, bucket)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == "NoSuchKey" {
		return nil
	}
	return err
}

// LockStore adapts o to the lease lock's store (its List gives lease.Object).
func LockStore(o *OSS) lease.Store {
	return lease.Adapt(o, func(i ObjectInfo) lease.Object { return lease.Object{Key: i.Key, LastModified: i.LastModified} })
}
