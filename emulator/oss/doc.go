// Package oss is the OSS half of the local cloud: an http.Handler that speaks
// the subset of the Object Storage Service REST API the product and its tests
// use (PutObject, GetObject with Range, HeadObject, GetObjectMeta,
// DeleteObject, ListObjectsV2, object tagging, CopyObject, PutBucket,
// GetBucketInfo), path style (/<bucket>/<key>) as the official Go SDK sends it
// to an IP endpoint, with V1 and V4 signature checks (STS tokens included),
// OSS's ETag and CRC-64 headers and its XML errors.
//
// Writes are reported to OnWrite hooks as ObjectEvent values; package fcrt
// turns them into OSS trigger invocations.
package oss
