package provisioning

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

// Actions a payload may ask for.
const (
	ActionApply   = "apply"
	ActionPlan    = "plan"
	ActionDestroy = "destroy"
)

// Desired is the declarative payload of the provision function: the state
// one Classic Load Balancer should be in. See the package documentation for
// the JSON form.
type Desired struct {
	// Action is apply (default), plan or destroy.
	Action string `json:"action,omitempty"`
	// Region is the region id, e.g. cn-zhangjiakou.
	Region       string         `json:"region"`
	LoadBalancer Instance       `json:"loadBalancer"`
	Backends     []BackendSpec  `json:"backends,omitempty"`
	Listeners    []ListenerSpec `json:"listeners,omitempty"`
}

// Instance describes the load balancer instance itself. Name identifies it
// in the region (together with the ownership tag); the other fields are
// only used when the instance is created.
type Instance struct {
	Name         string `json:"name"`
	MasterZoneID string `json:"masterZoneId,omitempty"`
	SlaveZoneID  string `json:"slaveZoneId,omitempty"`
	PayType      string `json:"payType,omitempty"`
	Spec         string `json:"spec,omitempty"`
	AddressType  string `json:"addressType,omitempty"`
	// Bandwidth of the instance (pay-by-bandwidth), 0 = not sent.
	Bandwidth int `json:"bandwidth,omitempty"`
}

// BackendSpec is one ECS backend server.
type BackendSpec struct {
	ServerID string `json:"serverId"`
	// Weight 0..100; nil means the API default 100.
	Weight *int `json:"weight,omitempty"`
	// Type is ecs (default) or eni.
	Type string `json:"type,omitempty"`
}

// EffectiveWeight returns the weight with the default applied.
func (b BackendSpec) EffectiveWeight() int {
	if b.Weight == nil {
		return 100
	}
	return *b.Weight
}

// ListenerSpec is one HTTPS listener.
type ListenerSpec struct {
	FrontendPort  int    `json:"frontendPort"`
	BackendPort   int    `json:"backendPort"`
	Protocol      string `json:"protocol,omitempty"`
	Bandwidth     *int   `json:"bandwidth,omitempty"`
	HealthCheck   string `json:"healthCheck,omitempty"`
	StickySession string `json:"stickySession,omitempty"`
	// Certificate names the pair in the bucket (certs/<name>/...).
	Certificate      string                `json:"certificate"`
	DomainExtensions []DomainExtensionSpec `json:"domainExtensions,omitempty"`
}

// DomainExtensionSpec is one SNI certificate on a listener.
type DomainExtensionSpec struct {
	Domain      string `json:"domain"`
	Certificate string `json:"certificate"`
}

// Problem is one thing wrong with a payload, named by its JSON path.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// String renders "path: message; fix: fix".
func (p Problem) String() string {
	s := p.Path + ": " + p.Message
	if p.Fix != "" {
		s += "; fix: " + p.Fix
	}
	return s
}

// ValidationError lists every problem of a payload at once. It answers
// errors.Is(err, apierr.ErrInvalid): retrying the same payload cannot help.
type ValidationError struct {
	Problems []Problem
}

// Error joins all problems.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("provisioning: payload has %d problem(s): %s", len(e.Problems), strings.Join(parts, "; "))
}

// Is makes a ValidationError a permanent (invalid) error.
func (e *ValidationError) Is(target error) bool { return target == apierr.ErrInvalid }

// Strings returns the problems rendered one per entry.
func (e *ValidationError) Strings() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

// Limits checked before any call.
const (
	maxBackends         = 200
	maxListeners        = 50
	maxDomainExtensions = 10
	maxBandwidth        = 5120
)

