package pairs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/certs"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pairs"
)

// FuzzParseDeploy parses arbitrary bytes as certs/<name>/deploy.yaml. It
// must never panic; a refusal is a *certs.Error that names the file
// (and, for a bad target, the field); an accepted file has only complete
// targets (region, load balancer, and a listener: a CLB port 1..65535, an
// ALB or NLB listener id or port) and a keep of 0 or more.
//
//	go test -run '^$' -fuzz '^FuzzParseDeploy$' -fuzztime 30s ./shared/pairs/
func FuzzParseDeploy(f *testing.F) {
	for _, s := range []string{
		"", "---\n", "targets: []\n", "discover: true\nkeep: 2\n", "keep: -1\n", "keep: x\n", "unknown: 1\n",
		"targets:\n  - {region: cn-zhangjiakou, loadBalancerId: lb-1, listenerPort: 443}\n",
		"targets:\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 443\n    domain: API.example.com\n",
		"targets:\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 70000\n",
		"targets:\n  - {region: ' ', loadBalancerId: lb-1, listenerPort: 443}\n", "targets: [{}]\n", "targets: {}\n",
		"targets:\n  - &a {region: r, loadBalancerId: l, listenerPort: 1}\n  - *a\n", "a: &a [*a]\n", "\t", "{", "[1, 2]\n",
		"targets:\n  - {region: cn-hangzhou, loadBalancerId: lb-2, listenerPort: 443}\n---\nkeep: 1\n",
		"targets: [{type: alb, region: r, loadBalancerId: alb-1, listenerId: lsn-1}]\n",
		"targets: [{type: nlb, region: r, loadBalancerId: nlb-1, listenerPort: 443, domain: a.example.com, additional: true}]\n",
	} {
		f.Add([]byte(s))
	}
	const file = "certs/www/deploy.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := pairs.ParseDeploy(file, data)
		if err != nil {
			var pe *certs.Error
			if !errors.As(err, &pe) || pe.File != file || !strings.HasPrefix(err.Error(), file+": ") || strings.TrimSpace(pe.Problem) == "" {
				t.Fatalf("ParseDeploy(%q): error %T %q does not name the file and the problem", data, err, err)
			}
			return
		}
		for i, tg := range d.Targets {
			if strings.TrimSpace(tg.Region) == "" || strings.TrimSpace(tg.LoadBalancerID) == "" || !names(tg) {
				t.Fatalf("ParseDeploy(%q): accepted incomplete target %d %+v", data, i, tg)
			}
		}
		if d.Keep != nil && *d.Keep < 0 {
			t.Fatalf("ParseDeploy(%q): accepted keep %d", data, *d.Keep)
		}
	})
}

// FuzzParseKey resolves arbitrary object keys under arbitrary prefixes. It
// must never panic; a key it accepts lies under the prefix, names a pair
// that is safe as a path element (not empty, ".", ".." or containing "/"
// or NUL) and is rebuilt exactly from the result (prefix + name + ".pem",
// or prefix + name + "/" + file with file a pair file or deploy.yaml).
//
//	go test -run '^$' -fuzz '^FuzzParseKey$' -fuzztime 30s ./shared/pairs/
func FuzzParseKey(f *testing.F) {
	for _, s := range [][2]string{
		{"certs/", "certs/www/fullchain.pem"}, {"certs/", "certs/www/privkey.pem"}, {"certs/", "certs/www.pem"},
		{"certs/", "certs/www/deploy.yaml"}, {"certs/", "certs/www/www.crt"}, {"certs/", "certs/www/www.key"},
		{"certs/", "certs/../x.pem"}, {"certs/", "certs/./fullchain.pem"}, {"certs/", "certs/a/b/c.pem"},
		{"certs/", "certs/.pem"}, {"certs/", "certs/ /key.pem"}, {"certs/", "certs/ü ñ.pem"}, {"", "x.pem"},
		{"certs/", "other/www.pem"}, {"certs/", "certs/www/readme.txt"}, {"certs/", "certs/a\x00b.pem"}, {"", "/fullchain.pem"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, key string) {
		ref, ok := pairs.ParseKey(prefix, key)
		if !ok {
			if ref != (pairs.KeyRef{}) {
				t.Fatalf("ParseKey(%q, %q) refused but returned %+v", prefix, key, ref)
			}
			return
		}
		if !strings.HasPrefix(key, prefix) {
			t.Fatalf("ParseKey(%q, %q) accepted a key outside the prefix", prefix, key)
		}
		n := ref.Name
		if n == "" || n == "." || n == ".." || strings.TrimSpace(n) == "" || strings.ContainsAny(n, "/\x00") {
			t.Fatalf("ParseKey(%q, %q): unsafe pair name %q", prefix, key, n)
		}
		switch ref.Layout {
		case pairs.LayoutBundle:
			if key != prefix+n+".pem" || ref.File != "" {
				t.Fatalf("ParseKey(%q, %q): bundle %+v does not rebuild the key", prefix, key, ref)
			}
		case pairs.LayoutDir:
			if key != prefix+n+"/"+ref.File {
				t.Fatalf("ParseKey(%q, %q): %+v does not rebuild the key", prefix, key, ref)
			}
			switch ref.File {
			case "fullchain.pem", "cert.pem", n + ".crt", "privkey.pem", "key.pem", n + ".key", pairs.DeployFileName:
			default:
				t.Fatalf("ParseKey(%q, %q): %q is not a pair file", prefix, key, ref.File)
			}
		default:
			t.Fatalf("ParseKey(%q, %q): layout %q", prefix, key, ref.Layout)
		}
	})
}

// names reports whether a target names its listener: a CLB one by port, an
// ALB or NLB one by id or port; a port given is always 1..65535.
func names(t clb.Target) bool {
	portSet := t.ListenerPort >= 1 && t.ListenerPort <= 65535
	switch {
	case t.ListenerPort != 0 && !portSet:
		return false
	case t.Type == clb.ProductALB || t.Type == clb.ProductNLB:
		return t.ListenerID != "" || portSet
	default:
		return portSet && t.ListenerID == ""
	}
}
