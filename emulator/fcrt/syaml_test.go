package fcrt

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadSYAML(t *testing.T) {
	env := map[string]string{"CERT_BUCKET": "drop", "USER_NAME": "ops", "SLB_ENDPOINT": "http://127.0.0.1:1"}
	specs, err := LoadSYAML("testdata/s.yaml", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 {
		t.Fatalf("specs %+v", specs)
	}
	check, rotate := specs[0], specs[1]

	wantRotate := FunctionSpec{Name: "fx-rotate", Resource: "rotate", Handler: "bootstrap", Region: "cn-zhangjiakou", Binary: filepath.Join("testdata", "dist/rotate/bootstrap"),
		Timeout: 120 * time.Second, MemoryMB: 128, AsyncRetries: -1,
		Env: map[string]string{"CERT_BUCKET": "drop", "SLB_ENDPOINT": "http://127.0.0.1:1", "LOG_LEVEL": "info", "CONCURRENCY": "16"},
		Triggers: []TriggerSpec{{Name: "oss-upload", Type: "oss", OSS: OSSTrigger{BucketName: "drop",
			Events: []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:CopyObject"}, Prefix: "certs/", Suffix: ".pem"}}}}
	wantCheck := FunctionSpec{Name: "fx-check", Resource: "check", Handler: "main", Region: "cn-zhangjiakou", Binary: filepath.Join("testdata", "dist/check/main"),
		Timeout: 300 * time.Second, Initializer: true, Env: map[string]string{"GREETING": "hello ops"},
		Triggers: []TriggerSpec{{Name: "daily", Type: "timer", Timer: TimerConfig{CronExpression: "CRON_TZ=Asia/Shanghai 0 0 3 * * *", Payload: `{"warnDays":[30,7]}`, Enable: true}}}}
	for _, tc := range []struct {
		name      string
		got, want FunctionSpec
	}{{"rotate", rotate, wantRotate}, {"check", check, wantCheck}} {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := json.Marshal(tc.got)
			w, _ := json.Marshal(tc.want)
			if !bytes.Equal(g, w) {
				t.Fatalf("got  %s\nwant %s", g, w)
			}
		})
	}

	t.Run("missing env without default", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, "s.yaml")
		os.WriteFile(p, []byte("resources:\n  f:\n    props:\n      functionName: ${env('NOPE')}\n      code: ./x\n"), 0o644)
		if _, err := LoadSYAML(p, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "NOPE") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("project s.yaml", func(t *testing.T) {
		p := "../../s.yaml"
		if _, err := os.Stat(p); err != nil {
			t.Skip("project s.yaml not present")
		}
		specs, err := LoadSYAML(p, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, s := range specs {
			names = append(names, s.Name)
			if !strings.HasSuffix(s.Binary, "/bootstrap") {
				t.Errorf("%s: binary %s", s.Name, s.Binary)
			}
		}
		if len(specs) < 1 {
			t.Fatalf("no functions in %s", p)
		}
		t.Logf("project functions: %v", names)
	})
}
