package rotation_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/rotation"
)

// FuzzParseDeploy parses arbitrary bytes as certs/<name>/deploy.yaml. It
// must never panic; a refusal is a *rotation.PairError that names the file
// (and, for a bad target, the field); an accepted file has only complete
// targets (region, load balancer, port 1..65535) and a keep of 0 or more.
//
//	go test -run '^$' -fuzz '^FuzzParseDeploy$' -fuzztime 30s ./shared/rotation/
func FuzzParseDeploy(f *testing.F) {
	for _, s := range []string{
		"", "---\n", "targets: []\n", "discover: true\nkeep: 2\n", "keep: -1\n", "keep: x\n", "unknown: 1\n",
		"targets:\n  - {region: cn-zhangjiakou, loadBalancerId: lb-1, listenerPort: 443}\n",
		"targets:\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 443\n    domain: API.example.com\n",
		"targets:\n  - region: cn-zhangjiakou\n    loadBalancerId: lb-1\n    listenerPort: 70000\n",
		"targets:\n  - {region: ' ', loadBalancerId: lb-1, listenerPort: 443}\n", "targets: [{}]\n", "targets: {}\n",
		"targets:\n  - &a {region: r, loadBalancerId: l, listenerPort: 1}\n  - *a\n", "a: &a [*a]\n", "\t", "{", "[1, 2]\n",
		"targets:\n  - {region: cn-hangzhou, loadBalancerId: lb-2, listenerPort: 443}\n---\nkeep: 1\n",
	} {
		f.Add([]byte(s))
	}
	const file = "certs/www/deploy.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := rotation.ParseDeploy(file, data)
		if err != nil {
			var pe *rotation.PairError
			if !errors.As(err, &pe) || pe.File != file || !strings.HasPrefix(err.Error(), file+": ") || strings.TrimSpace(pe.Problem) == "" {
				t.Fatalf("ParseDeploy(%q): error %T %q does not name the file and the problem", data, err, err)
			}
			return
		}
		for i, tg := range d.Targets {
			if strings.TrimSpace(tg.Region) == "" || strings.TrimSpace(tg.LoadBalancerID) == "" || tg.ListenerPort < 1 || tg.ListenerPort > 65535 {
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
//	go test -run '^$' -fuzz '^FuzzParseKey$' -fuzztime 30s ./shared/rotation/
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
		ref, ok := rotation.ParseKey(prefix, key)
		if !ok {
			if ref != (rotation.KeyRef{}) {
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
		case rotation.LayoutBundle:
			if key != prefix+n+".pem" || ref.File != "" {
				t.Fatalf("ParseKey(%q, %q): bundle %+v does not rebuild the key", prefix, key, ref)
			}
		case rotation.LayoutDir:
			if key != prefix+n+"/"+ref.File {
				t.Fatalf("ParseKey(%q, %q): %+v does not rebuild the key", prefix, key, ref)
			}
			switch ref.File {
			case "fullchain.pem", "cert.pem", n + ".crt", "privkey.pem", "key.pem", n + ".key", rotation.DeployFileName:
			default:
				t.Fatalf("ParseKey(%q, %q): %q is not a pair file", prefix, key, ref.File)
			}
		default:
			t.Fatalf("ParseKey(%q, %q): layout %q", prefix, key, ref.Layout)
		}
	})
}
