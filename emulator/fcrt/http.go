package fcrt

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// Handler returns the control API:
//
//	POST /2023-03-30/functions/{name}/invocations   x-fc-invocation-type: Sync (default) | Async
//	PUT  /local/functions/{name}                    deploy a FunctionSpec (JSON)
//	GET  /local/functions                           deployed specs
//	POST /local/functions/{name}/triggers/{trigger}/fire   fire a timer trigger
//	GET  /local/fc/state                            Dump
func (rt *Runtime) Handler() http.Handler {
	mux := http.NewServeMux()
	rt.Register(mux)
	return mux
}

// Register adds the control API routes to mux.
func (rt *Runtime) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /2023-03-30/functions/{name}/invocations", rt.handleInvoke)
	mux.HandleFunc("PUT /local/functions/{name}", rt.handleDeploy)
	mux.HandleFunc("GET /local/functions", rt.handleList)
	mux.HandleFunc("POST /local/functions/{name}/triggers/{trigger}/fire", rt.handleFire)
	mux.HandleFunc("GET /local/fc/state", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, rt.Dump()) })
}

type apiError struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestId"`
}

func fail(w http.ResponseWriter, status int, code, msg, reqID string) {
	w.Header().Set("x-fc-request-id", reqID)
	writeJSON(w, status, apiError{Code: code, Message: msg, RequestID: reqID})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func failFor(w http.ResponseWriter, err error, reqID string) {
	switch {
	case errors.Is(err, ErrNoSuchFunction):
		fail(w, http.StatusNotFound, "FunctionNotFound", err.Error(), reqID)
	case errors.Is(err, ErrNoSuchTrigger):
		fail(w, http.StatusNotFound, "TriggerNotFound", err.Error(), reqID)
	case errors.Is(err, ErrTriggerDisabled):
		fail(w, http.StatusBadRequest, "TriggerDisabled", err.Error(), reqID)
	default:
		fail(w, http.StatusInternalServerError, "InternalError", err.Error(), reqID)
	}
}

func (rt *Runtime) handleInvoke(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	reqID := r.Header.Get("x-fc-request-id")
	if reqID == "" {
		reqID = newRequestID()
	}
	if rt.opts.Faults != nil {
		f := rt.opts.Faults("fc:InvokeFunction")
		if !pause.For(r.Context(), f.Delay) {
			return
		}
		if f.Throttle {
			fail(w, http.StatusTooManyRequests, "ResourceThrottled", "Reserve resource exhausted, please try again later.", reqID)
			return
		}
		if f.ServerError {
			fail(w, http.StatusServiceUnavailable, "ResourceExhausted", "Function compute is busy, please try again later.", reqID)
			return
		}
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if err != nil {
		fail(w, http.StatusBadRequest, "InvalidArgument", "read body: "+err.Error(), reqID)
		return
	}
	if strings.EqualFold(r.Header.Get("x-fc-invocation-type"), "Async") {
		if len(payload) > 128<<10 {
			fail(w, http.StatusRequestEntityTooLarge, "PayloadTooLarge", "async payload exceeds 128 KB", reqID)
			return
		}
		id, err := rt.invokeAsync(name, payload, 0, "api", nil)
		if err != nil {
			failFor(w, err, reqID)
			return
		}
		w.Header().Set("x-fc-request-id", id)
		w.WriteHeader(http.StatusAccepted)
		return
	}
	f, err := rt.function(name)
	if err != nil {
		failFor(w, err, reqID)
		return
	}
	res, errType, instanceID, err := f.invoke(r.Context(), reqID, payload, -1)
	if err != nil {
		failFor(w, err, reqID)
		return
	}
	w.Header().Set("x-fc-request-id", reqID)
	if instanceID != "" {
		w.Header().Set("x-fc-instance-id", instanceID)
	}
	if errType != "" {
		w.Header().Set("X-Fc-Error-Type", errType)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(res)
}

func (rt *Runtime) handleDeploy(w http.ResponseWriter, r *http.Request) {
	var spec FunctionSpec
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &spec)
	}
	if err != nil {
		fail(w, http.StatusBadRequest, "InvalidArgument", "function spec: "+err.Error(), newRequestID())
		return
	}
	spec.Name = r.PathValue("name")
	if err := rt.Deploy(spec); err != nil {
		fail(w, http.StatusBadRequest, "InvalidArgument", err.Error(), newRequestID())
		return
	}
	writeJSON(w, http.StatusOK, spec.withDefaults())
}

func (rt *Runtime) handleList(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, rt.Functions())
}

func (rt *Runtime) handleFire(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	res, errType, err := rt.FireTimer(r.Context(), r.PathValue("name"), r.PathValue("trigger"))
	if err != nil {
		failFor(w, err, reqID)
		return
	}
	if errType != "" {
		w.Header().Set("X-Fc-Error-Type", errType)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(res)
}
