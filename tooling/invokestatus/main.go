// Command invokestatus reads what `s <resource> invoke` printed (stdin) and
// exits non-zero, saying why, unless the function's result has a status
// that is a success (shared/outcome). `s invoke` itself reports ✔ whenever
// the invocation ran and returned, whatever the result says; `make invoke`
// pipes its output here.
//
// Exit codes: 0 success; 1 the status is not a success (rejected, partial,
// failed, ...); 3 no result with a status was found in the output.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

func main() {
	os.Exit(run(os.Stdin, os.Stderr))
}

func run(in io.Reader, stderr io.Writer) int {
	data, err := io.ReadAll(in)
	if err != nil {
		fmt.Fprintf(stderr, "invokestatus: read: %v\n", err)
		return 3
	}
	r, ok := findResult(ansi.ReplaceAllString(string(data), ""))
	if !ok {
		fmt.Fprintln(stderr, "invoke: no result with a status in the output above: the invocation did not return one (see the output for why)")
		return 3
	}
	if outcome.Status(r.Status).Success() {
		fmt.Fprintf(stderr, "invoke: status %s\n", r.Status)
		return 0
	}
	why := strings.Join(nonEmpty(append([]string{r.Reason, r.Error}, r.Problems...)), "; ")
	if why == "" {
		why = "see the result above"
	}
	fmt.Fprintf(stderr, "invoke: status %s is not a success (s shows ✔ because the invocation returned): %s\n", r.Status, why)
	return 1
}

// result is what matters of a function's result.
type result struct {
	Status   string   `json:"status"`
	Reason   string   `json:"reason"`
	Error    string   `json:"error"`
	Problems []string `json:"problems"`
}

// findResult returns the last top-level JSON object of out that has a
// status (the real fc3 prints the result as JSON), else the status: and
// reason:/error: lines of a YAML rendering (s's default output of a
// component's return value).
func findResult(out string) (result, bool) {
	var last result
	found := false
	for i := 0; i < len(out); i++ {
		if out[i] != '{' {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(out[i:]))
		var r result
		if err := dec.Decode(&r); err != nil {
			continue
		}
		if r.Status != "" {
			last, found = r, true
		}
		i += int(dec.InputOffset()) - 1
	}
	if found {
		return last, true
	}
	var r result
	for _, m := range yamlField.FindAllStringSubmatch(out, -1) {
		v := strings.Trim(strings.TrimSpace(m[3]), `"'`)
		switch {
		case m[2] == "status" && len(m[1]) == 0:
			r.Status, found = v, true
		case m[2] == "reason" && len(m[1]) == 0:
			r.Reason = v
		case m[2] == "error" && len(m[1]) == 0:
			r.Error = v
		}
	}
	return r, found
}

// ansi matches the terminal escapes s colours its output with.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// yamlField matches "key: value" lines; group 1 is the indentation (only
// top-level keys count).
var yamlField = regexp.MustCompile(`(?m)^([ \t]*)(status|reason|error):[ \t]*(.*)$`)

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
