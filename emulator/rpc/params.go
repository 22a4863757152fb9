package rpc

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxRepeated bounds N in repeated parameters (Name.N).
const MaxRepeated = 100

// Repeated returns the values of name.1 … name.N in index order (gaps
// skipped). A field names the member of a list of structs:
// Repeated(p, "Certificates", "CertificateId") reads Certificates.N.CertificateId.
func Repeated(p map[string]string, name string, field ...string) []string {
	suffix := ""
	if len(field) > 0 {
		suffix = "." + field[0]
	}
	var out []string
	for i := 1; i <= MaxRepeated; i++ {
		if v, ok := p[name+"."+strconv.Itoa(i)+suffix]; ok && v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Int parses an optional integer within [lo, hi]; def when absent.
func Int(p map[string]string, name string, def, lo, hi int) (int, *Error) {
	v := p[name]
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, Invalid(name, fmt.Sprintf("must be an integer in [%d, %d]", lo, hi))
	}
	return n, nil
}

// Bool parses an optional boolean parameter ("true"/"false").
func Bool(p map[string]string, name string) (bool, *Error) {
	switch strings.ToLower(p[name]) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, Invalid(name, "must be true or false")
}

// Page cuts one page of n items by NextToken and MaxResults (default def,
// at most max): the [from, to) range and the token of the next page ("" on
// the last page).
func Page(p map[string]string, n, def, max int) (from, to int, next string, aerr *Error) {
	size, aerr := Int(p, "MaxResults", def, 1, max)
	if aerr != nil {
		return 0, 0, "", aerr
	}
	if tok := p["NextToken"]; tok != "" {
		off, err := strconv.ParseInt(strings.TrimPrefix(tok, "FFnt"), 16, 32)
		if !strings.HasPrefix(tok, "FFnt") || err != nil || off < 0 || int(off) > n {
			return 0, 0, "", Errorf(400, "InvalidParameter.NextToken", "The NextToken %q is not valid: pass the NextToken of the previous page unchanged.", tok)
		}
		from = int(off)
	}
	to = min(from+size, n)
	if to < n {
		next = fmt.Sprintf("FFnt%x", to)
	}
	return from, to, next, nil
}
