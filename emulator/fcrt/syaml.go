package fcrt

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// LoadSYAML reads a Serverless Devs 3 project file (component fc3) and
// returns one FunctionSpec per resource. It resolves ${vars.a.b},
// ${env('X')}, ${env('X','default')} and ${env.X} (getenv nil =
// os.Getenv); a value that is a single ${vars...} reference takes the
// variable's structured value (maps such as environmentVariables). code
// "./dist/<fn>" becomes Binary "<yaml dir>/dist/<fn>/<handler>" (a .zip code
// path is taken as the directory it was zipped from).
func LoadSYAML(path string, getenv func(string) string) ([]FunctionSpec, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fcrt: s.yaml: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("fcrt: s.yaml %s: %w", path, err)
	}
	r := &resolver{getenv: getenv}
	if v, ok := doc["vars"].(map[string]any); ok {
		// vars may refer to env and to earlier vars: resolve in two passes.
		r.vars = v
		for range 2 {
			rv, err := r.resolve(v)
			if err != nil {
				return nil, fmt.Errorf("fcrt: s.yaml %s: vars: %w", path, err)
			}
			r.vars = rv.(map[string]any)
		}
	}
	resources, _ := doc["resources"].(map[string]any)
	names := make([]string, 0, len(resources))
	for n := range resources {
		names = append(names, n)
	}
	sort.Strings(names)
	dir := filepath.Dir(path)
	var specs []FunctionSpec
	for _, name := range names {
		res, _ := resources[name].(map[string]any)
		rv, err := r.resolve(res["props"])
		if err != nil {
			return nil, fmt.Errorf("fcrt: s.yaml %s: resource %s: %w", path, name, err)
		}
		props, _ := rv.(map[string]any)
		if props == nil {
			continue
		}
		spec, err := specFromProps(name, props, dir)
		if err != nil {
			return nil, fmt.Errorf("fcrt: s.yaml %s: resource %s: %w", path, name, err)
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func specFromProps(resource string, p map[string]any, dir string) (FunctionSpec, error) {
	s := FunctionSpec{Name: str(p["functionName"]), Resource: resource, Handler: str(p["handler"]), Region: str(p["region"])}
	if s.Name == "" {
		s.Name = resource
	}
	code := str(p["code"])
	if m, ok := p["code"].(map[string]any); ok {
		code = str(m["src"])
	}
	if code == "" {
		return s, fmt.Errorf("no code path")
	}
	code = strings.TrimSuffix(code, ".zip")
	if !filepath.IsAbs(code) {
		code = filepath.Join(dir, code)
	}
	handler := s.Handler
	if handler == "" {
		handler = "bootstrap"
	}
	s.Binary = filepath.Join(code, handler)
	if t, ok := num(p["timeout"]); ok {
		s.Timeout = time.Duration(t * float64(time.Second))
	}
	if m, ok := num(p["memorySize"]); ok {
		s.MemoryMB = int(m)
	}
	if env, ok := p["environmentVariables"].(map[string]any); ok {
		s.Env = map[string]string{}
		for k, v := range env {
			s.Env[k] = str(v)
		}
	}
	if a, ok := p["asyncInvokeConfig"].(map[string]any); ok {
		if n, ok := num(a["maxAsyncRetryAttempts"]); ok {
			s.AsyncRetries = int(n)
			if n == 0 {
				s.AsyncRetries = -1
			}
		}
	}
	if lc, ok := p["instanceLifecycleConfig"].(map[string]any); ok {
		if in, ok := lc["initializer"].(map[string]any); ok && str(in["handler"]) != "" {
			s.Initializer = true
		}
	}
	s.Triggers = triggersFromProps(p)
	return s, nil
}

// triggersFromProps reads the OSS and timer triggers of a function (other
// types, http and the rest, are not emulated).
func triggersFromProps(p map[string]any) []TriggerSpec {
	var out []TriggerSpec
	triggers, _ := p["triggers"].([]any)
	for _, tv := range triggers {
		t, _ := tv.(map[string]any)
		if t == nil {
			continue
		}
		cfg, _ := t["triggerConfig"].(map[string]any)
		ts := TriggerSpec{Name: str(t["triggerName"]), Type: str(t["triggerType"])}
		switch ts.Type {
		case "oss":
			ts.OSS = ossTrigger(t, cfg)
		case "timer":
			ts.Timer.CronExpression = str(cfg["cronExpression"])
			ts.Timer.Payload = str(cfg["payload"])
			ts.Timer.Enable = cfg["enable"] == true || str(cfg["enable"]) == "true"
		default:
			continue
		}
		out = append(out, ts)
	}
	return out
}

// ossTrigger reads an OSS trigger's bucket (from its config, else its
// sourceArn), events and key filter.
func ossTrigger(t, cfg map[string]any) OSSTrigger {
	var o OSSTrigger
	o.BucketName = str(cfg["bucketName"])
	if o.BucketName == "" {
		if arn := str(t["sourceArn"]); arn != "" {
			parts := strings.Split(arn, ":")
			o.BucketName = parts[len(parts)-1]
		}
	}
	if evs, ok := cfg["events"].([]any); ok {
		for _, e := range evs {
			o.Events = append(o.Events, str(e))
		}
	}
	if f, ok := cfg["filter"].(map[string]any); ok {
		if k, ok := f["key"].(map[string]any); ok {
			o.Prefix, o.Suffix = str(k["prefix"]), str(k["suffix"])
		}
	}
	return o
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

type resolver struct {
	vars   map[string]any
	getenv func(string) string
}

var exprRE = regexp.MustCompile(`\$\{([^}]*)\}`)

func (r *resolver) resolve(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	case string:
		if m := exprRE.FindStringSubmatch(x); m != nil && m[0] == x {
			return r.eval(m[1])
		}
		var firstErr error
		s := exprRE.ReplaceAllStringFunc(x, func(e string) string {
			v, err := r.eval(e[2 : len(e)-1])
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return str(v)
		})
		return s, firstErr
	}
	return v, nil
}

var envCallRE = regexp.MustCompile(`^env\(\s*['"]([^'"]+)['"]\s*(?:,\s*['"]([^'"]*)['"]\s*)?\)$`)

// eval evaluates one ${...} expression. Unknown expressions are kept
// verbatim.
func (r *resolver) eval(e string) (any, error) {
	e = strings.TrimSpace(e)
	if m := envCallRE.FindStringSubmatch(e); m != nil {
		if v := r.getenv(m[1]); v != "" {
			return v, nil
		}
		if strings.Contains(e, ",") {
			return m[2], nil
		}
		return nil, fmt.Errorf("env('%s') not found", m[1])
	}
	if name, ok := strings.CutPrefix(e, "env."); ok {
		return r.getenv(name), nil
	}
	if path, ok := strings.CutPrefix(e, "vars."); ok {
		var cur any = r.vars
		for _, seg := range strings.Split(path, ".") {
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("${%s}: no such variable", e)
			}
			if cur, ok = m[seg]; !ok {
				return nil, fmt.Errorf("${%s}: no such variable", e)
			}
		}
		return cur, nil
	}
	return "${" + e + "}", nil
}
