package deploytest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaPath is $FC3_SCHEMA, else the copy kept in the repository
// (tooling/fc3-schema).
func schemaPath(root string) string {
	if p := os.Getenv("FC3_SCHEMA"); p != "" {
		return p
	}
	return filepath.Join(root, "tooling", "fc3-schema", "fc3-props.schema.json")
}

func compileSchema(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open schema %s: %v", path, err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("parse schema %s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("fc3-props.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("fc3-props.schema.json")
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	return sch
}

// renderSYAML runs the pinned `s preview -o json --silent` and returns the
// rendered document (variables, env defaults resolved), skipping when node or
// the npm packages are absent.
func renderSYAML(t *testing.T, root string, env ...string) map[string]any {
	t.Helper()
	s := filepath.Join(root, "tooling", "node_modules", ".bin", "s")
	if _, err := os.Stat(s); err != nil {
		t.Skipf("Serverless Devs CLI not installed (%s): run `npm ci --prefix tooling` (make tools); s.yaml rendering and schema validation NOT checked", s)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found: s.yaml rendering and schema validation NOT checked")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s, "preview", "-o", "json", "--silent")
	cmd.Dir = root
	homeEnv := cliHome(t)
	cmd.Env = append(filterEnv(os.Environ(), "FC3_COMPONENT", "HOME", "NODE_ENV"), homeEnv...)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("s preview: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.Bytes()
	// As root, s prints a warning line before the JSON document.
	if i := bytes.IndexByte(out, '{'); i > 0 {
		out = out[i:]
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("s preview output is not JSON: %v\n%s", err, stdout.String())
	}
	return doc
}

func filterEnv(env []string, drop ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			if k == d {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

func resources(t *testing.T, doc map[string]any) map[string]map[string]any {
	t.Helper()
	res, _ := doc["resources"].(map[string]any)
	if len(res) == 0 {
		t.Fatal("rendered s.yaml has no resources")
	}
	out := map[string]map[string]any{}
	for name, r := range res {
		m, _ := r.(map[string]any)
		props, _ := m["props"].(map[string]any)
		if props == nil {
			t.Fatalf("resource %s has no props", name)
		}
		out[name] = props
	}
	return out
}

// toInstance re-reads v through the schema library's decoder (numbers as
// json.Number, as it expects).
func toInstance(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestRenderedPropsMatchFC3Schema renders s.yaml with the real s CLI and
// validates every resource's props against the fc3 component's schema.
func TestRenderedPropsMatchFC3Schema(t *testing.T) {
	root := repoRoot(t)
	sch := compileSchema(t, schemaPath(root))
	doc := renderSYAML(t, root)
	res := resources(t, doc)
	for name, props := range res {
		t.Run(name, func(t *testing.T) {
			if err := sch.Validate(toInstance(t, props)); err != nil {
				t.Errorf("props do not validate against the fc3 schema:\n%v", err)
			}
		})
	}

	// The validation must be able to fail: break copies of the props.
	breakages := []struct {
		name  string
		apply func(p map[string]any)
	}{
		{"bad runtime", func(p map[string]any) { p["runtime"] = "go2" }},
		{"string timeout", func(p map[string]any) { p["timeout"] = "120" }},
		{"odd memory", func(p map[string]any) { p["memorySize"] = 100 }},
		{"too many async retries", func(p map[string]any) { p["asyncInvokeConfig"] = map[string]any{"maxAsyncRetryAttempts": 9} }},
		{"no region", func(p map[string]any) { delete(p, "region") }},
	}
	for _, b := range breakages {
		t.Run("rejects/"+b.name, func(t *testing.T) {
			props := map[string]any{}
			for k, v := range res["rotate-on-upload"] {
				props[k] = v
			}
			b.apply(props)
			if err := sch.Validate(toInstance(t, props)); err == nil {
				t.Error("schema accepted broken props")
			}
		})
	}
}

// TestRenderedValues checks what only rendering shows: env defaults resolve,
// environment overrides reach the props, and the component falls back to fc3.
func TestRenderedValues(t *testing.T) {
	root := repoRoot(t)
	doc := renderSYAML(t, root, "CERT_BUCKET=my-bucket-x", "REGION=cn-beijing")
	for name, props := range resources(t, doc) {
		t.Run(name, func(t *testing.T) {
			if props["region"] != "cn-beijing" {
				t.Errorf("region %v, want the REGION override", props["region"])
			}
			env, _ := props["environmentVariables"].(map[string]any)
			if env["CERT_BUCKET"] != "my-bucket-x" {
				t.Errorf("CERT_BUCKET %v, want the override", env["CERT_BUCKET"])
			}
			for k, v := range env {
				if s, ok := v.(string); !ok || strings.Contains(s, "${") {
					t.Errorf("env %s = %v: not a rendered string", k, v)
				}
			}
			res := doc["resources"].(map[string]any)[name].(map[string]any)
			if res["component"] != "fc3" {
				t.Errorf("component %v, want fc3 when FC3_COMPONENT is unset", res["component"])
			}
		})
	}
	rot := resources(t, doc)["rotate-on-upload"]
	tr := rot["triggers"].([]any)[0].(map[string]any)
	if arn := tr["sourceArn"]; arn != "acs:oss:cn-beijing:1234567890123456:my-bucket-x" {
		t.Errorf("sourceArn %v", arn)
	}
}
