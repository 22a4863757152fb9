// Command echofn is the test function the fcrt tests build and run through
// the runtime API. Its behaviour is chosen by the payload's "op".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type request struct {
	Op  string `json:"op"`
	Msg string `json:"msg"`
	MS  int    `json:"ms"`
	N   int    `json:"n"`
}

var initialized int

func initialize(ctx context.Context) { initialized++ }

func handle(ctx context.Context, payload []byte) (json.RawMessage, error) {
	fctx, _ := fccontext.FromContext(ctx)
	if dir := os.Getenv("RECORD_DIR"); dir != "" {
		name := fmt.Sprintf("%d-%s-%d.json", time.Now().UnixNano(), fctx.RequestID, fctx.RetryCount)
		os.WriteFile(filepath.Join(dir, name), payload, 0o644)
	}
	var req request
	_ = json.Unmarshal(payload, &req)
	switch req.Op {
	case "error":
		return nil, errors.New(req.Msg)
	case "panic":
		panic(req.Msg)
	case "sleep":
		time.Sleep(time.Duration(req.MS) * time.Millisecond)
	case "failuntil":
		if fctx.RetryCount < req.N {
			return nil, fmt.Errorf("attempt %d fails", fctx.RetryCount)
		}
	case "spawn":
		cmd := exec.Command("sleep", "300")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return json.RawMessage(strconv.Itoa(cmd.Process.Pid)), nil
	}
	dl, _ := ctx.Deadline()
	out := map[string]any{
		"requestId":    fctx.RequestID,
		"accessKeyId":  fctx.Credentials.AccessKeyId,
		"hasSecret":    fctx.Credentials.AccessKeySecret != "",
		"hasToken":     fctx.Credentials.SecurityToken != "",
		"function":     fctx.Function.Name,
		"memory":       fctx.Function.Memory,
		"timeout":      fctx.Function.Timeout,
		"region":       fctx.Region,
		"accountId":    fctx.AccountId,
		"retryCount":   fctx.RetryCount,
		"deadlineInMs": time.Until(dl).Milliseconds(),
		"env":          os.Getenv("GREETING"),
		"fcEnv":        os.Getenv("FC_FUNCTION_NAME"),
		"akEnv":        os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"),
		"pid":          os.Getpid(),
		"instanceId":   os.Getenv("FC_INSTANCE_ID"),
		"slbEndpoint":  os.Getenv("SLB_ENDPOINT"),
		"ossEndpoint":  os.Getenv("OSS_ENDPOINT"),
		"initialized":  initialized,
		"payload":      json.RawMessage(orNull(payload)),
	}
	return json.Marshal(out)
}

func orNull(b []byte) []byte {
	if !json.Valid(b) {
		return []byte("null")
	}
	return b
}

func main() {
	fc.RegisterInitializerFunction(initialize)
	fc.Start(handle)
}
