package deploytest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/config"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
)

// The project's own rules for s.yaml, beyond what the fc3 schema can see
// (its triggerConfig is an anyOf, so a misspelt key passes there).

const wantComponent = "${env('FC3_COMPONENT', 'fc3')}"

// Keys a trigger and each trigger type's triggerConfig may carry.
var (
	triggerKeys    = []string{"triggerName", "triggerType", "description", "qualifier", "sourceArn", "invocationRole", "triggerConfig"}
	ossConfigKeys  = []string{"events", "filter"}
	timerConfigKey = []string{"cronExpression", "payload", "enable"}
	// The OSS events that mean "the object is complete"; a wildcard would also
	// fire for InitiateMultipartUpload and each UploadPart.
	allowedOSSEvents  = []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:PostObject", "oss:ObjectCreated:CompleteMultipartUpload", "oss:ObjectCreated:CopyObject"}
	requiredOSSEvents = []string{"oss:ObjectCreated:PutObject", "oss:ObjectCreated:PostObject", "oss:ObjectCreated:CompleteMultipartUpload"}
)

// configEnv is every variable shared/config reads that s.yaml sets (README
// configuration table); TestConfigEnv keeps it equal to shared/config's Env*
// constants minus the platform's region variables.
var configEnv = []string{
	"CERT_BUCKET", "CERT_PREFIX", "REGIONS", "MIN_VALID_DAYS", "KEEP_SUPERSEDED", "DRY_RUN",
	"PROBE_TIMEOUT", "CONCURRENCY", "PROBE_CONCURRENCY", "NOTIFY_URL", "NOTIFY_KIND", "NOTIFY_SECRET", "LOG_LEVEL",
	"SLB_ENDPOINT", "ALB_ENDPOINT", "NLB_ENDPOINT", "CAS_ENDPOINT", "LB_PRODUCTS", "PROBE_RESOLVER",
	"OSS_ENDPOINT", "OSS_REGION", "OSS_SIGNATURE",
	"ALIDNS_ENDPOINT", "ACME_DNS_NAMESERVERS", "ACME_CA_ROOTS",
}

// extraEnv are the variables of vars.env that the Go runtime, not
// shared/config, reads.
var extraEnv = []string{"TZ"}

// checkSFile returns every problem found in f; functionDirs are the names of
// the folders under functions/.
func checkSFile(f sFile, functionDirs []string) []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }

	if f.Edition != "3.0.0" {
		add("edition is %q, want 3.0.0", f.Edition)
	}
	if !slices.ContainsFunc(f.Actions["pre-deploy"], func(a sAction) bool { return strings.TrimSpace(a.Run) == "make build" }) {
		add("global actions.pre-deploy does not run `make build`")
	}
	env, _ := f.Vars["env"].(map[string]any)
	for _, k := range configEnv {
		if _, ok := env[k]; !ok {
			add("vars.env lacks %s", k)
		}
	}
	for k, v := range env {
		if _, ok := v.(string); !ok {
			add("vars.env.%s is %T, want a string", k, v)
		}
		if strings.HasPrefix(k, "FC_") {
			add("vars.env.%s: FC reserves the FC_ prefix", k)
		}
		if !slices.Contains(configEnv, k) && !slices.Contains(extraEnv, k) {
			add("vars.env.%s: no function reads it (shared/config reads %s)", k, strings.Join(configEnv, ", "))
		}
	}

	var names []string
	for name := range f.Resources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := f.Resources[name]
		pp := r.Props
		if r.Component != wantComponent {
			add("%s: component is %q, want %q", name, r.Component, wantComponent)
		}
		if pp["runtime"] != "go1" {
			add("%s: runtime is %v, want go1", name, pp["runtime"])
		}
		if pp["handler"] != "bootstrap" {
			add("%s: handler is %v, want bootstrap (the binary name make build writes)", name, pp["handler"])
		}
		if want := "./dist/" + name; pp["code"] != want {
			add("%s: code is %v, want %s (make build output)", name, pp["code"], want)
		}
		for _, k := range []string{"memorySize", "timeout"} {
			if _, ok := pp[k].(int); !ok {
				add("%s: %s missing or not an integer", name, k)
			}
		}
		for _, k := range []string{"role", "environmentVariables", "logConfig", "functionName", "region"} {
			if pp[k] == nil {
				add("%s: %s missing", name, k)
			}
		}
		if aic, _ := pp["asyncInvokeConfig"].(map[string]any); aic == nil || aic["maxAsyncRetryAttempts"] == nil {
			add("%s: asyncInvokeConfig.maxAsyncRetryAttempts must be set deliberately", name)
		}
		triggers, _ := pp["triggers"].([]any)
		for i, tr := range triggers {
			m, _ := tr.(map[string]any)
			p = append(p, checkTrigger(fmt.Sprintf("%s: trigger %d", name, i), m)...)
		}
	}

	if r, ok := f.Resources["rotate-on-upload"]; ok {
		p = append(p, checkOSSCoverage(r.Props)...)
	}
	for _, d := range functionDirs {
		if _, ok := f.Resources[d]; !ok {
			add("functions/%s has no resource in s.yaml", d)
		}
	}
	for _, name := range names {
		if !slices.Contains(functionDirs, name) {
			add("resource %s has no functions/%s folder", name, name)
		}
	}
	return p
}

