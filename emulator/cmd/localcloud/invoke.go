package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/fcrt"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// invokeCmd runs a deployed function synchronously (by its FC name or its
// s.yaml resource name) with the event file, prints the result and judges
// its status: a result that is not a success is an error naming the status
// and the reason.
func invokeCmd(ctx context.Context, e cloudEnv, args []string, stdout io.Writer) error {
	if len(args) < 1 || len(args) > 2 {
		return usageErr("invoke FUNCTION [EVENT_FILE]")
	}
	payload := []byte("{}")
	if len(args) == 2 {
		b, err := os.ReadFile(args[1])
		if err != nil {
			return fmt.Errorf("invoke: %w", err)
		}
		payload = b
	}
	name, err := functionName(ctx, e.FC, args[0])
	if err != nil {
		return err
	}
	out, hdr, err := fcCall(ctx, http.MethodPost, e.FC+"/2023-03-30/functions/"+url.PathEscape(name)+"/invocations", payload,
		map[string]string{"x-fc-invocation-type": "Sync"})
	if err != nil {
		return err
	}
	stdout.Write(bytes.TrimSpace(out))
	fmt.Fprintln(stdout)
	if et := hdr.Get("x-fc-error-type"); et != "" {
		return fmt.Errorf("invoke %s: the function failed (%s); Function Compute would retry an asynchronous invocation", name, et)
	}
	return judge(name, out)
}

// judge returns nil when the result's status is a success (outcome), else
// an error that names the status and the result's reason.
func judge(name string, result []byte) error {
	var r struct {
		Status   string   `json:"status"`
		Reason   string   `json:"reason"`
		Error    string   `json:"error"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal(result, &r); err != nil || r.Status == "" {
		return fmt.Errorf("invoke %s: the result has no status", name)
	}
	if outcome.Status(r.Status).Success() {
		return nil
	}
	why := strings.Join(append([]string{r.Reason, r.Error}, r.Problems...), "; ")
	why = strings.Trim(strings.ReplaceAll(why, "; ; ", "; "), "; ")
	if why == "" {
		why = "see the result above"
	}
	return fmt.Errorf("invoke %s: status %s: %s", name, r.Status, why)
}

// functionName resolves an s.yaml resource name (provision) to the deployed
// function's name (slb-cert-provision); other names are used as given.
func functionName(ctx context.Context, fc, name string) (string, error) {
	out, _, err := fcCall(ctx, http.MethodGet, fc+"/local/functions", nil, nil)
	if err != nil {
		return "", err
	}
	var fns []struct {
		Name     string `json:"name"`
		Resource string `json:"resource"`
	}
	if err := json.Unmarshal(out, &fns); err != nil {
		return "", fmt.Errorf("list functions: %w", err)
	}
	var names []string
	for _, f := range fns {
		if f.Name == name || f.Resource == name {
			return f.Name, nil
		}
		names = append(names, f.Name)
	}
	return "", fmt.Errorf("no function %s in the local cloud (deployed: %s)", name, strings.Join(names, ", "))
}

// fcCall calls the local cloud's FC API at the whole URL u.
func fcCall(ctx context.Context, method, u string, body []byte, hdr map[string]string) ([]byte, http.Header, error) {
	out, h, err := fcrt.Client{}.Call(ctx, method, u, body, hdr)
	var ue *url.Error
	switch {
	case errors.As(err, &ue):
		return nil, nil, fmt.Errorf("local FC: %w (is the local cloud running? make local-up)", ue)
	case err != nil:
		return out, h, fmt.Errorf("local FC: %w", err)
	}
	return out, h, nil
}
