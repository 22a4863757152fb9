package fcrt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand"
	"sort"
	"sync"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/pause"
)

// Error types reported like FC's X-Fc-Error-Type header.
const (
	ErrTypeUnhandled      = "UnhandledInvocationError"
	ErrTypeInitialization = "InitializationError"
)

// ErrNoSuchFunction is returned for an undeployed function name.
var ErrNoSuchFunction = errors.New("fcrt: function not found")

// ErrNoSuchTrigger is returned for an unknown trigger name.
var ErrNoSuchTrigger = errors.New("fcrt: trigger not found")

// ErrTriggerDisabled is returned when firing a timer with enable: false.
var ErrTriggerDisabled = errors.New("fcrt: trigger is disabled")

// ErrClosed is returned after Close.
var ErrClosed = errors.New("fcrt: runtime closed")

// Credentials are the STS triple handed to every invocation.
type Credentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"-"`
	SecurityToken   string `json:"-"`
}

// Fault is what the fault injector decided for one control-API request.
type Fault struct {
	Delay       time.Duration
	Throttle    bool
	ServerError bool
}

// OSSDelivery shapes how OSS trigger events are delivered.
type OSSDelivery struct {
	// Duplicate delivers every event twice (at-least-once delivery).
	Duplicate bool
	// Delay is added before every delivery.
	Delay time.Duration
	// Reorder adds a random extra delay in [0, Reorder) to every delivery,
	// so that close events may arrive out of order.
	Reorder time.Duration
}

// Options configure a Runtime.
type Options struct {
	// Credentials are handed to functions in the x-fc-access-key-* headers
	// and the ALIBABA_CLOUD_* environment variables.
	Credentials Credentials
	// Logs receives the functions' stdout and stderr, each line prefixed
	// with the function name (default io.Discard).
	Logs io.Writer
	// Region is FC_REGION / x-fc-region for functions without their own
	// (default cn-zhangjiakou); AccountID likewise (default 1234567890123456).
	Region    string
	AccountID string
	// Env is added to every function's environment (under the function's
	// own variables), e.g. endpoints of the local cloud.
	Env map[string]string
	// RetryBackoff is the wait before the first async retry; it doubles
	// with every retry (default 500ms, like FC's first backoff step).
	RetryBackoff time.Duration
	// OSS shapes OSS trigger deliveries.
	OSS OSSDelivery
	// Seed seeds the reordering delays.
	Seed int64
	// Faults, when set, is consulted on the invoke endpoint with the
	// action "fc:InvokeFunction".
	Faults func(action string) Fault
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// AsyncRecord is the outcome of one asynchronous invocation (with retries).
type AsyncRecord struct {
	RequestID string `json:"requestId"`
	Function  string `json:"function"`
	Source    string `json:"source"`
	Attempts  int    `json:"attempts"`
	// InstanceID is FC_INSTANCE_ID of the instance that ran the last attempt.
	InstanceID string          `json:"instanceId,omitempty"`
	Status     string          `json:"status"` // pending | succeeded | failed
	ErrorType  string          `json:"errorType,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	Started    time.Time       `json:"started"`
	Finished   time.Time       `json:"finished,omitzero"`
}

// Runtime runs functions. It is safe for concurrent use.
type Runtime struct {
	opts   Options
	logs   *lineWriter
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	functions map[string]*function
	async     []*AsyncRecord
	pending   int
	closed    bool
	rnd       *mrand.Rand
	wg        sync.WaitGroup
}