func checkTrigger(where string, m map[string]any) []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, where+": "+fmt.Sprintf(format, a...)) }
	if m == nil {
		add("not a mapping")
		return p
	}
	for k := range m {
		if !slices.Contains(triggerKeys, k) {
			add("unknown key %q", k)
		}
	}
	cfg, _ := m["triggerConfig"].(map[string]any)
	switch m["triggerType"] {
	case "oss":
		for k := range cfg {
			if !slices.Contains(ossConfigKeys, k) {
				add("unknown oss triggerConfig key %q", k)
			}
		}
		evs, _ := cfg["events"].([]any)
		var got []string
		for _, e := range evs {
			s, _ := e.(string)
			got = append(got, s)
			if !slices.Contains(allowedOSSEvents, s) {
				add("event %q is not one that means a complete object", e)
			}
		}
		for _, e := range requiredOSSEvents {
			if !slices.Contains(got, e) {
				add("events lack %s", e)
			}
		}
		filter, _ := cfg["filter"].(map[string]any)
		key, _ := filter["key"].(map[string]any)
		for k := range filter {
			if k != "key" {
				add("unknown filter key %q", k)
			}
		}
		for k := range key {
			if k != "prefix" && k != "suffix" {
				add("unknown filter.key key %q", k)
			}
		}
		if key["prefix"] != "certs/" {
			add("filter.key is prefix %v, want certs/", key["prefix"])
		}
		if arn, _ := m["sourceArn"].(string); !strings.HasPrefix(arn, "acs:oss:") {
			add("sourceArn %q is not an OSS bucket ARN", arn)
		}
	case "timer":
		for k := range cfg {
			if !slices.Contains(timerConfigKey, k) {
				add("unknown timer triggerConfig key %q", k)
			}
		}
		cron, _ := cfg["cronExpression"].(string)
		if rest, ok := strings.CutPrefix(cron, "CRON_TZ=Asia/Shanghai "); !ok || len(strings.Fields(rest)) != 6 {
			add("cronExpression %q: want CRON_TZ=Asia/Shanghai and six fields", cron)
		}
		if _, ok := cfg["enable"].(bool); !ok {
			add("enable missing or not a boolean")
		}
		payload, _ := cfg["payload"].(string)
		var obj map[string]any
		if err := json.Unmarshal([]byte(payload), &obj); err != nil {
			add("payload is not a JSON object string: %v", err)
		}
	default:
		add("unexpected triggerType %v", m["triggerType"])
	}
	return p
}

// ossFilter is the key filter of one OSS trigger.
type ossFilter struct{ name, prefix, suffix string }

func (o ossFilter) matches(key string) bool {
	return strings.HasPrefix(key, o.prefix) && strings.HasSuffix(key, o.suffix)
}

// checkOSSCoverage checks rotate-on-upload's OSS triggers against the pair
// file names the code accepts (pairs.FileKeys, the README's bucket
// layout): each accepted name fires exactly one trigger, every trigger fires
// for some accepted name, and what the functions write themselves (locks,
// reports) fires none.
func checkOSSCoverage(props map[string]any) []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, "rotate-on-upload: "+fmt.Sprintf(format, a...)) }
	var filters []ossFilter
	triggers, _ := props["triggers"].([]any)
	for _, tr := range triggers {
		m, _ := tr.(map[string]any)
		if m["triggerType"] != "oss" {
			continue
		}
		cfg, _ := m["triggerConfig"].(map[string]any)
		filter, _ := cfg["filter"].(map[string]any)
		key, _ := filter["key"].(map[string]any)
		prefix, _ := key["prefix"].(string)
		suffix, _ := key["suffix"].(string)
		name, _ := m["triggerName"].(string)
		filters = append(filters, ossFilter{name, prefix, suffix})
	}
	accepted := pairs.FileKeys(config.DefaultCertPrefix, "example.com")
	for _, k := range accepted {
		var fired []string
		for _, f := range filters {
			if f.matches(k) {
				fired = append(fired, f.name)
			}
		}
		switch {
		case len(fired) == 0:
			add("%s (a name the bucket layout accepts) fires no OSS trigger", k)
		case len(fired) > 1:
			add("%s fires %d OSS triggers (%s): one event would rotate twice", k, len(fired), strings.Join(fired, ", "))
		}
	}
	for _, f := range filters {
		if !slices.ContainsFunc(accepted, f.matches) {
			add("OSS trigger %s (prefix %q, suffix %q) fires for no accepted pair file name", f.name, f.prefix, f.suffix)
		}
		for _, own := range []string{"locks/example.com.lock", "reports/2026-01-01.json", "reports/state.json"} {
			if f.matches(own) {
				add("OSS trigger %s fires for %s, an object the functions write themselves", f.name, own)
			}
		}
	}
	return p
}
