package fcrt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FunctionSpec describes a deployed function.
type FunctionSpec struct {
	// Name is the function name (FC's functionName).
	Name string `json:"name"`
	// Resource is the s.yaml resource the function came from (LoadSYAML).
	Resource string `json:"resource,omitempty"`
	// Binary is the path of the executable (the bootstrap file).
	Binary string `json:"binary"`
	// Handler is x-fc-function-handler (default "bootstrap").
	Handler string `json:"handler,omitempty"`
	// Region overrides Options.Region for this function.
	Region string `json:"region,omitempty"`
	// Env is the function's environment (environmentVariables).
	Env map[string]string `json:"env,omitempty"`
	// Timeout is the invocation deadline (default 3s, FC's default); JSON
	// carries it as whole seconds under "timeout".
	Timeout time.Duration `json:"-"`
	// MemoryMB is memorySize (default 512).
	MemoryMB int `json:"memoryMB,omitempty"`
	// Initializer runs the function's initializer hook once per instance.
	Initializer bool `json:"initializer,omitempty"`
	// Triggers are the function's OSS and timer triggers.
	Triggers []TriggerSpec `json:"triggers,omitempty"`
	// AsyncRetries is maxAsyncRetryAttempts: 0 means FC's default (3), a
	// negative value means no retry.
	AsyncRetries int `json:"asyncRetries,omitempty"`
	// MaxInstances bounds how many instances run at once (FC scales out
	// one instance per concurrent invocation); 0 means DefaultMaxInstances.
	MaxInstances int `json:"maxInstances,omitempty"`
}

type specJSON FunctionSpec

type specWire struct {
	specJSON
	TimeoutSeconds float64 `json:"timeout,omitempty"`
}

// MarshalJSON encodes Timeout as seconds.
func (s FunctionSpec) MarshalJSON() ([]byte, error) {
	return json.Marshal(specWire{specJSON: specJSON(s), TimeoutSeconds: s.Timeout.Seconds()})
}

// UnmarshalJSON decodes "timeout" as seconds.
func (s *FunctionSpec) UnmarshalJSON(b []byte) error {
	var w specWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = FunctionSpec(w.specJSON)
	s.Timeout = time.Duration(w.TimeoutSeconds * float64(time.Second))
	return nil
}

// TriggerSpec is one trigger of a function.
type TriggerSpec struct {
	Name  string      `json:"name"`
	Type  string      `json:"type"` // oss | timer
	OSS   OSSTrigger  `json:"oss,omitzero"`
	Timer TimerConfig `json:"timer,omitzero"`
}

// OSSTrigger is an OSS trigger's configuration.
type OSSTrigger struct {
	// BucketName restricts the trigger to one bucket ("" = any bucket).
	BucketName string `json:"bucketName,omitempty"`
	// Events as configured, with the "oss:" prefix, e.g.
	// oss:ObjectCreated:PutObject or oss:ObjectCreated:*.
	Events []string `json:"events"`
	Prefix string   `json:"prefix,omitempty"`
	Suffix string   `json:"suffix,omitempty"`
}

// TimerConfig is a timer trigger's configuration.
type TimerConfig struct {
	CronExpression string `json:"cronExpression,omitempty"`
	Payload        string `json:"payload,omitempty"`
	Enable         bool   `json:"enable"`
}

func (s FunctionSpec) validate() error {
	if s.Name == "" {
		return errors.New("fcrt: function spec without a name")
	}
	if s.Binary == "" {
		return fmt.Errorf("fcrt: function %s: no binary", s.Name)
	}
	for _, t := range s.Triggers {
		if t.Type != "oss" && t.Type != "timer" {
			return fmt.Errorf("fcrt: function %s: trigger %s: unsupported type %q", s.Name, t.Name, t.Type)
		}
	}
	return nil
}

func (s FunctionSpec) withDefaults() FunctionSpec {
	if s.Handler == "" {
		s.Handler = "bootstrap"
	}
	if s.Timeout <= 0 {
		s.Timeout = 3 * time.Second
	}
	if s.MemoryMB == 0 {
		s.MemoryMB = 512
	}
	if s.MaxInstances <= 0 {
		s.MaxInstances = DefaultMaxInstances
	}
	return s
}

func (s FunctionSpec) retries() int {
	switch {
	case s.AsyncRetries < 0:
		return 0
	case s.AsyncRetries == 0:
		return 3
	}
	return s.AsyncRetries
}

// DefaultMaxInstances is how many instances of a function may run at once
// when FunctionSpec.MaxInstances is zero.
const DefaultMaxInstances = 3

