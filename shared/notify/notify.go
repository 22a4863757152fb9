package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kinds of notifier that New accepts.
const (
	KindDingTalk = "dingtalk"
	KindFeishu   = "feishu"
	KindWeCom    = "wecom"
	KindSlack    = "slack"
	KindWebhook  = "webhook"
)

// Severities a Message can carry. They only change the wording of the
// headline; every kind accepts every severity.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Header names of the generic webhook.
const (
	// HeaderSignature carries "sha256=" + hex(HMAC-SHA256(secret, body)).
	HeaderSignature = "X-Signature"
	// HeaderTimestamp carries the Unix time in seconds at which the
	// message was signed; the same value is in the body's "timestamp".
	HeaderTimestamp = "X-Timestamp"
)

// ErrInvalid is returned by New for an unknown kind or an unusable URL.
var ErrInvalid = errors.New("notify: invalid configuration")

// maxResponse caps how much of a robot's reply is read.
const maxResponse = 64 << 10

// Message is what a notification says: a title, a one-line summary and a
// few detail lines (what changed, what expires when, what failed). It must
// never hold key material or credentials.
type Message struct {
	Title    string
	Summary  string
	Lines    []string
	Severity string
}

// Notifier delivers a Message.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Nop is the notifier used when no URL is configured: it accepts and drops
// every message.
type Nop struct{}

// Notify implements Notifier and does nothing.
func (Nop) Notify(context.Context, Message) error { return nil }

// New returns the notifier of the given kind posting to rawURL. An empty
// rawURL gives Nop (whatever the kind). secret, when set, signs the request
// the way the kind expects (wecom and slack have no signing: the secret is
// ignored there). client nil means a client with a 10 s timeout; now nil
// means time.Now.
func New(kind, rawURL, secret string, client *http.Client, now func() time.Time) (Notifier, error) {
	if strings.TrimSpace(rawURL) == "" {
		return Nop{}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: NOTIFY_URL must be an absolute http(s) URL", ErrInvalid)
	}
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	p := poster{kind: strings.ToLower(strings.TrimSpace(kind)), url: u, secret: secret, client: client, now: now}
	switch p.kind {
	case KindDingTalk, KindFeishu, KindWeCom, KindSlack, KindWebhook:
		return &p, nil
	case "":
		return nil, fmt.Errorf("%w: NOTIFY_KIND is required when NOTIFY_URL is set (dingtalk|feishu|wecom|slack|webhook)", ErrInvalid)
	default:
		return nil, fmt.Errorf("%w: NOTIFY_KIND %q is not one of dingtalk|feishu|wecom|slack|webhook", ErrInvalid, kind)
	}
}

// poster implements every kind: they differ only in body, signature and
// how the reply says "ok".
type poster struct {
	kind   string
	url    *url.URL
	secret string
	client *http.Client
	now    func() time.Time
}

// Notify implements Notifier.
func (p *poster) Notify(ctx context.Context, m Message) error {
	target := *p.url
	var (
		body    []byte
		headers = http.Header{"Content-Type": {"application/json; charset=utf-8"}}
		err     error
	)
	now := p.now()
	switch p.kind {
	case KindDingTalk:
		if p.secret != "" {
			ts := strconv.FormatInt(now.UnixMilli(), 10)
			q := target.Query()
			q.Set("timestamp", ts)
			q.Set("sign", DingTalkSign(ts, p.secret))
			target.RawQuery = q.Encode()
		}
		body, err = json.Marshal(map[string]any{
			"msgtype":  "markdown",
			"markdown": map[string]string{"title": clip(headline(m), 100), "text": clip(Markdown(m), 18000)},
		})
	case KindFeishu:
		payload := map[string]any{
			"msg_type": "text",
			"content":  map[string]string{"text": clip(Plain(m), 18000)},
		}
		if p.secret != "" {
			ts := strconv.FormatInt(now.Unix(), 10)
			payload["timestamp"] = ts
			payload["sign"] = FeishuSign(ts, p.secret)
		}
		body, err = json.Marshal(payload)
	case KindWeCom:
		body, err = json.Marshal(map[string]any{
			"msgtype":  "markdown",
			"markdown": map[string]string{"content": clip(Markdown(m), 4000)},
		})
	case KindSlack:
		body, err = json.Marshal(map[string]string{"text": clip(Plain(m), 35000)})
	case KindWebhook:
		ts := strconv.FormatInt(now.Unix(), 10)
		lines := m.Lines
		if lines == nil {
			lines = []string{}
		}
		body, err = json.Marshal(webhookBody{
			Title: m.Title, Summary: m.Summary, Lines: lines, Severity: severity(m),
			Text: Plain(m), Timestamp: now.Unix(),
		})
		if err == nil {
			headers.Set(HeaderTimestamp, ts)
			if p.secret != "" {
				headers.Set(HeaderSignature, "sha256="+WebhookSign(body, p.secret))
			}
		}
	}
	if err != nil {
		return fmt.Errorf("notify %s: encode message: %w", p.kind, err)
	}
	return p.post(ctx, &target, headers, body)
}

// webhookBody is the generic webhook's JSON document.
type webhookBody struct {
	Title     string   `json:"title"`
	Summary   string   `json:"summary"`
	Lines     []string `json:"lines"`
	Severity  string   `json:"severity"`
	Text      string   `json:"text"`
	Timestamp int64    `json:"timestamp"`
}

