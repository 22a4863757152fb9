// Package aliyun holds the adapters over the Alibaba Cloud SDKs: SLB
// (Classic Load Balancer, API 2014-05-15), ALB (2020-06-16), NLB
// (2022-04-30) and CAS (2020-04-07) over alibaba-cloud-sdk-go and object
// storage over aliyun-oss-go-sdk. It is the only package of the product
// that imports those SDKs.
//
// Every adapter method takes ctx first, converts SDK responses into plain
// types (package clb's for SLB, LBInstance, LBListener, ListenerCertificate
// and CASCertificate for the others), retries transient failures itself (exponential
// backoff with full jitter, bounded by attempts and the ctx deadline) and
// reports the rest as *APIError, which answers errors.Is for the kinds of
// package apierr. Error texts are built by this package and never contain
// request parameters, the access key secret or the security token.
package aliyun
