package expiry

import (
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
	"github.com/slb-cert-rotator/slb-cert-rotator/shared/outcome"
)

// Request is one sweep's parameters (the timer payload).
type Request struct {
	// WarnDays are the notification thresholds in days (default
	// DefaultWarnDays).
	WarnDays []int `json:"warnDays"`
	// AutoRotate rotates expiring certificates from newer pairs in the bucket.
	AutoRotate bool `json:"autoRotate"`
	// Probe handshakes every running listener to detect drift.
	Probe bool `json:"probe"`
	// Regions to inventory.
	Regions []string `json:"regions"`
	// Group names this set of regions when the sweep is fanned out over
	// several timer triggers (one per group): its report is
	// reports/<date>-<group>.json and its notification memory
	// reports/state-<group>.json, so the groups never overwrite each other.
	// Empty for a single sweep of every region.
	Group string `json:"group,omitempty"`
}

// Report is the sweep's summary: the function's return value and the
// content of reports/<yyyy-mm-dd>.json.
type Report struct {
	Time       time.Time `json:"time"`
	Regions    []string  `json:"regions"`
	Group      string    `json:"group,omitempty"`
	WarnDays   []int     `json:"warnDays"`
	AutoRotate bool      `json:"autoRotate"`
	Probe      bool      `json:"probe"`
	// Counts are served certificates per class.
	Counts Counts `json:"counts"`
	// Listeners is the number of certificate listeners inventoried (CLB
	// HTTPS, ALB HTTPS and QUIC, NLB TCPSSL); Targets the number of places
	// serving a certificate (CLB listeners and extensions, ALB and NLB
	// default and additional certificates).
	Listeners int `json:"listeners"`
	Targets   int `json:"targets"`
	// Certificates are the served certificates, soonest expiry first.
	Certificates []Certificate `json:"certificates"`
	// Actions are the rotations attempted.
	Actions []Action `json:"actions"`
	// Probes summarises the TLS handshakes; Drift and Unreachable list the
	// targets that did not serve the expected certificate.
	Probes      ProbeCounts    `json:"probes"`
	Drift       []ProbeFinding `json:"drift"`
	Unreachable []ProbeFinding `json:"unreachable"`
	// Errors are the failures (region, page, listener, rotation, bucket).
	Errors []Problem `json:"errors"`
	// Notification says what was sent.
	Notification Notification `json:"notification"`
	// Calls counts the inventory calls by adapter method.
	Calls map[string]int `json:"calls"`
	// ReportKey is where this report was written ("" when not written).
	ReportKey string `json:"reportKey,omitempty"`
}

// Counts are served certificates per class.
type Counts struct {
	OK       int `json:"ok"`
	Warn     int `json:"warn"`
	Critical int `json:"critical"`
	Expired  int `json:"expired"`
}

// Certificate is one served server certificate and where it is served.
// A CLB certificate (Product "clb") is a server certificate of Region,
// served at Targets (Domain set: a domain extension). An ALB or NLB
// certificate (Product "alb" or "nlb") is a CAS certificate: Region is its
// CAS region, ID its "<CertId>-<casRegion>" identity, and Listeners the
// places of that product serving it (Targets is empty).
type Certificate struct {
	Product     string       `json:"product"`
	Region      string       `json:"region"`
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Fingerprint string       `json:"fingerprint"`
	CommonName  string       `json:"commonName,omitempty"`
	Domains     []string     `json:"domains"`
	ExpireTime  time.Time    `json:"expireTime"`
	DaysLeft    int          `json:"daysLeft"`
	Class       string       `json:"class"`
	Ours        bool         `json:"ours"`
	Targets     []clb.Target `json:"targets"`
	Listeners   []Place      `json:"listeners,omitempty"`
	// Replacement names the bucket pair chosen by auto-rotation, if any.
	Replacement string `json:"replacement,omitempty"`
}

// Action is one rotation the sweep ran.
type Action struct {
	Kind string `json:"kind"` // "rotate"
	Pair string `json:"pair"`
	// Replaces lists region/id of the expiring certificates the pair covers.
	Replaces []string       `json:"replaces"`
	Status   outcome.Status `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// ProbeCounts summarises the TLS probes.
type ProbeCounts struct {
	Probed      int `json:"probed"`
	Matched     int `json:"matched"`
	Drift       int `json:"drift"`
	Unreachable int `json:"unreachable"`
	// Skipped: stopped listeners, targets whose certificate is unknown,
	// and the OutOfTime ones.
	Skipped int `json:"skipped"`
	// OutOfTime counts targets not probed because the sweep's time budget
	// was spent (also in Skipped; one Problem of stage "probe" says so).
	OutOfTime int `json:"outOfTime"`
}

// ProbeFinding is a target that did not serve what the API says.
// Product is "clb", "alb" or "nlb"; an ALB or NLB finding names its
// Listener too (Target then holds its region, instance, port and the SNI
// name of an additional certificate).
type ProbeFinding struct {
	Product    string     `json:"product"`
	Target     clb.Target `json:"target"`
	Listener   *Place     `json:"listener,omitempty"`
	Address    string     `json:"address"`
	ServerName string     `json:"serverName,omitempty"`
	// Expected is the configured certificate's fingerprint; Served what
	// the handshake saw (empty when unreachable).
	Expected string `json:"expected"`
	Served   string `json:"served,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// Problem is one failure that did not stop the sweep.
type Problem struct {
	// Stage: certificates, loadbalancers, listeners, extensions,
	// inventory, probe, rotation, candidates, state, notify, report.
	Stage string `json:"stage"`
	// Product is "alb", "nlb" or "cas" for their failures ("" for CLB).
	Product string `json:"product,omitempty"`
	Region  string `json:"region,omitempty"`
	// Subject names what failed (a load balancer, a listener, a pair).
	Subject string `json:"subject,omitempty"`
	Error   string `json:"error"`
	// Transient is true when retrying later may help.
	Transient bool `json:"transient"`
}

// Notification says whether a notification was sent and what it covered.
type Notification struct {
	Sent  bool   `json:"sent"`
	Items int    `json:"items"`
	Error string `json:"error,omitempty"`
	// Suppressed counts threshold warnings already sent by earlier runs.
	Suppressed int `json:"suppressed"`
}