var (
	validSpecs        = []string{"slb.s1.small", "slb.s2.small", "slb.s2.medium", "slb.s3.small", "slb.s3.medium", "slb.s3.large"}
	validAddressTypes = []string{"internet", "intranet"}
	validPayTypes     = []string{"PayOnDemand"}
	validOnOff        = []string{"on", "off"}
	validBackendTypes = []string{"ecs", "eni"}

	nameRE     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]{0,79}$`)
	pairNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$`)
	serverRE   = regexp.MustCompile(`^(i|eni)-[A-Za-z0-9]+$`)
	domainRE   = regexp.MustCompile(`^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$`)
)

// Parse decodes and validates a payload. Unknown fields, wrong types and
// every semantic problem are reported together in a *ValidationError; no
// cloud call is needed. The returned Desired has Action and defaults filled
// in (action apply, protocol https, health check and stickiness off, pay
// type PayOnDemand, address type internet, backend type ecs).
func Parse(payload []byte) (Desired, error) {
	if len(bytes.TrimSpace(payload)) == 0 {
		return Desired{}, &ValidationError{Problems: []Problem{{Path: "$", Message: "empty payload", Fix: `send the desired state as a JSON object, e.g. events/provision.json`}}}
	}
	var raw any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Desired{}, &ValidationError{Problems: []Problem{{Path: "$", Message: "not valid JSON: " + err.Error(), Fix: "send a JSON object"}}}
	}
	if dec.More() {
		return Desired{}, &ValidationError{Problems: []Problem{{Path: "$", Message: "trailing data after the JSON object", Fix: "send exactly one JSON object"}}}
	}
	v := &validator{bad: map[string]bool{}}
	v.walk(raw, "", rootSchema)
	if len(v.problems) > 0 && v.fatal {
		return Desired{}, &ValidationError{Problems: v.problems}
	}
	// Decode into the struct, ignoring fields the walk already reported
	// (unknown ones) so that every problem is reported in one pass.
	var d Desired
	if len(v.problems) == 0 {
		strict := json.NewDecoder(bytes.NewReader(payload))
		strict.DisallowUnknownFields()
		if err := strict.Decode(&d); err != nil {
			return Desired{}, &ValidationError{Problems: []Problem{{Path: "$", Message: err.Error()}}}
		}
	} else {
		_ = json.Unmarshal(payload, &d) // best effort: type errors were reported by the walk
	}
	d.applyDefaults()
	v.semantic(d)
	if len(v.problems) > 0 {
		return Desired{}, &ValidationError{Problems: v.problems}
	}
	return d, nil
}

func (d *Desired) applyDefaults() {
	if d.Action == "" {
		d.Action = ActionApply
	}
	if d.LoadBalancer.PayType == "" {
		d.LoadBalancer.PayType = "PayOnDemand"
	}
	if d.LoadBalancer.AddressType == "" {
		d.LoadBalancer.AddressType = "internet"
	}
	for i := range d.Backends {
		if d.Backends[i].Type == "" {
			d.Backends[i].Type = "ecs"
		}
	}
	for i := range d.Listeners {
		l := &d.Listeners[i]
		if l.Protocol == "" {
			l.Protocol = "https"
		}
		if l.HealthCheck == "" {
			l.HealthCheck = "off"
		}
		if l.StickySession == "" {
			l.StickySession = "off"
		}
	}
}

// schema describes the JSON shape for the walk (unknown fields, types).
type kind int

const (
	kString kind = iota
	kInt
	kObject
	kArray
)

type schema struct {
	kind   kind
	fields map[string]schema // kObject
	elem   *schema           // kArray
}

var (
	str  = schema{kind: kString}
	num  = schema{kind: kInt}
	obj  = func(f map[string]schema) schema { return schema{kind: kObject, fields: f} }
	arr  = func(e schema) schema { return schema{kind: kArray, elem: &e} }
	root = obj(map[string]schema{
		"action": str,
		"region": str,
		"loadBalancer": obj(map[string]schema{
			"name": str, "masterZoneId": str, "slaveZoneId": str, "payType": str,
			"spec": str, "addressType": str, "bandwidth": num,
		}),
		"backends": arr(obj(map[string]schema{"serverId": str, "weight": num, "type": str})),
		"listeners": arr(obj(map[string]schema{
			"frontendPort": num, "backendPort": num, "protocol": str, "bandwidth": num,
			"healthCheck": str, "stickySession": str, "certificate": str,
			"domainExtensions": arr(obj(map[string]schema{"domain": str, "certificate": str})),
		})),
	})
	rootSchema = root
)

