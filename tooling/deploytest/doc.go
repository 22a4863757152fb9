// Package deploytest holds the tests of the deployment files at the
// repository root: s.yaml (rendered by the real Serverless Devs CLI and
// validated against the fc3 props schema, plus the project's own checks that
// the schema cannot express), the sample events under events/, and the
// correspondence between functions/* and the s.yaml resources. It has no
// non-test code.
package deploytest
