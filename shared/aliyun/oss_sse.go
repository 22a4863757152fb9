package aliyun

import (
	"bytes"
	"context"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// sseAlgorithm is the server-side encryption secrets are written with
// (x-oss-server-side-encryption: AES256, keys managed by OSS).
const sseAlgorithm = "AES256"

// PutSecret is Put with server-side encryption (private keys, account keys).
func (o *OSS) PutSecret(ctx context.Context, bucket, key string, data []byte, contentType string) error {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return o.run(ctx, "PutObject", objectWhere(bucket, key), func(b *oss.Bucket) error {
		return b.PutObject(key, bytes.NewReader(data), oss.WithContext(ctx), oss.ContentType(contentType), oss.ServerSideEncryption(sseAlgorithm))
	}, bucket)
}

// PutSecretIfAbsent is PutIfAbsent with server-side encryption.
func (o *OSS) PutSecretIfAbsent(ctx context.Context, bucket, key string, data []byte, contentType string) (created bool, err error) {
	return o.putIfAbsent(ctx, bucket, key, data, contentType, oss.ServerSideEncryption(sseAlgorithm))
}
