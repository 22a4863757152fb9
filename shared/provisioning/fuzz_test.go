package provisioning_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/provisioning"
)

// FuzzProvisionPayload parses arbitrary bytes as a provisioning payload.
// Parse must never panic; a refusal is a *ValidationError (permanent:
// apierr.ErrInvalid) with at least one problem, each naming its JSON path
// and saying what is wrong; an accepted payload survives a round trip
// (encoding the Desired state and parsing it again gives the same encoding).
// Seeds: events/provision*.json (inside the repository) and testdata/*.json.
//
//	go test -run '^$' -fuzz '^FuzzProvisionPayload$' -fuzztime 30s ./shared/provisioning/
func FuzzProvisionPayload(f *testing.F) {
	var files []string
	for _, pattern := range []string{filepath.Join("..", "..", "events", "provision*.json"), filepath.Join("testdata", "*.json")} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{``, `null`, `{}`, `[]`, `"x"`, `{"action":"destroy"}`, `{"listeners":[null]}`,
		`{"backends":[{"weight":-1}]}`, `{"region":1}`, `{} {}`, `{"listeners":[{"frontendPort":1e99}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, err := provisioning.Parse(payload)
		if err != nil {
			var ve *provisioning.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, apierr.ErrInvalid) {
				t.Fatalf("Parse(%q): error %T %v is not a permanent *ValidationError", payload, err, err)
			}
			if len(ve.Problems) == 0 {
				t.Fatalf("Parse(%q): a refusal without a problem", payload)
			}
			for _, p := range ve.Problems {
				// An unknown field is reported under its own name, which may
				// be blank ({"": 0}, {"  ": 0}): then the message names it.
				blankKey := strings.HasPrefix(p.Message, "unknown field")
				if (strings.TrimSpace(p.Path) == "" && !blankKey) || strings.TrimSpace(p.Message) == "" {
					t.Fatalf("Parse(%q): problem %+v does not name its field or its fault", payload, p)
				}
			}
			return
		}
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("Parse(%q) gave a Desired that does not encode: %v", payload, err)
		}
		again, err := provisioning.Parse(b)
		if err != nil {
			t.Fatalf("Parse(%q) accepted, but its own encoding %s is refused: %v", payload, b, err)
		}
		// Compared encoded: an empty list and an absent one are the same state.
		if b2, _ := json.Marshal(again); !bytes.Equal(b, b2) {
			t.Fatalf("Parse(%q): round trip changed the state:\n%s\n%s", payload, b, b2)
		}
	})
}
