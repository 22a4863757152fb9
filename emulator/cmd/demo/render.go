package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// FunctionSpec is what the local cloud's FC control API deploys
// (PUT /local/functions/{name}).
type FunctionSpec struct {
	Name     string            `json:"name"`
	Binary   string            `json:"binary"`
	Handler  string            `json:"handler,omitempty"`
	Region   string            `json:"region,omitempty"`
	Env      map[string]string `json:"env,omitempty"`
	Timeout  int               `json:"timeout"` // seconds
	MemoryMB int               `json:"memoryMB,omitempty"`
	Triggers []TriggerSpec     `json:"triggers,omitempty"`
	// AsyncRetries is maxAsyncRetryAttempts as the local cloud reads it:
	// 0 = FC's default (3), negative = never retry.
	AsyncRetries int `json:"asyncRetries,omitempty"`
}

// TriggerSpec is one trigger of a FunctionSpec.
type TriggerSpec struct {
	Name  string            `json:"name"`
	Type  string            `json:"type"`
	OSS   *OSSTriggerSpec   `json:"oss,omitempty"`
	Timer *TimerTriggerSpec `json:"timer,omitempty"`
}

// OSSTriggerSpec is an OSS trigger's bucket and filter.
type OSSTriggerSpec struct {
	BucketName string   `json:"bucketName,omitempty"`
	Events     []string `json:"events"`
	Prefix     string   `json:"prefix,omitempty"`
	Suffix     string   `json:"suffix,omitempty"`
}

// TimerTriggerSpec is a timer trigger's schedule and payload.
type TimerTriggerSpec struct {
	CronExpression string `json:"cronExpression,omitempty"`
	Payload        string `json:"payload,omitempty"`
	Enable         bool   `json:"enable"`
}

// Resource pairs an s.yaml resource name with its rendered function.
type Resource struct {
	Resource string
	Spec     FunctionSpec
}

var (
	envRef  = regexp.MustCompile(`\$\{env\('([^']+)'(?:\s*,\s*'([^']*)')?\)\}`)
	varsRef = regexp.MustCompile(`\$\{vars\.([A-Za-z0-9_.]+)\}`)
)

// loadSYAML renders the subset of Serverless Devs variables s.yaml uses
// (${env('X','default')} and ${vars.path}) and returns one FunctionSpec per
// resource, with binaries resolved against the s.yaml directory and the
// env overrides applied on top of each function's environment.
func loadSYAML(path string, getenv func(string) string, overrides map[string]string) ([]Resource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("demo: read %s: %w", path, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("demo: parse %s: %w", path, err)
	}
	vars, err := render(doc["vars"], getenv, nil)
	if err != nil {
		return nil, err
	}
	varsMap, _ := vars.(map[string]any)
	resources, _ := doc["resources"].(map[string]any)
	if len(resources) == 0 {
		return nil, fmt.Errorf("demo: %s has no resources", path)
	}
	names := make([]string, 0, len(resources))
	for name := range resources {
		names = append(names, name)
	}
	sort.Strings(names)
	base := filepath.Dir(path)
	var out []Resource
	for _, name := range names {
		r, _ := resources[name].(map[string]any)
		props, err := render(r["props"], getenv, varsMap)
		if err != nil {
			return nil, fmt.Errorf("demo: resource %s: %w", name, err)
		}
		pm, _ := props.(map[string]any)
		spec, err := specFromProps(pm, base, overrides)
		if err != nil {
			return nil, fmt.Errorf("demo: resource %s: %w", name, err)
		}
		out = append(out, Resource{Resource: name, Spec: spec})
	}
	return out, nil
}

// render resolves variables in every string of v.
func render(v any, getenv func(string) string, vars map[string]any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := render(e, getenv, vars)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := render(e, getenv, vars)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case string:
		return renderString(x, getenv, vars)
	default:
		return v, nil
	}
}