func (p *poster) post(ctx context.Context, target *url.URL, headers http.Header, body []byte) error {
	where := redact(p.kind, p.url)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify %s: build request to %s: %w", p.kind, where, unwrapURLError(err))
	}
	req.Header = headers
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("notify %s: post to %s: %w", p.kind, where, unwrapURLError(err))
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("notify %s: %s answered HTTP %d: %s", p.kind, where, resp.StatusCode, p.scrub(snippet(reply)))
	}
	if err := checkReply(p.kind, reply); err != nil {
		return fmt.Errorf("notify %s: %s refused the message: %s", p.kind, where, p.scrub(err.Error()))
	}
	return nil
}

// checkReply reads the robot's own status in a 200 reply: DingTalk and
// WeCom answer {"errcode":0,...}, Feishu {"code":0,...} (older bots
// {"StatusCode":0,...}); Slack answers "ok"; a generic webhook's 2xx is
// success.
func checkReply(kind string, reply []byte) error {
	switch kind {
	case KindDingTalk, KindWeCom:
		var r struct {
			ErrCode *int   `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if err := json.Unmarshal(reply, &r); err != nil || r.ErrCode == nil {
			return fmt.Errorf("unreadable reply: %s", snippet(reply))
		}
		if *r.ErrCode != 0 {
			return fmt.Errorf("errcode %d: %s", *r.ErrCode, clip(r.ErrMsg, 200))
		}
	case KindFeishu:
		var r struct {
			Code       *int   `json:"code"`
			Msg        string `json:"msg"`
			StatusCode *int   `json:"StatusCode"`
		}
		if err := json.Unmarshal(reply, &r); err != nil || (r.Code == nil && r.StatusCode == nil) {
			return fmt.Errorf("unreadable reply: %s", snippet(reply))
		}
		if r.Code != nil && *r.Code != 0 {
			return fmt.Errorf("code %d: %s", *r.Code, clip(r.Msg, 200))
		}
		if r.Code == nil && *r.StatusCode != 0 {
			return fmt.Errorf("StatusCode %d", *r.StatusCode)
		}
	case KindSlack:
		if s := strings.TrimSpace(string(reply)); s != "" && s != "ok" {
			return fmt.Errorf("reply %s", snippet(reply))
		}
	}
	return nil
}

// DingTalkSign is the DingTalk robot signature: url-safe query value of
// base64(HMAC-SHA256(key = secret, message = timestamp + "\n" + secret)),
// timestamp in milliseconds. The value returned is not yet URL-encoded
// (url.Values.Encode does it).
func DingTalkSign(timestampMillis, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestampMillis + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// FeishuSign is the Feishu custom bot signature:
// base64(HMAC-SHA256(key = timestamp + "\n" + secret, message = empty)),
// timestamp in seconds.
func FeishuSign(timestampSeconds, secret string) string {
	mac := hmac.New(sha256.New, []byte(timestampSeconds+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// WebhookSign is the generic webhook signature: hex(HMAC-SHA256(secret,
// body)). The header value is "sha256=" + WebhookSign(body, secret).
func WebhookSign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Plain renders the message as link-free plain text: the headline, the
// summary, then one "- " line per detail.
func Plain(m Message) string {
	var b strings.Builder
	b.WriteString(headline(m))
	if m.Summary != "" {
		b.WriteString("\n")
		b.WriteString(m.Summary)
	}
	for _, l := range m.Lines {
		b.WriteString("\n- ")
		b.WriteString(l)
	}
	return b.String()
}

// Markdown renders the message for the robots that take markdown
// (DingTalk, WeCom): a bold headline, the summary and a bullet list.
func Markdown(m Message) string {
	var b strings.Builder
	b.WriteString("**")
	b.WriteString(headline(m))
	b.WriteString("**\n\n")
	if m.Summary != "" {
		b.WriteString(m.Summary)
		b.WriteString("\n\n")
	}
	for _, l := range m.Lines {
		b.WriteString("- ")
		b.WriteString(l)
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func severity(m Message) string {
	if m.Severity == "" {
		return SeverityInfo
	}
	return m.Severity
}

func headline(m Message) string {
	title := m.Title
	if title == "" {
		title = "slb-cert-rotator"
	}
	switch severity(m) {
	case SeverityCritical:
		return "[CRITICAL] " + title
	case SeverityWarning:
		return "[WARNING] " + title
	default:
		return title
	}
}

// clip shortens s to at most n bytes on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "\n… (truncated)"
	cut := n - len(mark)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func snippet(b []byte) string {
	return strings.ToValidUTF8(clip(strings.TrimSpace(string(b)), 200), "?")
}

// redact names a URL without its query and fragment (DingTalk and WeCom
// carry their access token there) and without user info. Only DingTalk's
// and WeCom's fixed paths are shown: slack and feishu carry their token in
// the path (/services/T/B/<token>, /open-apis/bot/v2/hook/<token>), and a
// generic webhook's path may be its token too.
func redact(kind string, u *url.URL) string {
	base := u.Scheme + "://" + u.Host
	if kind == KindDingTalk || kind == KindWeCom {
		return base + u.EscapedPath()
	}
	if strings.Trim(u.Path, "/") != "" {
		return base + "/…"
	}
	return base
}

// scrub removes the URL's secret parts from text the remote end sent back
// (an error page may echo the request line): the path, unless it is
// DingTalk's or WeCom's fixed one, and every query value.
func (p *poster) scrub(text string) string {
	var secrets []string
	if p.kind != KindDingTalk && p.kind != KindWeCom && strings.Trim(p.url.Path, "/") != "" {
		secrets = append(secrets, p.url.EscapedPath(), p.url.Path)
	}
	for _, vs := range p.url.Query() {
		secrets = append(secrets, vs...)
	}
	for _, sec := range secrets {
		if len(sec) > 1 {
			text = strings.ReplaceAll(text, sec, "…")
		}
	}
	return text
}

// unwrapURLError drops the *url.Error wrapper, whose message repeats the
// full URL including the access token and signature.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
