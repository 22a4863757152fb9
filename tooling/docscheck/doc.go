// Package docscheck holds the test that keeps docs/internals.md's tables of
// "where each behaviour lives" true: every repository path they name exists,
// and every identifier they name is declared in the package they name.
package docscheck