// function runs invocations on up to spec.MaxInstances instances, each one
// invocation at a time, like FC scaling out: a new instance starts when all
// running ones are busy and fewer than the limit run; idle instances stay
// warm and are reused (the most recently used first).
type function struct {
	rt   *Runtime
	spec FunctionSpec
	// slots holds one token per invocation in flight (capacity
	// MaxInstances): busy instances never outnumber it.
	slots chan struct{}

	mu          sync.Mutex
	idle        []*instance // warm, not running an invocation
	live        []*instance // every started instance not yet replaced
	invocations int
	stopped     bool
}

func newFunction(rt *Runtime, spec FunctionSpec) *function {
	return &function{rt: rt, spec: spec, slots: make(chan struct{}, spec.MaxInstances)}
}

// status reports the live instances' process ids (sorted by start) and the
// number of invocations so far.
func (f *function) status() (pids []int, invocations int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, inst := range f.live {
		if inst.alive() {
			pids = append(pids, inst.cmd.Process.Pid)
		}
	}
	return pids, f.invocations
}

func (f *function) stop() {
	f.mu.Lock()
	f.stopped = true
	insts := f.live
	f.live, f.idle = nil, nil
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, inst := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inst.kill()
		}()
	}
	wg.Wait()
}

// invocation is one event handed to an instance.
type invocation struct {
	id       string
	payload  []byte
	fnType   string // "" | "1" (initializer)
	retry    int    // -1 = synchronous (no header)
	deadline time.Time
	done     chan invokeResult
}

type invokeResult struct {
	body    []byte
	isError bool
}

// invoke runs one invocation; retry < 0 marks a synchronous call. It
// returns the id of the instance that ran it ("" when none did).
func (f *function) invoke(ctx context.Context, id string, payload []byte, retry int) (body []byte, errType, instanceID string, err error) {
	select {
	case f.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, "", "", fmt.Errorf("fcrt: invoke %s: %w", f.spec.Name, ctx.Err())
	}
	inst, initBody, err := f.instance(ctx)
	if err != nil {
		<-f.slots
		return nil, "", "", err
	}
	if initBody != nil {
		<-f.slots
		return initBody, ErrTypeInitialization, inst.id, nil
	}
	f.mu.Lock()
	f.invocations++
	f.mu.Unlock()
	inv := &invocation{id: id, payload: payload, retry: retry, deadline: f.rt.opts.Now().Add(f.spec.Timeout), done: make(chan invokeResult, 1)}
	res, errType, err, busy := inst.run(ctx, inv, f.spec.Timeout)
	switch {
	case busy:
		// The caller gave up but the function still runs: keep the
		// instance and the slot until it finishes (or overruns its deadline
		// and is killed) so that each instance runs one invocation at a time.
		go func() {
			t := time.NewTimer(time.Until(inv.deadline) + 50*time.Millisecond)
			defer t.Stop()
			select {
			case <-inv.done:
				f.park(inst)
			case <-inst.dead:
				f.replace(inst)
			case <-t.C:
				f.replace(inst)
			}
			<-f.slots
		}()
		return res, errType, inst.id, err
	case errType == "timeout":
		f.replace(inst)
		<-f.slots
		return timeoutBody(f.spec.Timeout), ErrTypeUnhandled, inst.id, nil
	case errType == "exited":
		f.replace(inst)
		<-f.slots
		return errorBody("Process exited unexpectedly before completing request", "ProcessExited"), ErrTypeUnhandled, inst.id, nil
	}
	f.park(inst)
	<-f.slots
	return res, errType, inst.id, err
}

func errorBody(msg, typ string) []byte {
	b, _ := json.Marshal(map[string]string{"errorMessage": msg, "errorType": typ})
	return b
}

func timeoutBody(d time.Duration) []byte {
	return errorBody(fmt.Sprintf("Function timed out after %s", strconv.FormatFloat(d.Seconds(), 'f', -1, 64)+" seconds"), "FunctionTimeout")
}

// park returns a finished instance to the warm pool (a dead one is
// forgotten).
func (f *function) park(inst *instance) {
	if !inst.alive() {
		f.replace(inst)
		return
	}
	f.mu.Lock()
	if f.stopped || !slices.Contains(f.live, inst) {
		f.mu.Unlock()
		inst.kill()
		return
	}
	f.idle = append(f.idle, inst)
	f.mu.Unlock()
}

// replace kills inst and forgets it so that a later call starts afresh.
func (f *function) replace(inst *instance) {
	f.mu.Lock()
	f.live = slices.DeleteFunc(f.live, func(i *instance) bool { return i == inst })
	f.idle = slices.DeleteFunc(f.idle, func(i *instance) bool { return i == inst })
	f.mu.Unlock()
	inst.kill()
}