type validator struct {
	problems []Problem
	// bad holds paths already reported by the walk (wrong type), so the
	// semantic pass does not report them a second time as missing.
	bad   map[string]bool
	fatal bool
}

func (v *validator) add(path, msg, fix string) {
	v.problems = append(v.problems, Problem{Path: path, Message: msg, Fix: fix})
}

// isBad reports whether path or one of its ancestors was reported as having
// the wrong type.
func (v *validator) isBad(path string) bool {
	for p := path; p != ""; {
		if v.bad[p] {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return false
		}
		p = p[:i]
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(k kind) string {
	switch k {
	case kString:
		return "a string"
	case kInt:
		return "an integer"
	case kObject:
		return "an object"
	default:
		return "an array"
	}
}

func (v *validator) walk(val any, path string, s schema) {
	shown := path
	if shown == "" {
		shown = "$"
	}
	wrong := func() {
		v.bad[path] = true
		v.add(shown, fmt.Sprintf("must be %s, got %s", kindName(s.kind), jsonType(val)), "")
		if path == "" {
			v.fatal = true
		}
	}
	if val == nil {
		if path == "" {
			wrong()
		}
		return // null = absent
	}
	switch s.kind {
	case kString:
		if _, ok := val.(string); !ok {
			wrong()
		}
	case kInt:
		n, ok := val.(json.Number)
		if !ok {
			wrong()
			return
		}
		if _, err := n.Int64(); err != nil {
			v.bad[path] = true
			v.add(shown, fmt.Sprintf("must be an integer, got %s", n.String()), "")
		}
	case kObject:
		m, ok := val.(map[string]any)
		if !ok {
			wrong()
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fs, known := s.fields[k]
			if !known {
				v.add(join(path, k), "unknown field", "remove it or check the spelling; known fields: "+strings.Join(sortedKeys(s.fields), ", "))
				continue
			}
			v.walk(m[k], join(path, k), fs)
		}
	case kArray:
		a, ok := val.([]any)
		if !ok {
			wrong()
			return
		}
		for i, e := range a {
			v.walk(e, fmt.Sprintf("%s[%d]", path, i), *s.elem)
		}
	}
}

func sortedKeys(m map[string]schema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func oneOf(val string, allowed []string) bool {
	for _, a := range allowed {
		if val == a {
			return true
		}
	}
	return false
}

// enum checks a string field against allowed values (skipping fields the
// walk already reported).
func (v *validator) enum(path, val string, allowed []string) {
	if v.isBad(path) || oneOf(val, allowed) {
		return
	}
	v.add(path, fmt.Sprintf("%q is not one of %s", val, strings.Join(allowed, ", ")), "use one of "+strings.Join(allowed, ", "))
}

func (v *validator) required(path, val, fix string) bool {
	if v.isBad(path) {
		return false
	}
	if val == "" {
		v.add(path, "missing", fix)
		return false
	}
	return true
}

func (v *validator) port(path string, p int) {
	if v.isBad(path) {
		return
	}
	if p == 0 {
		v.add(path, "missing", "set a port in 1..65535")
		return
	}
	if p < 1 || p > 65535 {
		v.add(path, fmt.Sprintf("%d is out of range 1..65535", p), "set a port in 1..65535")
	}
}

func (v *validator) semantic(d Desired) {
	v.enum("action", d.Action, []string{ActionApply, ActionPlan, ActionDestroy})
	if v.required("region", d.Region, "set the region id, e.g. cn-zhangjiakou") {
		if _, ok := zonesByRegion[d.Region]; !ok {
			v.add("region", fmt.Sprintf("unknown region %q", d.Region), "use one of "+strings.Join(KnownRegions(), ", "))
		}
	}
	lb := d.LoadBalancer
	if v.required("loadBalancer.name", lb.Name, "name the instance (1-80 characters, starting with a letter)") && !nameRE.MatchString(lb.Name) {
		v.add("loadBalancer.name", fmt.Sprintf("%q is not a valid instance name", lb.Name), "use 1-80 letters, digits, '.', '_' or '-', starting with a letter")
	}
	if d.Action == ActionDestroy {
		// Only the identity of the instance matters for destroy; the rest,
		// when present, must still be well-formed.
		v.instanceSpec(d, false)
	} else {
		v.instanceSpec(d, true)
	}
	v.backends(d)
	v.listeners(d)
}

func (v *validator) instanceSpec(d Desired, need bool) {
	lb := d.LoadBalancer
	zones, known := zonesByRegion[d.Region]
	zone := func(path, z string) {
		if v.isBad(path) {
			return
		}
		if z == "" {
			if need {
				v.add(path, "missing", "set a zone of "+d.Region+": "+strings.Join(zones, ", "))
			}
			return
		}
		if known && !oneOf(z, zones) {
			v.add(path, fmt.Sprintf("unknown zone %q for region %s", z, d.Region), "use one of "+strings.Join(zones, ", "))
		}
	}
	zone("loadBalancer.masterZoneId", lb.MasterZoneID)
	zone("loadBalancer.slaveZoneId", lb.SlaveZoneID)
	if lb.MasterZoneID != "" && lb.MasterZoneID == lb.SlaveZoneID {
		v.add("loadBalancer.slaveZoneId", fmt.Sprintf("same as masterZoneId (%s)", lb.MasterZoneID), "choose a different zone for the standby, or omit slaveZoneId")
	}
	if lb.Spec == "" {
		if need && !v.isBad("loadBalancer.spec") {
			v.add("loadBalancer.spec", "missing", "set one of "+strings.Join(validSpecs, ", ")+" (shared-resource instances can no longer be bought)")
		}
	} else {
		v.enum("loadBalancer.spec", lb.Spec, validSpecs)
	}
	v.enum("loadBalancer.payType", lb.PayType, validPayTypes)
	v.enum("loadBalancer.addressType", lb.AddressType, validAddressTypes)
	if !v.isBad("loadBalancer.bandwidth") && lb.Bandwidth != 0 && (lb.Bandwidth < 1 || lb.Bandwidth > maxBandwidth) {
		v.add("loadBalancer.bandwidth", fmt.Sprintf("%d is out of range 1..%d", lb.Bandwidth, maxBandwidth), "set 1..5120 Mbit/s or omit it")
	}
}

func (v *validator) backends(d Desired) {
	if len(d.Backends) == 0 && d.Action != ActionDestroy && !v.isBad("backends") {
		v.add("backends", "missing: at least one backend server is needed", `add {"serverId":"i-...","weight":100}`)
	}
	if len(d.Backends) > maxBackends {
		v.add("backends", fmt.Sprintf("%d backends exceed the limit of %d per instance", len(d.Backends), maxBackends), "split them over several instances")
	}
	seen := map[string]int{}
	for i, b := range d.Backends {
		p := fmt.Sprintf("backends[%d]", i)
		if v.required(p+".serverId", b.ServerID, "set the ECS instance id (i-...)") {
			if !serverRE.MatchString(b.ServerID) {
				v.add(p+".serverId", fmt.Sprintf("%q is not an ECS or ENI id", b.ServerID), "use the instance id, e.g. i-8vb0abcdef")
			} else if j, dup := seen[b.ServerID]; dup {
				v.add(p+".serverId", fmt.Sprintf("duplicate of backends[%d]", j), "list each server once")
			} else {
				seen[b.ServerID] = i
			}
		}
		if b.Weight != nil && !v.isBad(p+".weight") && (*b.Weight < 0 || *b.Weight > 100) {
			v.add(p+".weight", fmt.Sprintf("%d is out of range 0..100", *b.Weight), "set 0..100 (0 takes the server out of rotation)")
		}
		v.enum(p+".type", b.Type, validBackendTypes)
	}
}

func (v *validator) listeners(d Desired) {
	if len(d.Listeners) > maxListeners {
		v.add("listeners", fmt.Sprintf("%d listeners exceed the limit of %d per instance", len(d.Listeners), maxListeners), "split them over several instances")
	}
	ports := map[int]int{}
	for i, l := range d.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		v.port(p+".frontendPort", l.FrontendPort)
		if l.FrontendPort != 0 {
			if j, dup := ports[l.FrontendPort]; dup {
				v.add(p+".frontendPort", fmt.Sprintf("port %d is already used by listeners[%d]", l.FrontendPort, j), "give each listener its own frontend port")
			} else {
				ports[l.FrontendPort] = i
			}
		}
		v.port(p+".backendPort", l.BackendPort)
		if !v.isBad(p+".protocol") && l.Protocol != "https" {
			v.add(p+".protocol", fmt.Sprintf("%q is not supported", l.Protocol), `use "https" (this tool manages HTTPS listeners only)`)
		}
		switch {
		case v.isBad(p + ".bandwidth"):
		case l.Bandwidth == nil:
			v.add(p+".bandwidth", "missing", "set 1..5120 Mbit/s, or -1 for unlimited (pay-by-traffic)")
		case *l.Bandwidth != -1 && (*l.Bandwidth < 1 || *l.Bandwidth > maxBandwidth):
			v.add(p+".bandwidth", fmt.Sprintf("%d is out of range 1..%d (or -1)", *l.Bandwidth, maxBandwidth), "set 1..5120 Mbit/s, or -1 for unlimited (pay-by-traffic)")
		}
		v.enum(p+".healthCheck", l.HealthCheck, validOnOff)
		if !v.isBad(p+".stickySession") && l.StickySession != "off" {
			if l.StickySession == "on" {
				v.add(p+".stickySession", `"on" is not supported yet (it needs a cookie type and timeout)`, `set "off"`)
			} else {
				v.enum(p+".stickySession", l.StickySession, validOnOff)
			}
		}
		v.pairName(p+".certificate", l.Certificate)
		if len(l.DomainExtensions) > maxDomainExtensions {
			v.add(p+".domainExtensions", fmt.Sprintf("%d domain extensions exceed the limit of %d per listener", len(l.DomainExtensions), maxDomainExtensions), "use a certificate covering several domains")
		}
		domains := map[string]int{}
		for k, e := range l.DomainExtensions {
			ep := fmt.Sprintf("%s.domainExtensions[%d]", p, k)
			if v.required(ep+".domain", e.Domain, "set the SNI domain, e.g. api.example.com") {
				dom := strings.ToLower(e.Domain)
				if !domainRE.MatchString(dom) {
					v.add(ep+".domain", fmt.Sprintf("%q is not a valid domain name", e.Domain), "use a DNS name such as api.example.com or *.example.com")
				} else if j, dup := domains[dom]; dup {
					v.add(ep+".domain", fmt.Sprintf("duplicate of %s.domainExtensions[%d]", p, j), "list each domain once per listener")
				} else {
					domains[dom] = k
				}
			}
			v.pairName(ep+".certificate", e.Certificate)
		}
	}
}

func (v *validator) pairName(path, name string) {
	if !v.required(path, name, "name the certificate pair in the bucket (certs/<name>/fullchain.pem + privkey.pem)") {
		return
	}
	if !pairNameRE.MatchString(name) || strings.Contains(name, "..") {
		v.add(path, fmt.Sprintf("%q is not a valid pair name", name), "use the <name> of certs/<name>/ (letters, digits, '.', '_', '-')")
	}
}
