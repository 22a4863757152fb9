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
		triggers       int
		asyncRetries   int
	}{
		{"rotate-on-upload", "slb-cert-rotate-on-upload", 120 * time.Second, "oss", 3, 2},
		{"expiry-check", "slb-cert-expiry-check", 600 * time.Second, "timer", 1, 1},
		{"provision", "slb-cert-provision", 300 * time.Second, "", 0, -1},
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
			if len(s.Triggers) != tc.triggers {
				t.Fatalf("triggers = %+v, want %d %s triggers", s.Triggers, tc.triggers, tc.triggerType)
			}
			for _, tr := range s.Triggers {
				if tr.Type != tc.triggerType {
					t.Errorf("trigger %+v, want type %s", tr, tc.triggerType)
				}
			}
		})
	}
	for i, suffix := range []string{".pem", ".crt", ".key"} {
		oss := by["rotate-on-upload"].Triggers[i].OSS
		if oss.BucketName != "demo-bucket" || oss.Prefix != "certs/" || oss.Suffix != suffix || len(oss.Events) != 4 {
			t.Errorf("oss trigger %d = %+v, want suffix %s", i, oss, suffix)
		}
	}
	timer := by["expiry-check"].Triggers[0].Timer
	if timer.CronExpression != "CRON_TZ=Asia/Shanghai 0 0 3 * * *" || !timer.Enable || timer.Payload == "" {
		t.Errorf("timer trigger = %+v", timer)
	}
}
