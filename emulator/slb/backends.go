package slb

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

func (lb *loadBalancer) backendIndex(id string) int {
	for i, b := range lb.backends {
		if b.ServerID == id {
			return i
		}
	}
	return -1
}

// update applies a re-attach or Set: the new weight, and the description
// when one is given.
func (b *backend) update(from backend) {
	b.Weight = from.Weight
	if from.Description != "" {
		b.Description = from.Description
	}
}

// flexString decodes a JSON string or number into a string.
type flexString string

// UnmarshalJSON accepts "80" and 80 alike.
func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n.String())
	return nil
}

type backendParam struct {
	ServerID    string     `json:"ServerId"`
	Weight      flexString `json:"Weight"`
	Type        string     `json:"Type"`
	Port        flexString `json:"Port"`
	Description string     `json:"Description"`
	ServerIP    string     `json:"ServerIp"`
}

// parseBackends reads the BackendServers JSON (objects, or bare ids for
// Remove); duplicates keep the first.
func (c *call) parseBackends(lb *loadBalancer, requireKnown bool) ([]backend, *apiError) {
	raw := c.p["BackendServers"]
	if raw == "" {
		return nil, missing("BackendServers")
	}
	var items []backendParam
	if err := json.Unmarshal([]byte(raw), &items); err != nil {
		items = nil
		var ids []string
		if err2 := json.Unmarshal([]byte(raw), &ids); err2 != nil {
			return nil, errorf(400, "BackendServersMalformed", "The specified BackendServers is malformed.")
		}
		for _, id := range ids {
			items = append(items, backendParam{ServerID: id})
		}
	}
	if len(items) > MaxBackendsPerCall {
		return nil, errorf(400, "TooManyBackendServers", "The number of backend servers exceeds max supported number: %d.", MaxBackendsPerCall)
	}
	seen := map[string]bool{}
	var out []backend
	for _, it := range items {
		if it.ServerID == "" {
			return nil, errorf(400, "BackendServersMalformed", "The specified BackendServers is malformed: ServerId is empty.")
		}
		if seen[it.ServerID] {
			continue
		}
		seen[it.ServerID] = true
		w := 100
		if it.Weight != "" {
			n, err := strconv.Atoi(string(it.Weight))
			if err != nil || n < 0 || n > 100 {
				return nil, errorf(400, "InvalidParameter", "The specified BackendServers is invalid, as the Weight value should be in [0, 100].")
			}
			w = n
		}
		if it.Port != "" {
			if n, err := strconv.Atoi(string(it.Port)); err != nil || n < 1 || n > 65535 {
				return nil, errorf(400, "InvalidParameter", "The specified BackendServers is invalid, as the Port value should be in [1, 65535].")
			}
		}
		typ := strings.ToLower(it.Type)
		if typ == "" {
			typ = "ecs"
		}
		if typ != "ecs" {
			return nil, invalid("BackendServers", "the emulator attaches ecs instances only")
		}
		if requireKnown {
			in, ok := c.s.instances[it.ServerID]
			if !ok || in.Region != lb.Region {
				return nil, errorf(400, "InvalidServerId.NotFound", "The specified ServerId %s does not exist in region %s.", it.ServerID, lb.Region)
			}
		}
		out = append(out, backend{Backend: clb.Backend{ServerID: it.ServerID, Weight: w, Type: typ}, Description: it.Description})
	}
	return out, nil
}

func backendsJSON(lb *loadBalancer) obj {
	bs := []obj{}
	for _, b := range lb.backends {
		bs = append(bs, obj{"ServerId": b.ServerID, "Weight": strconv.Itoa(b.Weight), "Type": b.Type, "Description": b.Description})
	}
	return obj{"LoadBalancerId": lb.ID, "BackendServers": obj{"BackendServer": bs}}
}

func addBackendServers(c *call) (obj, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	items, aerr := c.parseBackends(lb, true)
	if aerr != nil {
		return nil, aerr
	}
	if len(lb.backends)+len(items) > 200 {
		return nil, errorf(400, "TooManyBackendServers", "The number of backend servers exceeds max supported number: 200.")
	}
	for _, it := range items {
		if i := lb.backendIndex(it.ServerID); i >= 0 {
			lb.backends[i].update(it)
			continue
		}
		b := it
		lb.backends = append(lb.backends, &b)
	}
	return backendsJSON(lb), nil
}

func removeBackendServers(c *call) (obj, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	items, aerr := c.parseBackends(lb, false)
	if aerr != nil {
		return nil, aerr
	}
	for _, it := range items {
		if i := lb.backendIndex(it.ServerID); i >= 0 {
			lb.backends = append(lb.backends[:i], lb.backends[i+1:]...)
		}
	}
	return backendsJSON(lb), nil
}

func setBackendServers(c *call) (obj, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	items, aerr := c.parseBackends(lb, true)
	if aerr != nil {
		return nil, aerr
	}
	for _, it := range items {
		if lb.backendIndex(it.ServerID) < 0 {
			return nil, errorf(400, "InvalidParameter", "The backend server %s is not attached to the load balancer.", it.ServerID)
		}
	}
	for _, it := range items {
		lb.backends[lb.backendIndex(it.ServerID)].update(it)
	}
	return backendsJSON(lb), nil
}

func describeHealthStatus(c *call) (obj, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	port, aerr := c.port("ListenerPort", false)
	if aerr != nil {
		return nil, aerr
	}
	ports := lb.ports()
	if port != 0 {
		if _, ok := lb.listeners[port]; !ok {
			return nil, errorf(404, "CheckedListenerNotFound", "The specified listener %d does not exist.", port)
		}
		ports = []int{port}
	}
	out := []obj{}
	for _, p := range ports {
		l := lb.listeners[p]
		for _, b := range lb.backends {
			st := "normal"
			switch {
			case l.Status != "running":
				st = "unavailable"
			case b.Weight == 0:
				st = "abnormal"
			}
			out = append(out, obj{"ListenerPort": p, "ServerId": b.ServerID, "Port": l.BackendPort,
				"ServerIp": c.s.instances[b.ServerID].PrivateIP, "ServerHealthStatus": st,
				"Protocol": l.Protocol, "Type": b.Type, "Weight": strconv.Itoa(b.Weight)})
		}
	}
	return obj{"BackendServers": obj{"BackendServer": out}}, nil
}