// instance returns a live idle instance, starting one (and running the
// initializer) when none is idle; the caller holds a slot. A failed
// initializer returns its error body.
func (f *function) instance(ctx context.Context) (*instance, []byte, error) {
	f.mu.Lock()
	for len(f.idle) > 0 {
		inst := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if inst.alive() {
			f.mu.Unlock()
			return inst, nil, nil
		}
		f.live = slices.DeleteFunc(f.live, func(i *instance) bool { return i == inst })
	}
	if f.stopped {
		f.mu.Unlock()
		return nil, nil, ErrClosed
	}
	f.mu.Unlock()
	inst, err := startInstance(f.rt, f.spec)
	if err != nil {
		return nil, nil, err
	}
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		inst.kill()
		return nil, nil, ErrClosed
	}
	f.live = append(f.live, inst)
	f.mu.Unlock()
	if f.spec.Initializer {
		inv := &invocation{id: newRequestID(), fnType: "1", retry: -1, deadline: f.rt.opts.Now().Add(f.spec.Timeout), done: make(chan invokeResult, 1)}
		res, errType, err, _ := inst.run(ctx, inv, f.spec.Timeout)
		if err != nil || errType != "" {
			f.replace(inst)
			if err != nil {
				return nil, nil, err
			}
			if len(res) == 0 {
				res = errorBody("initializer failed: "+errType, "InitializationError")
			}
			return inst, res, nil
		}
	}
	return inst, nil, nil
}

// instance is one running function process with its runtime API server.
type instance struct {
	rt    *Runtime
	spec  FunctionSpec
	id    string
	cmd   *exec.Cmd
	ln    net.Listener
	srv   *http.Server
	next  chan *invocation
	dead  chan struct{}
	out   *prefixed
	errw  *prefixed
	once  sync.Once
	mu    sync.Mutex
	inflt map[string]*invocation
}

func startInstance(rt *Runtime, spec FunctionSpec) (*instance, error) {
	bin, err := filepath.Abs(spec.Binary)
	if err != nil {
		return nil, fmt.Errorf("fcrt: start %s: %w", spec.Name, err)
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return nil, fmt.Errorf("fcrt: start %s: binary %s is missing (build it first)", spec.Name, bin)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fcrt: start %s: listen: %w", spec.Name, err)
	}
	inst := &instance{rt: rt, spec: spec, id: newRequestID(), ln: ln, next: make(chan *invocation),
		dead: make(chan struct{}), inflt: map[string]*invocation{}}
	mux := http.NewServeMux()
	for _, v := range []string{"2020-11-11", "2018-06-01"} {
		mux.HandleFunc("GET /"+v+"/runtime/invocation/next", inst.handleNext)
		mux.HandleFunc("POST /"+v+"/runtime/invocation/{id}/response", inst.handleResult(false))
		mux.HandleFunc("POST /"+v+"/runtime/invocation/{id}/error", inst.handleResult(true))
	}
	inst.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go inst.srv.Serve(ln)

	region := spec.Region
	if region == "" {
		region = rt.opts.Region
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"TMPDIR=" + os.TempDir(),
		"FC_RUNTIME_API=" + ln.Addr().String(),
		"FC_RUNTIME=go1",
		"FC_FUNCTION_NAME=" + spec.Name,
		"FC_FUNCTION_HANDLER=" + spec.Handler,
		"FC_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(spec.MemoryMB),
		"FC_TIMEOUT=" + strconv.Itoa(int(spec.Timeout.Seconds())),
		"FC_REGION=" + region,
		"FC_ACCOUNT_ID=" + rt.opts.AccountID,
		"FC_INSTANCE_ID=" + inst.id,
		"FC_FUNC_CODE_PATH=" + filepath.Dir(bin) + "/",
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + rt.opts.Credentials.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + rt.opts.Credentials.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN=" + rt.opts.Credentials.SecurityToken,
	}
	// The function's own variables win, except that an empty value does
	// not erase one the runtime provides (s.yaml's "${env('SLB_ENDPOINT','')}").
	merged := map[string]string{}
	for k, v := range rt.opts.Env {
		merged[k] = v
	}
	for k, v := range spec.Env {
		if v != "" || merged[k] == "" {
			merged[k] = v
		}
	}
	env = append(env, sortedEnv(merged)...)
	cmd := exec.Command(bin)
	cmd.Dir = filepath.Dir(bin)
	cmd.Env = env
	inst.out = rt.logs.with("[" + spec.Name + "] ")
	inst.errw = rt.logs.with("[" + spec.Name + "] ")
	cmd.Stdout = inst.out
	cmd.Stderr = inst.errw
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		inst.srv.Close()
		return nil, fmt.Errorf("fcrt: start %s: %w", spec.Name, err)
	}
	inst.cmd = cmd
	go func() {
		cmd.Wait()
		inst.out.flush()
		inst.errw.flush()
		close(inst.dead)
	}()
	return inst, nil
}

