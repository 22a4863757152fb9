package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

const secret = "SECtopsecret-do-not-leak"

var fixedNow = time.Date(2026, 11, 28, 19, 0, 0, 0, time.UTC)

var sample = Message{
	Title:    "Expiry check",
	Summary:  "2 certificates expire soon",
	Lines:    []string{"www.example.com expires 2026-12-05 (7 days)", "api.example.com expires 2026-12-29 (30 days)"},
	Severity: SeverityWarning,
}

// captured is one request a fake robot received.
type captured struct {
	path, query string
	header      http.Header
	body        []byte
}

// robot starts a local server answering reply with status and recording
// every request.
func robot(t *testing.T, status int, reply string) (*httptest.Server, func() []captured) {
	t.Helper()
	var mu sync.Mutex
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, captured{path: r.URL.Path, query: r.URL.RawQuery, header: r.Header.Clone(), body: b})
		mu.Unlock()
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured { mu.Lock(); defer mu.Unlock(); return append([]captured(nil), got...) }
}

func hmacB64(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestFormatsAndSignatures(t *testing.T) {
	now := func() time.Time { return fixedNow }
	tests := []struct {
		kind   string
		path   string // path + query of the configured URL
		secret string
		reply  string
		check  func(t *testing.T, c captured)
	}{
		{
			kind: KindDingTalk, path: "/robot/send?access_token=tok123", secret: secret, reply: `{"errcode":0,"errmsg":"ok"}`,
			check: func(t *testing.T, c captured) {
				q := parseQuery(t, c.query)
				if q["access_token"] != "tok123" {
					t.Errorf("access_token lost: %q", c.query)
				}
				wantTS := strconv.FormatInt(fixedNow.UnixMilli(), 10)
				if q["timestamp"] != wantTS {
					t.Errorf("timestamp = %q, want %q (milliseconds)", q["timestamp"], wantTS)
				}
				if want := hmacB64(secret, wantTS+"\n"+secret); q["sign"] != want {
					t.Errorf("sign = %q, want %q", q["sign"], want)
				}
				var b struct {
					MsgType  string `json:"msgtype"`
					Markdown struct{ Title, Text string }
				}
				mustJSON(t, c.body, &b)
				if b.MsgType != "markdown" || !strings.Contains(b.Markdown.Title, "Expiry check") ||
					!strings.Contains(b.Markdown.Text, "- www.example.com expires 2026-12-05 (7 days)") {
					t.Errorf("body = %s", c.body)
				}
			},
		},
		{
			kind: KindDingTalk, path: "/robot/send?access_token=tok123", reply: `{"errcode":0,"errmsg":"ok"}`,
			check: func(t *testing.T, c captured) {
				if c.query != "access_token=tok123" {
					t.Errorf("unsigned robot got query %q", c.query)
				}
			},
		},
		{
			kind: KindFeishu, path: "/open-apis/bot/v2/hook/abc", secret: secret, reply: `{"code":0,"msg":"success","data":{}}`,
			check: func(t *testing.T, c captured) {
				var b struct {
					Timestamp string `json:"timestamp"`
					Sign      string `json:"sign"`
					MsgType   string `json:"msg_type"`
					Content   struct {
						Text string `json:"text"`
					} `json:"content"`
				}
				mustJSON(t, c.body, &b)
				wantTS := strconv.FormatInt(fixedNow.Unix(), 10)
				if b.Timestamp != wantTS {
					t.Errorf("timestamp = %q, want %q (seconds, as a string)", b.Timestamp, wantTS)
				}
				if want := hmacB64(wantTS+"\n"+secret, ""); b.Sign != want {
					t.Errorf("sign = %q, want %q", b.Sign, want)
				}
				if b.MsgType != "text" || !strings.HasPrefix(b.Content.Text, "[WARNING] Expiry check\n2 certificates expire soon\n- www") {
					t.Errorf("body = %s", c.body)
				}
			},
		},
		{
			kind: KindWeCom, path: "/cgi-bin/webhook/send?key=k-1", secret: secret, reply: `{"errcode":0,"errmsg":"ok"}`,
			check: func(t *testing.T, c captured) {
				var b struct {
					MsgType  string `json:"msgtype"`
					Markdown struct {
						Content string `json:"content"`
					} `json:"markdown"`
				}
				mustJSON(t, c.body, &b)
				if b.MsgType != "markdown" || !strings.Contains(b.Markdown.Content, "**[WARNING] Expiry check**") {
					t.Errorf("body = %s", c.body)
				}
				if c.query != "key=k-1" {
					t.Errorf("query = %q", c.query)
				}
			},
		},
		{
			kind: KindSlack, path: "/services/T0/B0/X0", reply: "ok",
			check: func(t *testing.T, c captured) {
				var b map[string]string
				mustJSON(t, c.body, &b)
				if len(b) != 1 || !strings.Contains(b["text"], "api.example.com expires 2026-12-29") {
					t.Errorf("body = %s", c.body)
				}
			},
		},
		{
			kind: KindWebhook, path: "/hooks/certs", secret: secret, reply: "",
			check: func(t *testing.T, c captured) {
				if want := "sha256=" + hexHMAC(secret, c.body); c.header.Get(HeaderSignature) != want {
					t.Errorf("%s = %q, want %q", HeaderSignature, c.header.Get(HeaderSignature), want)
				}
				if c.header.Get(HeaderTimestamp) != strconv.FormatInt(fixedNow.Unix(), 10) {
					t.Errorf("%s = %q", HeaderTimestamp, c.header.Get(HeaderTimestamp))
				}
				var b webhookBody
				mustJSON(t, c.body, &b)
				if b.Title != sample.Title || b.Severity != SeverityWarning || len(b.Lines) != 2 || b.Timestamp != fixedNow.Unix() || b.Text != Plain(sample) {
					t.Errorf("body = %s", c.body)
				}
			},
		},
		{
			kind: KindWebhook, path: "/hooks/certs", reply: "",
			check: func(t *testing.T, c captured) {
				if c.header.Get(HeaderSignature) != "" {
					t.Errorf("unsigned webhook sent %s", HeaderSignature)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/signed="+strconv.FormatBool(tt.secret != ""), func(t *testing.T) {
			srv, got := robot(t, http.StatusOK, tt.reply)
			n, err := New(tt.kind, srv.URL+tt.path, tt.secret, srv.Client(), now)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Notify(context.Background(), sample); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			reqs := got()
			if len(reqs) != 1 {
				t.Fatalf("robot got %d requests, want 1", len(reqs))
			}
			if ct := reqs[0].header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			tt.check(t, reqs[0])
		})
	}
}

func TestRefusalsAreErrorsWithoutSecrets(t *testing.T) {
	tests := []struct {
		kind, path, reply string
		status            int
		want              string
	}{
		{KindDingTalk, "/robot/send?access_token=SECRETTOKEN", `{"errcode":310000,"errmsg":"sign not match"}`, 200, "errcode 310000"},
		{KindWeCom, "/cgi-bin/webhook/send?key=SECRETTOKEN", `{"errcode":93000,"errmsg":"invalid webhook url"}`, 200, "errcode 93000"},
		{KindFeishu, "/open-apis/bot/v2/hook/x?SECRETTOKEN=1", `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, 200, "code 19021"},
		{KindFeishu, "/open-apis/bot/v2/hook/x?SECRETTOKEN=1", `{"StatusCode":1}`, 200, "StatusCode 1"},
		{KindSlack, "/services/x?SECRETTOKEN=1", "invalid_payload", 400, "HTTP 400"},
		{KindWebhook, "/hooks?SECRETTOKEN=1", "boom", 500, "HTTP 500"},
		{KindDingTalk, "/robot/send?access_token=SECRETTOKEN", `<html>`, 200, "unreadable reply"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.want, func(t *testing.T) {
			srv, _ := robot(t, tt.status, tt.reply)
			n, err := New(tt.kind, srv.URL+tt.path, secret, srv.Client(), func() time.Time { return fixedNow })
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(context.Background(), sample)
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "notify "+tt.kind) {
				t.Errorf("error %q does not contain %q", msg, tt.want)
			}
			for _, leak := range []string{secret, "SECRETTOKEN", "sign=", "timestamp="} {
				if strings.Contains(msg, leak) {
					t.Errorf("error leaks %q: %s", leak, msg)
				}
			}
		})
	}
}

func TestTransportErrorHidesQuery(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/robot/send?access_token=SECRETTOKEN"
	srv.Close() // nothing listens any more: the dial fails
	n, err := New(KindDingTalk, url, secret, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), sample)
	if err == nil {
		t.Fatal("Notify to a closed port succeeded")
	}
	if strings.Contains(err.Error(), "SECRETTOKEN") || strings.Contains(err.Error(), "sign=") {
		t.Errorf("error leaks the URL query: %v", err)
	}
	if !strings.Contains(err.Error(), "/robot/send") {
		t.Errorf("error does not name the endpoint: %v", err)
	}
}

func TestErrorsHidePathTokens(t *testing.T) {
	// Slack and Feishu webhook URLs carry their token in the path.
	for kind, path := range map[string]string{
		KindSlack:  "/services/T000/B000/PATHTOKEN",
		KindFeishu: "/open-apis/bot/v2/hook/PATHTOKEN",
	} {
		t.Run(kind, func(t *testing.T) {
			srv, _ := robot(t, 500, "boom")
			n, err := New(kind, srv.URL+path, "", srv.Client(), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(context.Background(), sample)
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			if strings.Contains(err.Error(), "PATHTOKEN") {
				t.Errorf("error leaks the path token: %v", err)
			}
			if !strings.Contains(err.Error(), strings.TrimPrefix(srv.URL, "http://")) {
				t.Errorf("error does not name the host: %v", err)
			}
		})
	}
}

// TestWebhookPathNeverShown: a generic webhook's URL path can be its token:
// no error names it, whether the endpoint answers an error page that
// echoes the request, refuses the connection or is unreachable.
func TestWebhookPathNeverShown(t *testing.T) {
	const path = "/hooks/SECRET-PATH-TOKEN"
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no route for POST "+r.URL.Path+"?"+r.URL.RawQuery, http.StatusNotFound)
	}))
	t.Cleanup(echo.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		base string
		kind string
	}{
		{"error page echoing the path", echo.URL, KindWebhook},
		{"connection refused", closed.URL, KindWebhook},
		{"slack error page echoing the path", echo.URL, KindSlack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := New(tt.kind, tt.base+path+"?sig=QUERYTOKEN", "", echo.Client(), nil)
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(context.Background(), sample)
			if err == nil {
				t.Fatal("Notify succeeded, want an error")
			}
			for _, secret := range []string{"SECRET-PATH-TOKEN", "QUERYTOKEN"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %s: %v", secret, err)
				}
			}
			if !strings.Contains(err.Error(), strings.TrimPrefix(tt.base, "http://")) {
				t.Errorf("error does not name the host: %v", err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, kind, url string
		wantNop         bool
		wantErr         bool
	}{
		{"no url is nop", "dingtalk", "", true, false},
		{"no url no kind is nop", "", "  ", true, false},
		{"unknown kind", "telegram", "http://127.0.0.1:1/x", false, true},
		{"missing kind", "", "http://127.0.0.1:1/x", false, true},
		{"relative url", "slack", "/hooks/x", false, true},
		{"ftp url", "slack", "ftp://127.0.0.1/x", false, true},
		{"kind case-insensitive", "Slack", "http://127.0.0.1:1/x", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := New(tt.kind, tt.url, secret, nil, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v is not ErrInvalid", err)
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks the secret: %v", err)
				}
				return
			}
			if _, isNop := n.(Nop); isNop != tt.wantNop {
				t.Errorf("got %T, wantNop %v", n, tt.wantNop)
			}
			if err := n.Notify(context.Background(), sample); tt.wantNop && err != nil {
				t.Errorf("Nop.Notify = %v", err)
			}
		})
	}
}

func TestClipKeepsUTF8AndLimit(t *testing.T) {
	long := strings.Repeat("证书到期", 3000) // 3 bytes per rune
	for _, n := range []int{50, 4000, 4001, 4002} {
		got := clip(long, n)
		if len(got) > n {
			t.Errorf("clip(_, %d) = %d bytes", n, len(got))
		}
		if !utf8.ValidString(got) || !strings.HasSuffix(got, "(truncated)") {
			t.Errorf("clip(_, %d) is not valid UTF-8 with a mark", n)
		}
	}
	if clip("short", 10) != "short" {
		t.Error("clip changed a short string")
	}
}

func TestWeComMessageFitsLimit(t *testing.T) {
	srv, got := robot(t, 200, `{"errcode":0,"errmsg":"ok"}`)
	m := sample
	for i := 0; i < 500; i++ {
		m.Lines = append(m.Lines, "lb-"+strconv.Itoa(i)+" serves a certificate that expires in 3 days")
	}
	n, _ := New(KindWeCom, srv.URL+"/cgi-bin/webhook/send?key=k", "", srv.Client(), nil)
	if err := n.Notify(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var b struct{ Markdown struct{ Content string } }
	mustJSON(t, got()[0].body, &b)
	if len(b.Markdown.Content) > 4096 {
		t.Errorf("wecom markdown is %d bytes, the robot's limit is 4096", len(b.Markdown.Content))
	}
}

func TestPlainAndMarkdown(t *testing.T) {
	m := Message{Title: "Rotated", Summary: "s", Lines: []string{"a", "b"}, Severity: SeverityCritical}
	if got, want := Plain(m), "[CRITICAL] Rotated\ns\n- a\n- b"; got != want {
		t.Errorf("Plain = %q, want %q", got, want)
	}
	if got, want := Markdown(m), "**[CRITICAL] Rotated**\n\ns\n\n- a\n- b"; got != want {
		t.Errorf("Markdown = %q, want %q", got, want)
	}
	if got := Plain(Message{}); got != "slb-cert-rotator" {
		t.Errorf("Plain(empty) = %q", got)
	}
}

func TestKnownSignatureVectors(t *testing.T) {
	// Vectors computed independently (openssl dgst -sha256 -hmac) and kept
	// in testdata so that a change to the algorithm is noticed.
	raw, err := readFixture("signatures.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct{ Kind, Timestamp, Secret, Body, Want string }
	mustJSON(t, raw, &vs)
	for _, v := range vs {
		t.Run(v.Kind, func(t *testing.T) {
			var got string
			switch v.Kind {
			case KindDingTalk:
				got = DingTalkSign(v.Timestamp, v.Secret)
			case KindFeishu:
				got = FeishuSign(v.Timestamp, v.Secret)
			case KindWebhook:
				got = WebhookSign([]byte(v.Body), v.Secret)
			}
			if got != v.Want {
				t.Errorf("got %q, want %q", got, v.Want)
			}
		})
	}
}

func hexHMAC(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func parseQuery(t *testing.T, raw string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, kv := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(kv, "=")
		uv, err := urlUnescape(v)
		if err != nil {
			t.Fatalf("bad query %q: %v", raw, err)
		}
		out[k] = uv
	}
	return out
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
}