// New returns an empty Runtime.
func New(opts Options) *Runtime {
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	if opts.Region == "" {
		opts.Region = "cn-zhangjiakou"
	}
	if opts.AccountID == "" {
		opts.AccountID = "1234567890123456"
	}
	if opts.RetryBackoff == 0 {
		opts.RetryBackoff = 500 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runtime{
		opts:      opts,
		logs:      &lineWriter{w: opts.Logs},
		ctx:       ctx,
		cancel:    cancel,
		functions: map[string]*function{},
		rnd:       mrand.New(mrand.NewSource(opts.Seed)),
	}
}

// SetOSSDelivery changes how OSS trigger events are delivered from now on.
func (rt *Runtime) SetOSSDelivery(d OSSDelivery) {
	rt.mu.Lock()
	rt.opts.OSS = d
	rt.mu.Unlock()
}

// Deploy adds or replaces a function. A replaced function's instance is
// stopped (after its current invocation, if any).
func (rt *Runtime) Deploy(spec FunctionSpec) error {
	if err := spec.validate(); err != nil {
		return err
	}
	spec = spec.withDefaults()
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return ErrClosed
	}
	old := rt.functions[spec.Name]
	rt.functions[spec.Name] = newFunction(rt, spec)
	rt.mu.Unlock()
	if old != nil {
		old.stop()
	}
	return nil
}

// Functions returns the deployed specs sorted by name.
func (rt *Runtime) Functions() []FunctionSpec {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make([]FunctionSpec, 0, len(rt.functions))
	for _, f := range rt.functions {
		out = append(out, f.spec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (rt *Runtime) function(name string) (*function, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return nil, ErrClosed
	}
	f, ok := rt.functions[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchFunction, name)
	}
	return f, nil
}

// Invoke runs one synchronous invocation and returns the function's result
// (its JSON-encoded return value), or, when errType is non-empty, the error
// body FC returns ({"errorMessage","errorType"[,"stackTrace"]}) with errType
// as X-Fc-Error-Type. err reports a failure to invoke at all (unknown
// function, ctx done, runtime closed).
func (rt *Runtime) Invoke(ctx context.Context, name string, payload []byte) (result []byte, errType string, err error) {
	f, err := rt.function(name)
	if err != nil {
		return nil, "", err
	}
	res, errType, _, err := f.invoke(ctx, newRequestID(), payload, -1)
	return res, errType, err
}

// InvokeAsync queues an asynchronous invocation and returns its request id.
// A failed invocation is retried like FC (AsyncRetries times, backoff
// doubling from Options.RetryBackoff).
func (rt *Runtime) InvokeAsync(name string, payload []byte) (string, error) {
	return rt.invokeAsync(name, payload, 0, "api", nil)
}

func (rt *Runtime) invokeAsync(name string, payload []byte, delay time.Duration, source string, done chan<- *AsyncRecord) (string, error) {
	f, err := rt.function(name)
	if err != nil {
		return "", err
	}
	rec := &AsyncRecord{RequestID: newRequestID(), Function: name, Source: source, Status: "pending", Started: rt.opts.Now().UTC()}
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return "", ErrClosed
	}
	rt.pending++
	rt.async = append(rt.async, rec)
	rt.wg.Add(1)
	rt.mu.Unlock()
	go func() {
		defer rt.wg.Done()
		rt.runAsync(f, rec, payload, delay)
		rt.mu.Lock()
		rt.pending--
		rt.mu.Unlock()
		if done != nil {
			done <- rec
		}
	}()
	return rec.RequestID, nil
}

func (rt *Runtime) runAsync(f *function, rec *AsyncRecord, payload []byte, delay time.Duration) {
	finish := func(status, errType string, result []byte) {
		rt.mu.Lock()
		rec.Status, rec.ErrorType, rec.Result, rec.Finished = status, errType, json.RawMessage(result), rt.opts.Now().UTC()
		rt.mu.Unlock()
	}
	if !pause.For(rt.ctx, delay) {
		finish("failed", "", nil)
		return
	}
	retries := f.spec.retries()
	backoff := rt.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		rt.mu.Lock()
		rec.Attempts = attempt + 1
		rt.mu.Unlock()
		res, errType, instanceID, err := f.invoke(rt.ctx, rec.RequestID, payload, attempt)
		rt.mu.Lock()
		if instanceID != "" {
			rec.InstanceID = instanceID
		}
		rt.mu.Unlock()
		if err == nil && errType == "" {
			finish("succeeded", "", validJSON(res))
			return
		}
		if err != nil || attempt >= retries {
			if err != nil && errType == "" {
				errType = "InternalError"
			}
			finish("failed", errType, validJSON(res))
			return
		}
		if !pause.For(rt.ctx, backoff) {
			finish("failed", errType, validJSON(res))
			return
		}
		backoff *= 2
	}
}

