package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
)

// TestProjectSYAML checks what the demo deploys from the project's s.yaml:
// the three resources, their timeouts, retries and triggers, and that the
// demo's environment reaches every function.
func TestProjectSYAML(t *testing.T) {
	env := map[string]string{"CERT_BUCKET": "demo-bucket", "REGION": "cn-beijing", "SLB_ENDPOINT": "http://127.0.0.1:9"}
	specs, err := fcrt.LoadSYAML(filepath.Join("..", "..", "..", "s.yaml"), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]fcrt.FunctionSpec{}
	for _, s := range specs {
		by[s.Resource] = s
	}
	tests := []struct {
		resource, name string
		timeout        time.Duration
		triggerType    string
		asyncRetries   int
	}{
		{"rotate-on-upload", "slb-cert-rotate-on-upload", 120 * time.Second, "oss", 2},
		{"expiry-check", "slb-cert-expiry-check", 600 * time.Second, "timer", 1},
		{"provision", "slb-cert-provision", 300 * time.Second, "", -1},
	}
	for _, tc := range tests {
		t.Run(tc.resource, func(t *testing.T) {
			s, ok := by[tc.resource]
			if !ok {
				t.Fatalf("no resource %s in s.yaml", tc.resource)
			}
			if s.Name != tc.name || s.Timeout != tc.timeout || s.MemoryMB != 128 || s.AsyncRetries != tc.asyncRetries {
				t.Errorf("spec = %+v, want name %s timeout %s memory 128 asyncRetries %d", s, tc.name, tc.timeout, tc.asyncRetries)
			}
			if filepath.Base(s.Binary) != "bootstrap" || filepath.Base(filepath.Dir(s.Binary)) != tc.resource {
				t.Errorf("binary = %s, want dist/%s/bootstrap", s.Binary, tc.resource)
			}
			if s.Env["CERT_BUCKET"] != "demo-bucket" || s.Env["SLB_ENDPOINT"] != "http://127.0.0.1:9" || s.Env["CERT_PREFIX"] != "certs/" {
				t.Errorf("env = %v", s.Env)
			}
			if tc.triggerType == "" {
				if len(s.Triggers) != 0 {
					t.Errorf("triggers = %+v, want none", s.Triggers)
				}
				return
			}
			if len(s.Triggers) != 1 || s.Triggers[0].Type != tc.triggerType {
				t.Fatalf("triggers = %+v, want one %s trigger", s.Triggers, tc.triggerType)
			}
		})
	}
	oss := by["rotate-on-upload"].Triggers[0].OSS
	if oss.BucketName != "demo-bucket" || oss.Prefix != "certs/" || oss.Suffix != ".pem" || len(oss.Events) != 4 {
		t.Errorf("oss trigger = %+v", oss)
	}
	timer := by["expiry-check"].Triggers[0].Timer
	if timer.CronExpression != "CRON_TZ=Asia/Shanghai 0 0 3 * * *" || !timer.Enable || timer.Payload == "" {
		t.Errorf("timer trigger = %+v", timer)
	}
}
