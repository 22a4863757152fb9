// Command policies renders the RAM policy templates of policies/*.json for
// one deployment: the account, the regions the functions work in, the
// certificate bucket and the logstore, so that each statement names only
// that deployment's resources. `make policies` runs it.
//
//	go run ./tooling/policies -account 1234567890123456 -region cn-zhangjiakou \
//	    [-regions cn-zhangjiakou,cn-beijing] [-bucket slb-cert-drop] [-out dist/policies]
//
// Placeholders: ${ALIYUN_ACCOUNT_ID}, ${REGION} (the functions' region),
// ${CERT_BUCKET}, ${SLS_PROJECT}, ${SLS_LOGSTORE}; a Resource entry with
// ${REGIONS} becomes one entry per region of -regions (REGIONS, the regions
// the functions rotate and inventory in).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// values are what a deployment substitutes into the templates.
type values struct {
	Account, Region, Bucket, SLSProject, SLSLogstore string
	Regions                                          []string
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{6,32}$`)
	nameRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
)

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("policies", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "policies", "folder of the templates")
	out := fs.String("out", filepath.Join("dist", "policies"), "folder of the rendered policies")
	var v values
	var regions string
	fs.StringVar(&v.Account, "account", "", "the Alibaba Cloud account id (ALIYUN_ACCOUNT_ID)")
	fs.StringVar(&v.Region, "region", "cn-zhangjiakou", "the functions' region (REGION)")
	fs.StringVar(&regions, "regions", "", "comma list of the regions rotated and inventoried (REGIONS; default -region)")
	fs.StringVar(&v.Bucket, "bucket", "slb-cert-drop", "the certificate bucket (CERT_BUCKET)")
	fs.StringVar(&v.SLSProject, "sls-project", "slb-cert-rotator-logs", "the SLS project of logConfig (SLS_PROJECT)")
	fs.StringVar(&v.SLSLogstore, "sls-logstore", "fc-logs", "the SLS logstore of logConfig (SLS_LOGSTORE)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	v.Regions = splitList(regions)
	if len(v.Regions) == 0 {
		v.Regions = []string{v.Region}
	}
	if err := v.check(); err != nil {
		fmt.Fprintf(stderr, "policies: %v\n", err)
		return 2
	}
	files, err := filepath.Glob(filepath.Join(*in, "*.json"))
	if err != nil || len(files) == 0 {
		fmt.Fprintf(stderr, "policies: no templates in %s\n", *in)
		return 1
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "policies: %v\n", err)
		return 1
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err == nil {
			data, err = render(data, v)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(*out, filepath.Base(f)), data, 0o644)
		}
		if err != nil {
			fmt.Fprintf(stderr, "policies: %s: %v\n", f, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s -> %s\n", f, filepath.Join(*out, filepath.Base(f)))
	}
	return 0
}

// check reports every bad value at once.
func (v values) check() error {
	var p []string
	if !accountRe.MatchString(v.Account) {
		p = append(p, fmt.Sprintf("-account %q: want the numeric account id (ALIYUN_ACCOUNT_ID, the uid the console shows)", v.Account))
	}
	for _, r := range append([]string{v.Region}, v.Regions...) {
		if !nameRe.MatchString(r) {
			p = append(p, fmt.Sprintf("region %q: want a region id such as cn-zhangjiakou", r))
		}
	}
	for name, s := range map[string]string{"-bucket": v.Bucket, "-sls-project": v.SLSProject} {
		if !nameRe.MatchString(s) {
			p = append(p, fmt.Sprintf("%s %q: want lower-case letters, digits and hyphens", name, s))
		}
	}
	if v.SLSLogstore == "" || strings.ContainsAny(v.SLSLogstore, "/*:${} ") {
		p = append(p, fmt.Sprintf("-sls-logstore %q: want a logstore name", v.SLSLogstore))
	}
	if len(p) > 0 {
		return fmt.Errorf("%s", strings.Join(p, "; "))
	}
	return nil
}

// render substitutes v into one template; every placeholder must resolve.
func render(tmpl []byte, v values) ([]byte, error) {
	var doc struct {
		Version   string           `json:"Version"`
		Statement []map[string]any `json:"Statement"`
	}
	if err := json.Unmarshal(tmpl, &doc); err != nil {
		return nil, fmt.Errorf("not a policy: %w", err)
	}
	r := strings.NewReplacer("${ALIYUN_ACCOUNT_ID}", v.Account, "${REGION}", v.Region, "${CERT_BUCKET}", v.Bucket,
		"${SLS_PROJECT}", v.SLSProject, "${SLS_LOGSTORE}", v.SLSLogstore)
	for _, st := range doc.Statement {
		res, _ := st["Resource"].([]any)
		var out []any
		for _, x := range res {
			s, _ := x.(string)
			if strings.Contains(s, "${REGIONS}") {
				for _, region := range v.Regions {
					out = append(out, r.Replace(strings.ReplaceAll(s, "${REGIONS}", region)))
				}
				continue
			}
			out = append(out, r.Replace(s))
		}
		st["Resource"] = out
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	if i := strings.Index(string(b), "${"); i >= 0 {
		end := min(len(b), i+40)
		return nil, fmt.Errorf("unknown placeholder at %q", b[i:end])
	}
	return append(b, '\n'), nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
