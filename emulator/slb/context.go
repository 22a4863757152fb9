package slb

import (
	"context"
	"net/http"
	"net/url"
)

type targetKey struct{}

func contextWithTarget(r *http.Request, u *url.URL) context.Context {
	return context.WithValue(r.Context(), targetKey{}, u)
}
