package fclog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

func decode(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestRequestIDFromFCContext(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, slog.LevelInfo)
	ctx := fccontext.NewContext(context.Background(), &fccontext.FcContext{
		RequestID: "req-123",
		Function:  fccontext.Function{Name: "rotate-on-upload"},
	})
	log.InfoContext(ctx, "rotated", "cert_id", "c-1")
	log.Info("no context")
	log.With("region", "cn-hangzhou").WithGroup("g").InfoContext(ctx, "grouped", "k", "v")
	recs := decode(t, &buf)
	if len(recs) != 3 {
		t.Fatalf("got %d records, want 3", len(recs))
	}
	if recs[0]["request_id"] != "req-123" || recs[0]["function_name"] != "rotate-on-upload" || recs[0]["cert_id"] != "c-1" {
		t.Errorf("record 0 = %v", recs[0])
	}
	if _, ok := recs[1]["request_id"]; ok {
		t.Errorf("record without FC context has request_id: %v", recs[1])
	}
	if recs[2]["region"] != "cn-hangzhou" {
		t.Errorf("record 2 lost WithAttrs: %v", recs[2])
	}
	if g, ok := recs[2]["g"].(map[string]any); !ok || g["request_id"] != "req-123" {
		t.Errorf("record 2 = %v, want request_id under group g", recs[2])
	}
}

func TestLevel(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, ParseLevel("warn"))
	log.Info("dropped")
	log.Warn("kept")
	recs := decode(t, &buf)
	if len(recs) != 1 || recs[0]["msg"] != "kept" {
		t.Errorf("records = %v, want only the warning", recs)
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
	}{
		{"debug", slog.LevelDebug}, {"INFO", slog.LevelInfo}, {"warn", slog.LevelWarn},
		{"Warning", slog.LevelWarn}, {"error", slog.LevelError}, {"", slog.LevelInfo}, {"nonsense", slog.LevelInfo},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := ParseLevel(tc.in); got != tc.want {
				t.Errorf("ParseLevel(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

const pemKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"

func TestRedact(t *testing.T) {
	tests := []struct {
		name    string
		attr    slog.Attr
		redact  bool
		leakStr string
	}{
		{"access_key_secret", slog.String("access_key_secret", "AKS-123"), true, "AKS-123"},
		{"security_token", slog.String("security_token", "TOK-456"), true, "TOK-456"},
		{"private_key", slog.String("private_key", "xyz"), true, "xyz"},
		{"notify secret", slog.String("notify_secret", "nsec"), true, "nsec"},
		{"sign", slog.String("sign", "sig-789"), true, "sig-789"},
		{"PEM value under an innocent key", slog.String("body", "x "+pemKey), true, "MIIEpAIBAAKCAQEA"},
		{"PEM in an error", slog.Any("error", errors.New("bad: "+pemKey)), true, "MIIEpAIBAAKCAQEA"},
		{"ordinary key kept", slog.String("cert_id", "c-1"), false, ""},
		{"certificate kept", slog.String("fingerprint", "aa:bb"), false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			New(&buf, slog.LevelInfo).Info("m", tc.attr)
			out := buf.String()
			if tc.redact {
				if !strings.Contains(out, Redacted) || strings.Contains(out, tc.leakStr) {
					t.Errorf("not redacted: %s", out)
				}
			} else if strings.Contains(out, Redacted) {
				t.Errorf("redacted an ordinary attribute: %s", out)
			}
		})
	}
}

// TestRedactKeepsReasons: a rejection reason that talks about a key is
// logged as it is; only key material, here in the same line, is replaced.
func TestRedactKeepsReasons(t *testing.T) {
	const reason = "certs/example.com/privkey.pem: the private key (line 1) is encrypted (Proc-Type: 4,ENCRYPTED); Classic Load Balancer needs an unencrypted key"
	encrypted := "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0011\n\nSECRETBODY1\n-----END RSA PRIVATE KEY-----\n"
	tests := []struct {
		name string
		attr slog.Attr
		keep []string // text that must be logged
		leak []string // text that must not
	}{
		{"reason quoting Proc-Type", slog.String("reason", reason), []string{reason}, nil},
		{"reason as an error", slog.Any("error", errors.New(reason)), []string{reason}, nil},
		{"key inside a message", slog.String("reason", "bad: "+pemKey+" after"), []string{"bad: " + Redacted, "after"}, []string{"MIIEpAIBAAKCAQEA", "RSA PRIVATE KEY"}},
		{"encrypted key inside an error", slog.Any("error", errors.New("parse "+encrypted+"done")), []string{"parse " + Redacted + "\ndone"}, []string{"SECRETBODY1", "DEK-Info"}},
		{"key cut before its END", slog.String("detail", "got -----BEGIN PRIVATE KEY-----\nSECRETBODY2"), []string{"got " + Redacted}, []string{"SECRETBODY2"}},
		{"key cut before its BEGIN", slog.String("detail", "SECRETBODY3\n-----END PRIVATE KEY----- tail"), []string{Redacted + " tail"}, []string{"SECRETBODY3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			New(&buf, slog.LevelInfo).Info("m", tc.attr)
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatal(err)
			}
			got, _ := rec[tc.attr.Key].(string)
			for _, k := range tc.keep {
				if !strings.Contains(got, k) {
					t.Errorf("%s = %q, want it to contain %q", tc.attr.Key, got, k)
				}
			}
			for _, l := range tc.leak {
				if strings.Contains(buf.String(), l) {
					t.Errorf("key material %q logged: %s", l, buf.String())
				}
			}
		})
	}

	// The rejection of an encrypted key and the key itself in one line.
	var buf bytes.Buffer
	New(&buf, slog.LevelInfo).Warn("rotation", slog.String("status", "rejected"), slog.String("reason", reason), slog.String("object", encrypted))
	if !strings.Contains(buf.String(), `"reason":"`+strings.ReplaceAll(reason, `"`, `\"`)+`"`) {
		t.Errorf("reason not logged as is: %s", buf.String())
	}
	if strings.Contains(buf.String(), "SECRETBODY1") || !strings.Contains(buf.String(), `"object":"[REDACTED]`) {
		t.Errorf("key not redacted: %s", buf.String())
	}
}
