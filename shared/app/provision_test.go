package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

func TestPairLoaderWithoutBucketLeavesNamingThePairToItsCaller(t *testing.T) {
	_, err := pairLoader{}.LoadPair(context.Background(), "example.com", time.Now())
	if err == nil || !errors.Is(err, apierr.ErrInvalid) || !strings.Contains(err.Error(), "CERT_BUCKET is not set") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "example.com") {
		t.Errorf("err = %v: provisioning's prefix already names the pair", err)
	}
}

func TestRequestID(t *testing.T) {
	if got := RequestID(invocation("req-42")); got != "req-42" {
		t.Errorf("RequestID = %q, want req-42", got)
	}
	if got := RequestID(context.Background()); got != "" {
		t.Errorf("RequestID outside FC = %q, want empty", got)
	}
}
