package deploytest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/events"
)

var (
	md5ETag       = regexp.MustCompile(`^[0-9A-F]{32}(-[0-9]+)?$`)
	wantOSSEvents = map[string]bool{"ObjectCreated:PutObject": true, "ObjectCreated:PostObject": true, "ObjectCreated:CompleteMultipartUpload": true, "ObjectCreated:CopyObject": true}
)

// TestEvents decodes every sample under events/ the way the function that
// receives it does (the SDK's event types for OSS and timer payloads).
func TestEvents(t *testing.T) {
	root := repoRoot(t)
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/*.json (%v)", err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			switch {
			case strings.HasPrefix(name, "oss-"):
				seen["oss"] = true
				checkOSSEvent(t, data)
			case strings.HasPrefix(name, "timer"):
				seen["timer"] = true
				checkTimerEvent(t, data)
			case strings.HasPrefix(name, "provision"):
				seen["provision"] = true
				var obj map[string]any
				if err := json.Unmarshal(data, &obj); err != nil {
					t.Fatalf("not a JSON object: %v", err)
				}
				if len(obj) == 0 {
					t.Error("empty provision payload")
				}
			case strings.HasPrefix(name, "renew-"):
				seen["renew"] = true
				checkRenewEvent(t, data)
			default:
				t.Errorf("unknown sample %s: name it oss-*, timer*, provision* or renew-*", name)
			}
		})
	}
	for _, kind := range []string{"oss", "timer", "provision", "renew"} {
		if !seen[kind] {
			t.Errorf("no %s sample in events/", kind)
		}
	}
	for _, want := range []string{"oss-fullchain.json", "oss-privkey.json", "oss-bundle.json", "timer.json", "provision.json"} {
		if _, err := os.Stat(filepath.Join(root, "events", want)); err != nil {
			t.Errorf("events/%s: %v", want, err)
		}
	}
}

func checkOSSEvent(t *testing.T, data []byte) {
	t.Helper()
	var ev events.OssEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("decode OssEvent: %v", err)
	}
	if len(ev.Events) != 1 {
		t.Fatalf("%d records, want 1 (FC delivers one per invocation)", len(ev.Events))
	}
	r := ev.Events[0]
	if r == nil || r.EventName == nil || r.EventSource == nil || r.EventTime == nil || r.EventVersion == nil ||
		r.Oss == nil || r.Region == nil || r.RequestParameters == nil || r.RequestParameters.SourceIPAddress == nil ||
		r.ResponseElements == nil || r.ResponseElements.RequestID == nil || r.UserIdentity == nil || r.UserIdentity.PrincipalID == nil {
		t.Fatalf("record has nil fields: %s", data)
	}
	o := r.Oss
	if o.Bucket == nil || o.Bucket.Arn == nil || o.Bucket.Name == nil || o.Bucket.OwnerIdentity == nil || o.Bucket.VirtualBucket == nil ||
		o.Object == nil || o.Object.DeltaSize == nil || o.Object.ETag == nil || o.Object.Key == nil || o.Object.Size == nil ||
		o.OssSchemaVersion == nil {
		t.Fatalf("oss block has nil fields: %s", data)
	}
	if !wantOSSEvents[*r.EventName] {
		t.Errorf("eventName %q is not one the trigger subscribes to (no oss: prefix in payloads)", *r.EventName)
	}
	if *r.EventSource != "acs:oss" || *r.EventVersion != "1.0" || *o.OssSchemaVersion != "1.0" {
		t.Errorf("eventSource/eventVersion/ossSchemaVersion = %q/%q/%q", *r.EventSource, *r.EventVersion, *o.OssSchemaVersion)
	}
	if want := "acs:oss:" + *r.Region + ":" + *o.Bucket.OwnerIdentity + ":" + *o.Bucket.Name; *o.Bucket.Arn != want {
		t.Errorf("bucket arn %q, want %q", *o.Bucket.Arn, want)
	}
	if !md5ETag.MatchString(*o.Object.ETag) {
		t.Errorf("eTag %q: want unquoted upper-case MD5 hex", *o.Object.ETag)
	}
	key := *o.Object.Key
	if !strings.HasPrefix(key, "certs/") || !strings.HasSuffix(key, ".pem") {
		t.Errorf("key %q does not match the trigger filter certs/ *.pem", key)
	}
	if strings.Contains(key, "%") || strings.Contains(key, "+") {
		t.Errorf("key %q looks URL-encoded; FC delivers the raw key", key)
	}
	if *o.Object.Size <= 0 {
		t.Errorf("size %d", *o.Object.Size)
	}
}

func checkTimerEvent(t *testing.T, data []byte) {
	t.Helper()
	var ev events.TimerEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatalf("decode TimerEvent: %v", err)
	}
	if ev.TriggerTime == nil || ev.TriggerName == nil || ev.Payload == nil {
		t.Fatalf("nil fields in %s", data)
	}
	var payload map[string]any
	if err := json.Unmarshal([]byte(*ev.Payload), &payload); err != nil {
		t.Fatalf("payload is not a JSON object string: %v", err)
	}
	if _, ok := payload["warnDays"]; !ok {
		t.Errorf("payload lacks warnDays: %s", *ev.Payload)
	}
}

// checkRenewEvent: a renew-certificates sample is its timer event (payload
// "{}") or a manual invoke {"name": "<pair>"}.
func checkRenewEvent(t *testing.T, data []byte) {
	t.Helper()
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		t.Fatalf("not a JSON object: %v", err)
	}
	if _, ok := obj["triggerTime"]; ok {
		var ev events.TimerEvent
		if err := json.Unmarshal(data, &ev); err != nil || ev.TriggerName == nil || ev.Payload == nil {
			t.Fatalf("decode TimerEvent: %v (%s)", err, data)
		}
		return
	}
	var name string
	if err := json.Unmarshal(obj["name"], &name); err != nil || name == "" || len(obj) != 1 {
		t.Errorf("a manual invoke is {\"name\": \"<pair>\"}, got %s", data)
	}
}
