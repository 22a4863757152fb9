package lbcert

// State is the JSON-able snapshot of an ALB or NLB emulator: instances with
// their listeners, and the jobs.
type State struct {
	LoadBalancers []InstanceState `json:"load_balancers"`
	Jobs          []Job           `json:"jobs"`
}

// InstanceState is one load balancer.
type InstanceState struct {
	ID        string          `json:"load_balancer_id"`
	Name      string          `json:"name"`
	Region    string          `json:"region"`
	Edition   string          `json:"edition,omitempty"`
	DNSName   string          `json:"dns_name"`
	Address   string          `json:"address"`
	Listeners []ListenerState `json:"listeners"`
}

// ListenerState is one listener and its certificates.
type ListenerState struct {
	Listener
	Port     int    `json:"port"`
	Protocol string `json:"protocol"`
}