func renderString(s string, getenv func(string) string, vars map[string]any) (any, error) {
	s = envRef.ReplaceAllStringFunc(s, func(m string) string {
		g := envRef.FindStringSubmatch(m)
		if v := getenv(g[1]); v != "" {
			return v
		}
		return g[2]
	})
	// A string that is exactly one ${vars.x} takes the value itself (maps too).
	if m := varsRef.FindStringSubmatch(s); m != nil && m[0] == s {
		return lookup(vars, m[1])
	}
	var firstErr error
	s = varsRef.ReplaceAllStringFunc(s, func(m string) string {
		v, err := lookup(vars, varsRef.FindStringSubmatch(m)[1])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return fmt.Sprint(v)
	})
	return s, firstErr
}

func lookup(vars map[string]any, path string) (any, error) {
	var cur any = vars
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("vars.%s: not found", path)
		}
		if cur, ok = m[p]; !ok {
			return nil, fmt.Errorf("vars.%s: not found", path)
		}
	}
	return cur, nil
}

func specFromProps(p map[string]any, base string, overrides map[string]string) (FunctionSpec, error) {
	name, _ := p["functionName"].(string)
	if name == "" {
		return FunctionSpec{}, fmt.Errorf("props.functionName missing")
	}
	code, _ := p["code"].(string)
	handler, _ := p["handler"].(string)
	if code == "" || handler == "" {
		return FunctionSpec{}, fmt.Errorf("props.code and props.handler are required")
	}
	code = strings.TrimSuffix(code, ".zip")
	spec := FunctionSpec{
		Name:     name,
		Binary:   filepath.Join(base, code, handler),
		Env:      map[string]string{},
		Handler:  handler,
		Timeout:  toInt(p["timeout"], 3),
		MemoryMB: toInt(p["memorySize"], 128),
	}
	spec.Region, _ = p["region"].(string)
	if aic, ok := p["asyncInvokeConfig"].(map[string]any); ok {
		if n := toInt(aic["maxAsyncRetryAttempts"], -2); n != -2 {
			spec.AsyncRetries = n
			if n == 0 {
				spec.AsyncRetries = -1
			}
		}
	}
	env, _ := p["environmentVariables"].(map[string]any)
	for k, v := range env {
		spec.Env[k] = fmt.Sprint(v)
	}
	for k, v := range overrides {
		spec.Env[k] = v
	}
	triggers, _ := p["triggers"].([]any)
	for _, t := range triggers {
		tm, _ := t.(map[string]any)
		cfg, _ := tm["triggerConfig"].(map[string]any)
		ts := TriggerSpec{Name: fmt.Sprint(tm["triggerName"]), Type: fmt.Sprint(tm["triggerType"])}
		switch ts.Type {
		case "oss":
			arn, _ := tm["sourceArn"].(string)
			parts := strings.SplitN(arn, ":", 5)
			o := &OSSTriggerSpec{}
			if len(parts) == 5 {
				o.BucketName = parts[4]
			}
			evs, _ := cfg["events"].([]any)
			for _, e := range evs {
				o.Events = append(o.Events, fmt.Sprint(e))
			}
			filter, _ := cfg["filter"].(map[string]any)
			key, _ := filter["key"].(map[string]any)
			o.Prefix, _ = key["prefix"].(string)
			o.Suffix, _ = key["suffix"].(string)
			ts.OSS = o
		case "timer":
			tt := &TimerTriggerSpec{Enable: true}
			tt.CronExpression, _ = cfg["cronExpression"].(string)
			tt.Payload, _ = cfg["payload"].(string)
			if e, ok := cfg["enable"].(bool); ok {
				tt.Enable = e
			}
			ts.Timer = tt
		default:
			return FunctionSpec{}, fmt.Errorf("trigger type %s not supported locally", ts.Type)
		}
		spec.Triggers = append(spec.Triggers, ts)
	}
	return spec, nil
}

func toInt(v any, def int) int {
	switch x := v.(type) {
	case int:
		return x
	case float64:
		return int(x)
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n
		}
	}
	return def
}
