package reliability

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// FuzzDecodeOSSEvent decodes arbitrary bytes the way rotate-on-upload does
// (the SDK's events.OssEvent, every pointer checked) and resolves each
// record's key with pairs.ParseKey. It must never panic, and a key that
// ParseKey accepts must be under the prefix, name a pair without path
// tricks, and keep the layout rules. Seeds: the repository's events/oss-*.json
// (when run from the repository) and hand-made edge cases.
//
//	go test -run '^$' -fuzz FuzzDecodeOSSEvent -fuzztime 30s ./reliability/
func FuzzDecodeOSSEvent(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "events", "oss-*.json"))
	for _, p := range seeds {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		`{"events":[{"eventName":"ObjectCreated:PutObject","oss":{"bucket":{"name":"b"},"object":{"key":"certs/www/fullchain.pem"}}}]}`,
		`{"events":[null]}`, `{"events":[{}]}`, `{"events":[{"oss":{}}]}`, `{"events":[{"oss":{"object":{"key":"certs/../x.pem"}}}]}`,
		`{"events":"x"}`, `{"events":[{"eventName":1}]}`, `null`, `[]`, ``,
		`{"events":[{"eventName":"ObjectCreated:PutObject","oss":{"bucket":{"name":"b"},"object":{"key":"certs/a/b/c.pem"}}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.OssEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return
		}
		for _, rec := range ev.Events {
			if rec == nil || rec.Oss == nil || rec.Oss.Object == nil || rec.Oss.Object.Key == nil {
				continue
			}
			key := *rec.Oss.Object.Key
			ref, ok := pairs.ParseKey(rotation.DefaultPrefix, key)
			if !ok {
				continue
			}
			rest := strings.TrimPrefix(key, rotation.DefaultPrefix)
			switch {
			case !strings.HasPrefix(key, rotation.DefaultPrefix):
				t.Fatalf("ParseKey accepted %q outside the prefix", key)
			case ref.Name == "" || ref.Name == "." || ref.Name == ".." || strings.Contains(ref.Name, "/"):
				t.Fatalf("ParseKey(%q) gave the unsafe pair name %q", key, ref.Name)
			case ref.Layout == pairs.LayoutBundle && rest != ref.Name+".pem":
				t.Fatalf("ParseKey(%q): bundle %q does not match the key", key, ref.Name)
			case ref.Layout == pairs.LayoutDir && (rest != ref.Name+"/"+ref.File || strings.Contains(ref.File, "/")):
				t.Fatalf("ParseKey(%q): dir layout name %q file %q does not match the key", key, ref.Name, ref.File)
			}
		}
	})
}