func sortedEnv(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

func (i *instance) alive() bool {
	select {
	case <-i.dead:
		return false
	default:
		return true
	}
}

// kill kills the process group, waits for the process, then stops the
// runtime API server (in that order: the SDK spins on a dead /next).
func (i *instance) kill() {
	i.once.Do(func() {
		if i.cmd != nil && i.cmd.Process != nil {
			killGroup(i.cmd.Process)
			<-i.dead
		}
		i.srv.Close()
	})
}

// run hands inv to the instance and waits for its result. errType is
// "timeout" or "exited" for those outcomes (the caller restarts the
// instance). busy reports that ctx ended while the function still runs.
func (i *instance) run(ctx context.Context, inv *invocation, timeout time.Duration) (body []byte, errType string, err error, busy bool) {
	t := time.NewTimer(time.Until(inv.deadline))
	defer t.Stop()
	select {
	case i.next <- inv:
	case <-i.dead:
		return nil, "exited", nil, false
	case <-t.C:
		return nil, "timeout", nil, false
	case <-ctx.Done():
		return nil, "", fmt.Errorf("fcrt: invoke %s: %w", i.spec.Name, ctx.Err()), false
	}
	select {
	case r := <-inv.done:
		if r.isError {
			return r.body, ErrTypeUnhandled, nil, false
		}
		return r.body, "", nil, false
	case <-i.dead:
		return nil, "exited", nil, false
	case <-t.C:
		return nil, "timeout", nil, false
	case <-ctx.Done():
		return nil, "", fmt.Errorf("fcrt: invoke %s: %w", i.spec.Name, ctx.Err()), true
	}
}

func (i *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	var inv *invocation
	select {
	case inv = <-i.next:
	case <-r.Context().Done():
		return
	case <-i.dead:
		return
	}
	i.mu.Lock()
	i.inflt[inv.id] = inv
	i.mu.Unlock()
	region := i.spec.Region
	if region == "" {
		region = i.rt.opts.Region
	}
	c := i.rt.opts.Credentials
	h := w.Header()
	h.Set("x-fc-request-id", inv.id)
	h.Set("x-fc-function-deadline", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("x-fc-function-timeout", strconv.Itoa(int(i.spec.Timeout.Seconds())))
	h.Set("x-fc-access-key-id", c.AccessKeyID)
	h.Set("x-fc-access-key-secret", c.AccessKeySecret)
	h.Set("x-fc-security-token", c.SecurityToken)
	h.Set("x-fc-function-name", i.spec.Name)
	h.Set("x-fc-function-handler", i.spec.Handler)
	h.Set("x-fc-function-memory", strconv.Itoa(i.spec.MemoryMB))
	h.Set("x-fc-region", region)
	h.Set("x-fc-account-id", i.rt.opts.AccountID)
	h.Set("x-fc-qualifier", "LATEST")
	h.Set("x-fc-version-id", "LATEST")
	if inv.retry >= 0 {
		h.Set("x-fc-retry-count", strconv.Itoa(inv.retry))
	}
	if inv.fnType != "" {
		h.Set("x-fc-function-type", inv.fnType)
	}
	h.Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	w.Write(inv.payload)
}

func (i *instance) handleResult(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		i.mu.Lock()
		inv, ok := i.inflt[id]
		delete(i.inflt, id)
		i.mu.Unlock()
		if !ok {
			http.Error(w, "unknown request id", http.StatusNotFound)
			return
		}
		inv.done <- invokeResult{body: body, isError: isError}
		w.WriteHeader(http.StatusOK)
	}
}

// matchOSSEvent reports whether a trigger fires for an event name (without
// the oss: prefix) and key.
func matchOSSEvent(t OSSTrigger, bucket, eventName, key string) bool {
	if t.BucketName != "" && t.BucketName != bucket {
		return false
	}
	if !strings.HasPrefix(key, t.Prefix) || !strings.HasSuffix(key, t.Suffix) {
		return false
	}
	for _, e := range t.Events {
		e = strings.TrimPrefix(e, "oss:")
		if e == eventName {
			return true
		}
		if p, ok := strings.CutSuffix(e, "*"); ok && strings.HasPrefix(eventName, p) {
			return true
		}
	}
	return false
}
