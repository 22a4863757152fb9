package aliyun

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

func TestCredentialsFromContext(t *testing.T) {
	envAll := map[string]string{EnvAccessKeyID: "env-ak", EnvAccessKeySecret: "env-sk", EnvSecurityToken: "env-tok"}
	fcCtx := fccontext.NewContext(context.Background(), &fccontext.FcContext{
		Credentials: fccontext.Credentials{AccessKeyId: "STS.fc", AccessKeySecret: "fc-sk", SecurityToken: "fc-tok"},
	})
	tests := []struct {
		name        string
		ctx         context.Context
		env         map[string]string
		want        Credentials
		wantMissing []string
	}{
		{"context wins", fcCtx, envAll, Credentials{"STS.fc", "fc-sk", "fc-tok"}, nil},
		{"env without context", context.Background(), envAll, Credentials{"env-ak", "env-sk", "env-tok"}, nil},
		{"env AK pair without token", context.Background(), map[string]string{EnvAccessKeyID: "a", EnvAccessKeySecret: "b"}, Credentials{"a", "b", ""}, nil},
		{"empty context credentials fall back", fccontext.NewContext(context.Background(), &fccontext.FcContext{}), envAll, Credentials{"env-ak", "env-sk", "env-tok"}, nil},
		{"nothing", context.Background(), map[string]string{}, Credentials{}, []string{EnvAccessKeyID, EnvAccessKeySecret}},
		{"secret missing", context.Background(), map[string]string{EnvAccessKeyID: "a"}, Credentials{}, []string{EnvAccessKeySecret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CredentialsFromContext(tc.ctx, func(k string) string { return tc.env[k] })
			if len(tc.wantMissing) > 0 {
				if err == nil {
					t.Fatal("no error")
				}
				for _, v := range tc.wantMissing {
					if !strings.Contains(err.Error(), v) {
						t.Errorf("error %q does not name %s", err, v)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.AccessKeyID != tc.want.AccessKeyID || got.AccessKeySecret != tc.want.AccessKeySecret || got.SecurityToken != tc.want.SecurityToken {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCredentialsRedaction(t *testing.T) {
	c := Credentials{AccessKeyID: "STS.visible", AccessKeySecret: "hidden-secret", SecurityToken: "hidden-token"}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("creds", "creds", c)
	renders := map[string]string{
		"String": c.String(), "%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"%s": fmt.Sprintf("%s", c), "pointer %v": fmt.Sprintf("%v", &c), "json": string(js), "slog": buf.String(),
		"nested %+v": fmt.Sprintf("%+v", struct{ C Credentials }{c}),
	}
	for name, s := range renders {
		if strings.Contains(s, "hidden-") {
			t.Errorf("%s leaks: %s", name, s)
		}
		if !strings.Contains(s, "STS.visible") {
			t.Errorf("%s lost the key id: %s", name, s)
		}
	}
}

func TestRetryCeilingAndJitter(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := p.Ceiling(i + 1); got != w*time.Millisecond {
			t.Errorf("Ceiling(%d) = %s, want %s", i+1, got, w*time.Millisecond)
		}
	}
	if d := (RetryPolicy{}).withDefaults(); d.MaxAttempts != 5 || d.BaseDelay != 100*time.Millisecond || d.MaxDelay != 5*time.Second {
		t.Errorf("defaults = %+v", d)
	}
	a, b := newRetrier(RetryPolicy{Seed: 7}), newRetrier(RetryPolicy{Seed: 7})
	for i := 0; i < 20; i++ {
		x, y := a.jitter(time.Second), b.jitter(time.Second)
		if x != y {
			t.Fatalf("same seed, different jitter: %s vs %s", x, y)
		}
		if x < 0 || x >= time.Second {
			t.Fatalf("jitter %s outside [0, 1s)", x)
		}
	}
}

func TestRetryStopsBeforeDeadline(t *testing.T) {
	r := newRetrier(RetryPolicy{MaxAttempts: 10, BaseDelay: time.Second, MaxDelay: time.Second, Seed: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	calls := 0
	start := time.Now()
	err := r.do(ctx, func(int) error {
		calls++
		return &APIError{Service: "slb", Action: "X", Code: "Throttling", Kind: classify("Throttling", "", 400)}
	})
	if err == nil || calls >= 10 {
		t.Fatalf("err = %v after %d calls", err, calls)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("slept past the deadline: %s", time.Since(start))
	}
}
