package main

import (
	"path/filepath"
	"testing"
)

func TestLoadSYAML(t *testing.T) {
	env := map[string]string{"CERT_BUCKET": "demo-bucket", "REGION": "cn-beijing"}
	res, err := loadSYAML(filepath.Join("..", "..", "..", "s.yaml"), func(k string) string { return env[k] }, map[string]string{"SLB_ENDPOINT": "http://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]FunctionSpec{}
	for _, r := range res {
		by[r.Resource] = r.Spec
	}
	tests := []struct {
		resource, name string
		timeout        int
		triggerType    string
	}{
		{"rotate-on-upload", "slb-cert-rotate-on-upload", 120, "oss"},
		{"expiry-check", "slb-cert-expiry-check", 600, "timer"},
		{"provision", "slb-cert-provision", 300, ""},
	}
	for _, tc := range tests {
		t.Run(tc.resource, func(t *testing.T) {
			s, ok := by[tc.resource]
			if !ok {
				t.Fatalf("no resource %s", tc.resource)
			}
			if s.Name != tc.name || s.Timeout != tc.timeout || s.MemoryMB != 128 {
				t.Errorf("spec %+v", s)
			}
			if filepath.Base(s.Binary) != "bootstrap" || filepath.Base(filepath.Dir(s.Binary)) != tc.resource {
				t.Errorf("binary %s", s.Binary)
			}
			if s.Env["CERT_BUCKET"] != "demo-bucket" || s.Env["SLB_ENDPOINT"] != "http://127.0.0.1:9" || s.Env["CERT_PREFIX"] != "certs/" {
				t.Errorf("env %v", s.Env)
			}
			if tc.triggerType == "" {
				if len(s.Triggers) != 0 {
					t.Errorf("triggers %v", s.Triggers)
				}
				return
			}
			if len(s.Triggers) != 1 || s.Triggers[0].Type != tc.triggerType {
				t.Fatalf("triggers %+v", s.Triggers)
			}
		})
	}
	for name, want := range map[string]int{"rotate-on-upload": 2, "expiry-check": 1, "provision": -1} {
		if got := by[name].AsyncRetries; got != want {
			t.Errorf("%s AsyncRetries %d, want %d", name, got, want)
		}
	}
	oss := by["rotate-on-upload"].Triggers[0].OSS
	if oss == nil || oss.BucketName != "demo-bucket" || oss.Prefix != "certs/" || oss.Suffix != ".pem" || len(oss.Events) != 4 {
		t.Errorf("oss trigger %+v", oss)
	}
	timer := by["expiry-check"].Triggers[0].Timer
	if timer == nil || timer.CronExpression != "CRON_TZ=Asia/Shanghai 0 0 3 * * *" || !timer.Enable || timer.Payload == "" {
		t.Errorf("timer trigger %+v", timer)
	}
}

func TestRenderStringErrors(t *testing.T) {
	if _, err := renderString("${vars.nope}", func(string) string { return "" }, map[string]any{}); err == nil {
		t.Error("unknown var rendered without error")
	}
	got, err := renderString("a-${env('X', 'd')}-${vars.b.c}", func(string) string { return "" }, map[string]any{"b": map[string]any{"c": 7}})
	if err != nil || got != "a-d-7" {
		t.Errorf("got %v, %v", got, err)
	}
}
