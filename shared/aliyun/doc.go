// Package aliyun holds the adapters over the Alibaba Cloud SDKs: SLB
// (Classic Load Balancer, API 2014-05-15) over alibaba-cloud-sdk-go and
// object storage over aliyun-oss-go-sdk. It is the only package of the
// product that imports those SDKs.
//
// Every adapter method takes ctx first, converts SDK responses into the plain
// types of package clb, retries transient failures itself (exponential
// backoff with full jitter, bounded by attempts and the ctx deadline) and
// reports the rest as *APIError, which answers errors.Is for the kinds of
// package apierr. Error texts are built by this package and never contain
// request parameters, the access key secret or the security token.
package aliyun
