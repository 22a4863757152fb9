package slb

import (
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

// MaxClockSkew is how far a request's Timestamp may be from the server clock.
const MaxClockSkew = rpc.MaxClockSkew

// StringToSign builds the RPC string to sign (see rpc.StringToSign).
func StringToSign(method string, params map[string]string) string {
	return rpc.StringToSign(method, params)
}

// Sign returns the RPC signature of stringToSign (see rpc.Sign).
func Sign(secret, stringToSign string) string { return rpc.Sign(secret, stringToSign) }

// apiError is an error answer of the service.
type apiError = rpc.Error

func errorf(status int, code, format string, args ...any) *apiError {
	return rpc.Errorf(status, code, format, args...)
}

func missing(name string) *apiError { return rpc.Missing(name) }

func invalid(name, why string) *apiError { return rpc.Invalid(name, why) }

// IsWrite reports whether action changes state (everything but Describe* and
// List*): the actions whose answer DecideAfter may lose after they applied.
func IsWrite(action string) bool {
	_, known := actions[action]
	return known && !strings.HasPrefix(action, "Describe") && !strings.HasPrefix(action, "List")
}
