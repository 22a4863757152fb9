package pairs

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Accepted object names inside certs/<name>/ (in order of preference). The
// placeholder "{name}" stands for the pair's name.
var (
	certFileNames = []string{"fullchain.pem", "cert.pem", "{name}.crt"}
	keyFileNames  = []string{"privkey.pem", "key.pem", "{name}.key"}
)

// FileKeys lists every object key that holds a half (or the bundle) of
// pair name under prefix: the names the README's bucket layout accepts. It
// is the one source of truth s.yaml's OSS triggers are checked against
// (tooling/deploytest): each of these keys must fire the trigger.
func FileKeys(prefix, name string) []string {
	var keys []string
	for _, p := range append(append([]string(nil), certFileNames...), keyFileNames...) {
		keys = append(keys, prefix+name+"/"+strings.ReplaceAll(p, "{name}", name))
	}
	return append(keys, prefix+name+".pem")
}

// DeployFileName is the optional per-pair targets file inside certs/<name>/.
const DeployFileName = "deploy.yaml"

// Layout says how a pair is stored.
type Layout string

// The two bucket layouts of a pair.
const (
	LayoutDir    Layout = "dir"    // certs/<name>/fullchain.pem + privkey.pem
	LayoutBundle Layout = "bundle" // certs/<name>.pem
)

// Ref names a pair in the bucket and the objects that hold it.
type Ref struct {
	Name   string `json:"name"`
	Layout Layout `json:"layout"`
	// CertKey and KeyKey are the object keys of the two halves (both equal
	// to the bundle's key for LayoutBundle). Either may be empty when that
	// half is missing.
	CertKey string `json:"certKey,omitempty"`
	KeyKey  string `json:"keyKey,omitempty"`
	// DeployKey is the key of deploy.yaml when present.
	DeployKey string `json:"deployKey,omitempty"`
}

// Complete reports whether both halves are present.
func (p Ref) Complete() bool { return p.CertKey != "" && p.KeyKey != "" }

// KeyRef is what an object key says about the pair it belongs to.
type KeyRef struct {
	Name   string
	Layout Layout
	// File is the file name inside certs/<name>/ (LayoutDir only).
	File string
}

// ParseKey resolves an object key under prefix to the pair it belongs to.
// ok is false for keys outside the prefix, keys in deeper folders, and file
// names that are not part of a pair (deploy.yaml is part of it). Keys may
// contain spaces and non-ASCII characters; they are used verbatim.
func ParseKey(prefix, key string) (KeyRef, bool) {
	if !strings.HasPrefix(key, prefix) {
		return KeyRef{}, false
	}
	rest := key[len(prefix):]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		name, file := rest[:i], rest[i+1:]
		if !ValidName(name) || file == "" || strings.Contains(file, "/") {
			return KeyRef{}, false
		}
		if file == DeployFileName || matchesAny(file, name, certFileNames) || matchesAny(file, name, keyFileNames) {
			return KeyRef{Name: name, Layout: LayoutDir, File: file}, true
		}
		return KeyRef{}, false
	}
	name, found := strings.CutSuffix(rest, ".pem")
	if !found || !ValidName(name) {
		return KeyRef{}, false
	}
	return KeyRef{Name: name, Layout: LayoutBundle}, true
}

// ValidName reports whether name can be a pair's name: not empty or blank,
// not "." or "..", without "/" or NUL.
func ValidName(name string) bool {
	return name != "" && name != "." && name != ".." && strings.TrimSpace(name) != "" &&
		!strings.ContainsAny(name, "/\x00")
}

func matchesAny(file, name string, patterns []string) bool {
	for _, p := range patterns {
		if file == strings.ReplaceAll(p, "{name}", name) {
			return true
		}
	}
	return false
}

// resolvePair finds the objects of pair name among keys (the listing of
// prefix+name). When layout is empty, the folder layout wins if it holds
// any half, else the bundle.
func resolvePair(prefix, name string, layout Layout, keys []string) Ref {
	present := make(map[string]bool, len(keys))
	for _, k := range keys {
		present[k] = true
	}
	dir := prefix + name + "/"
	ref := Ref{Name: name, Layout: LayoutDir}
	if present[dir+DeployFileName] {
		ref.DeployKey = dir + DeployFileName
	}
	for _, p := range certFileNames {
		if k := dir + strings.ReplaceAll(p, "{name}", name); present[k] {
			ref.CertKey = k
			break
		}
	}
	for _, p := range keyFileNames {
		if k := dir + strings.ReplaceAll(p, "{name}", name); present[k] {
			ref.KeyKey = k
			break
		}
	}
	bundle := prefix + name + ".pem"
	useBundle := layout == LayoutBundle || (layout == "" && ref.CertKey == "" && ref.KeyKey == "" && present[bundle])
	if useBundle {
		ref.Layout = LayoutBundle
		ref.CertKey, ref.KeyKey = "", ""
		if present[bundle] {
			ref.CertKey, ref.KeyKey = bundle, bundle
		}
	}
	return ref
}

// List returns the pairs stored under prefix in bucket, sorted by name,
// with the keys of their objects. Incomplete pairs are included (see
// Ref.Complete); a name with both layouts is reported once, with the
// folder layout.
func List(ctx context.Context, store ObjectReader, bucket, prefix string) ([]Ref, error) {
	keys, err := store.ListKeys(ctx, bucket, prefix)
	if err != nil {
		return nil, fmt.Errorf("pairs: list %s/%s: %w", bucket, prefix, err)
	}
	byName := map[string][]string{}
	for _, k := range keys {
		ref, ok := ParseKey(prefix, k)
		if !ok {
			continue
		}
		byName[ref.Name] = append(byName[ref.Name], k)
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Ref, 0, len(names))
	for _, n := range names {
		ref := resolvePair(prefix, n, "", byName[n])
		if ref.CertKey == "" && ref.KeyKey == "" && ref.DeployKey != "" {
			continue // only a deploy.yaml: not a pair
		}
		out = append(out, ref)
	}
	return out, nil
}

// listPair lists the objects of one pair and resolves them.
func listPair(ctx context.Context, store ObjectReader, bucket, prefix, name string, layout Layout) (Ref, error) {
	keys, err := store.ListKeys(ctx, bucket, prefix+name)
	if err != nil {
		return Ref{}, fmt.Errorf("pairs: list %s/%s%s: %w", bucket, prefix, name, err)
	}
	return resolvePair(prefix, name, layout, keys), nil
}
