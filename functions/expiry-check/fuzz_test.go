package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/expiry"
)

// fuzzRegion is what a normalised region id looks like.
var fuzzRegion = regexp.MustCompile(`^[a-z0-9-]+$`)

// FuzzParseTimerPayload decodes arbitrary bytes as the expiry check's
// invocation event (a timer event whose payload is a JSON string, or a
// manual request). It must never panic; an error names where the problem
// is (event, payload or the defaults, then the field); a decoded request
// is normalised: thresholds within 1..3650 days, at least one region,
// region ids without blanks and without duplicates. Seeds: events/timer.json
// (when run inside the repository) and hand-made edge cases.
//
//	go test -run '^$' -fuzz '^FuzzParseTimerPayload$' -fuzztime 30s ./functions/expiry-check/
func FuzzParseTimerPayload(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "events", "timer.json")); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `1`, `{"triggerTime":"2026-11-28T19:00:00Z","triggerName":"t"}`,
		`{"triggerName":"t","payload":""}`, `{"triggerName":"t","payload":null}`, `{"triggerName":"t","payload":1}`,
		`{"triggerName":"t","payload":"{\"warnDays\":[]}"}`, `{"triggerName":"t","payload":"{\"warnDays\":[0]}"}`,
		`{"triggerName":"t","payload":"{\"regions\":[\" cn-hangzhou \",\"cn-hangzhou\"]}"}`,
		`{"triggerName":"t","payload":"{\"warnDays\":[30]} trailing"}`, `{"triggerName":"t","payload":"{\"unknown\":1}"}`,
		`{"warnDays":[45,30,14,7,3,1],"autoRotate":true,"probe":false,"regions":["cn-zhangjiakou"]}`,
		`{"warnDays":"30"}`, `{"warnDays":[1e400]}`, `{"regions":[]}`, `{"regions":["../x"]}`, `{"autoRotate":"yes"}`,
		`{"warnDays":[3651]}`, `{"triggerName":"t","payload":"{\"warnDays\":[30],\"warnDays\":[7]}"}`, `{"a":`,
	} {
		f.Add([]byte(s))
	}
	defaults := expiry.Request{WarnDays: []int{30, 7}, Regions: []string{"cn-zhangjiakou"}}
	f.Fuzz(func(t *testing.T, raw []byte) {
		req, err := ParseEvent(raw, defaults)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "event") && !strings.HasPrefix(msg, "payload") && !strings.HasPrefix(msg, "defaults") {
				t.Fatalf("ParseEvent(%q): error %q does not name the event, the payload or the defaults", raw, msg)
			}
			return
		}
		if len(req.WarnDays) == 0 {
			t.Fatalf("ParseEvent(%q): no thresholds", raw)
		}
		for _, d := range req.WarnDays {
			if d < 1 || d > 3650 {
				t.Fatalf("ParseEvent(%q): threshold %d out of 1..3650", raw, d)
			}
		}
		if len(req.Regions) == 0 {
			t.Fatalf("ParseEvent(%q): no regions", raw)
		}
		seen := map[string]bool{}
		for _, r := range req.Regions {
			if !fuzzRegion.MatchString(r) || seen[r] {
				t.Fatalf("ParseEvent(%q): regions %q are not normalised", raw, req.Regions)
			}
			seen[r] = true
		}
	})
}