func validJSON(b []byte) []byte {
	if len(b) == 0 || !json.Valid(b) {
		return nil
	}
	return b
}

// AsyncResults returns a copy of the asynchronous invocation log.
func (rt *Runtime) AsyncResults() []AsyncRecord {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make([]AsyncRecord, len(rt.async))
	for i, r := range rt.async {
		out[i] = *r
	}
	return out
}

// WaitIdle waits until no asynchronous invocation (including delayed OSS
// deliveries and retries) is pending.
func (rt *Runtime) WaitIdle(ctx context.Context) error {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		rt.mu.Lock()
		n := rt.pending
		rt.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fcrt: wait idle with %d pending: %w", n, ctx.Err())
		case <-t.C:
		}
	}
}

// Close cancels pending asynchronous work and kills every function
// instance (and its process group). It waits for the children to exit.
func (rt *Runtime) Close() error {
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil
	}
	rt.closed = true
	fns := make([]*function, 0, len(rt.functions))
	for _, f := range rt.functions {
		fns = append(fns, f)
	}
	rt.mu.Unlock()
	rt.cancel()
	for _, f := range fns {
		f.stop()
	}
	rt.wg.Wait()
	return nil
}

// Dump is the read-only state of the runtime for /local/state.
type Dump struct {
	Functions []FunctionDump `json:"functions"`
	Async     []AsyncRecord  `json:"async"`
	Pending   int            `json:"pending"`
}

// FunctionDump is one function in Dump.
type FunctionDump struct {
	Spec    FunctionSpec `json:"spec"`
	Running bool         `json:"running"`
	// PID is the first running instance's process id; PIDs lists all.
	PID         int   `json:"pid,omitempty"`
	PIDs        []int `json:"pids,omitempty"`
	Instances   int   `json:"instances"`
	Invocations int   `json:"invocations"`
}

// Dump returns the runtime's state.
func (rt *Runtime) Dump() Dump {
	specs := rt.Functions()
	d := Dump{Functions: []FunctionDump{}, Async: rt.AsyncResults()}
	for _, s := range specs {
		f, err := rt.function(s.Name)
		if err != nil {
			continue
		}
		pids, n := f.status()
		fd := FunctionDump{Spec: s, Running: len(pids) > 0, PIDs: pids, Instances: len(pids), Invocations: n}
		if len(pids) > 0 {
			fd.PID = pids[0]
		}
		d.Functions = append(d.Functions, fd)
	}
	rt.mu.Lock()
	d.Pending = rt.pending
	rt.mu.Unlock()
	return d
}

// newRequestID returns an FC-style request id (UUID v4 form).
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// lineWriter prefixes each line written through a prefixed writer and
// serialises writes to the shared sink.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

type prefixed struct {
	lw     *lineWriter
	prefix string
	buf    []byte
}

func (lw *lineWriter) with(prefix string) *prefixed { return &prefixed{lw: lw, prefix: prefix} }

func (p *prefixed) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := indexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.lw.mu.Lock()
		p.lw.w.Write(append([]byte(p.prefix), p.buf[:i+1]...))
		p.lw.mu.Unlock()
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixed) flush() {
	if len(p.buf) > 0 {
		p.lw.mu.Lock()
		p.lw.w.Write(append(append([]byte(p.prefix), p.buf...), '\n'))
		p.lw.mu.Unlock()
		p.buf = nil
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
