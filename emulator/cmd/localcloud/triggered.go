package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// fcState is what the local FC reports of its asynchronous invocations
// (GET /local/fc/state).
type fcState struct {
	Async []struct {
		Function  string          `json:"function"`
		Source    string          `json:"source"`
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Result    json.RawMessage `json:"result"`
	} `json:"async"`
	Pending int `json:"pending"`
}

func getFCState(ctx context.Context, fc string) (fcState, error) {
	var st fcState
	out, _, err := fcCall(ctx, http.MethodGet, fc+"/local/fc/state", nil, nil)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("local FC state: %w", err)
	}
	return st, nil
}

// reportTriggered waits until the invocations the writes since `since`
// (the count of asynchronous records before them) fired are finished, then
// prints each one's outcome. It returns an error when one of them did not
// end in a success, naming its status and reason.
func reportTriggered(ctx context.Context, fc string, since int, wait time.Duration, stdout io.Writer) error {
	deadline := time.Now().Add(wait)
	var st fcState
	for {
		var err error
		if st, err = getFCState(ctx, fc); err != nil {
			return err
		}
		if st.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d triggered invocations still running after %s (see .localcloud.log)", st.Pending, wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if since > len(st.Async) {
		since = 0
	}
	var bad []string
	for _, a := range st.Async[since:] {
		var r struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
			Error  string `json:"error"`
			Key    string `json:"key"`
		}
		_ = json.Unmarshal(a.Result, &r)
		line := fmt.Sprintf("%s (%s): %s", a.Function, strings.TrimPrefix(a.Source, "oss:"), r.Status)
		if a.Status == "failed" {
			line = fmt.Sprintf("%s (%s): invocation failed (%s) after Function Compute's retries", a.Function, strings.TrimPrefix(a.Source, "oss:"), a.ErrorType)
		}
		why := strings.TrimSpace(r.Reason + " " + r.Error)
		if why != "" {
			line += ": " + why
		}
		fmt.Fprintln(stdout, "  triggered "+line)
		if a.Status == "failed" || !outcome.Status(r.Status).Success() {
			bad = append(bad, line)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("not a success: %s", strings.Join(bad, "; "))
	}
	return nil
}
