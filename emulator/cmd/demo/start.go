package main

import (
	"context"
	"errors"
)

// cloudHandle is what the demo needs from the local cloud.
type cloudHandle struct {
	FCEndpoint, SLBEndpoint, OSSEndpoint string
	AccessKeyID, AccessKeySecret         string
	// CreateBucket makes the certificate bucket (in-process, no API call).
	CreateBucket func(name, region string)
	// Close stops every listener and function process the cloud started.
	Close func() error
}

// errCloudPending is returned until package emulator provides Start.
var errCloudPending = errors.New("demo: the in-process local cloud (emulator.Start) is not available in this tree yet")

// startCloud starts the in-process local cloud.
func startCloud(ctx context.Context) (*cloudHandle, error) {
	_ = ctx
	return nil, errCloudPending
}
