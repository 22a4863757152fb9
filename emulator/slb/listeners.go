package slb

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/clb"
)

// listenerSettings are echoed by the describe calls with these defaults.
var listenerSettings = map[string]string{
	"Scheduler": "wrr", "StickySession": "off", "StickySessionType": "", "Cookie": "",
	"CookieTimeout": "0", "HealthCheck": "on", "HealthCheckURI": "/", "HealthCheckDomain": "",
	"HealthCheckConnectPort": "0", "HealthyThreshold": "3", "UnhealthyThreshold": "3",
	"HealthCheckTimeout": "5", "HealthCheckInterval": "2", "HealthCheckHttpCode": "http_2xx",
	"HealthCheckMethod": "head", "HealthCheckType": "", "HealthCheckHttpVersion": "",
	"TLSCipherPolicy": "tls_cipher_policy_1_0", "EnableHttp2": "on", "Gzip": "on",
	"IdleTimeout": "15", "RequestTimeout": "60", "XForwardedFor": "on", "XForwardedFor_SLBIP": "off",
	"XForwardedFor_SLBID": "off", "XForwardedFor_proto": "off", "XForwardedFor_SLBPORT": "off",
	"XForwardedFor_ClientSrcPort": "off", "CACertificateId": "", "AclStatus": "off", "AclType": "",
	"AclId": "", "VServerGroupId": "", "Description": "", "MaxConnection": "0",
}

var intSettings = map[string]bool{"CookieTimeout": true, "HealthCheckConnectPort": true, "HealthyThreshold": true,
	"UnhealthyThreshold": true, "HealthCheckTimeout": true, "HealthCheckInterval": true,
	"IdleTimeout": true, "RequestTimeout": true, "MaxConnection": true}

var onOff = map[string]bool{"on": true, "off": true}

// applySettings validates and stores listener settings present in c.p.
func (c *call) applySettings(l *listener) *apiError {
	pending := map[string]string{}
	for k := range listenerSettings {
		v, ok := c.p[k]
		if !ok {
			continue
		}
		if intSettings[k] && v != "" {
			if _, err := strconv.Atoi(v); err != nil {
				return invalid(k, "must be an integer")
			}
		}
		pending[k] = v
	}
	for _, k := range []string{"StickySession", "HealthCheck", "EnableHttp2", "Gzip", "XForwardedFor", "AclStatus"} {
		if v, ok := pending[k]; ok && !onOff[v] {
			return invalid(k, "on or off")
		}
	}
	if v, ok := pending["Scheduler"]; ok && v != "wrr" && v != "wlc" && v != "rr" {
		return invalid("Scheduler", "wrr, wlc or rr")
	}
	if v, ok := pending["TLSCipherPolicy"]; ok && !strings.HasPrefix(v, "tls_cipher_policy_") {
		return invalid("TLSCipherPolicy", "unknown policy "+v)
	}
	if v := c.p["Bandwidth"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !(n == -1 || n >= 1 && n <= 5120) {
			return errorf(400, "InvalidParameter", "The specified Bandwidth is invalid. It exceeds the maximum bandwidth available to the instance.")
		}
		l.Bandwidth = n
	}
	for k, v := range pending {
		l.params[k] = v
	}
	l.HealthCheck = l.setting("HealthCheck")
	l.StickySession = l.setting("StickySession")
	l.Description = l.setting("Description")
	return nil
}

func (l *listener) setting(k string) string {
	if v, ok := l.params[k]; ok {
		return v
	}
	return listenerSettings[k]
}

func createHTTPSListener(c *call) (obj, *apiError) {
	lb, aerr := c.lb(c.p["LoadBalancerId"])
	if aerr != nil {
		return nil, aerr
	}
	port, aerr := c.port("ListenerPort", true)
	if aerr != nil {
		return nil, aerr
	}
	if _, exists := lb.listeners[port]; exists {
		return nil, errorf(400, "ListenerAlreadyExists", "A listener with the specified port already exists.")
	}
	if len(lb.listeners) >= MaxListenersPerLoadBalancer {
		return nil, errorf(400, "ListenerNumberOverLimit", "The number of listeners exceeds max supported number: %d.", MaxListenersPerLoadBalancer)
	}
	backendPort, aerr := c.port("BackendServerPort", c.p["VServerGroupId"] == "")
	if aerr != nil {
		return nil, aerr
	}
	cert, aerr := c.cert(c.p["ServerCertificateId"])
	if aerr != nil {
		return nil, aerr
	}
	l := &listener{Listener: clb.Listener{Region: c.reg.id, LoadBalancerID: lb.ID, Port: port, Protocol: "https",
		Status: "stopped", BackendPort: backendPort, Bandwidth: -1, ServerCertificateID: cert.ID},
		params: map[string]string{}}
	if aerr := c.applySettings(l); aerr != nil {
		return nil, aerr
	}
	lb.listeners[port] = l
	return obj{}, nil
}

func setHTTPSListenerAttribute(c *call) (obj, *apiError) {
	_, l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	newCert := ""
	if id := c.p["ServerCertificateId"]; id != "" {
		cert, aerr := c.cert(id)
		if aerr != nil {
			return nil, aerr
		}
		newCert = cert.ID
	}
	// Validate everything on a copy so a refusal changes nothing.
	tmp := *l
	tmp.params = copyTags(l.params)
	if aerr := c.applySettings(&tmp); aerr != nil {
		return nil, aerr
	}
	l.params, l.Bandwidth = tmp.params, tmp.Bandwidth
	l.HealthCheck, l.StickySession, l.Description = tmp.HealthCheck, tmp.StickySession, tmp.Description
	if newCert != "" {
		l.ServerCertificateID = newCert
	}
	return obj{}, nil
}

func (c *call) listenerSettingsJSON(l *listener) obj {
	out := obj{}
	for k := range listenerSettings {
		v := l.setting(k)
		if intSettings[k] {
			n, _ := strconv.Atoi(v)
			out[k] = n
		} else {
			out[k] = v
		}
	}
	out["ServerCertificateId"] = l.ServerCertificateID
	out["Bandwidth"] = l.Bandwidth
	out["BackendServerPort"] = l.BackendPort
	return out
}

func (c *call) certsOf(id string) []obj {
	if cert, ok := c.reg.certs[id]; ok {
		return []obj{certJSON(cert)}
	}
	return []obj{}
}

func describeHTTPSListenerAttribute(c *call) (obj, *apiError) {
	lb, l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	out := c.listenerSettingsJSON(l)
	out["ListenerPort"] = l.Port
	out["Status"] = l.Status
	out["LoadBalancerId"] = lb.ID
	out["ServerCertificates"] = obj{"ServerCertificate": c.certsOf(l.ServerCertificateID)}
	out["AclIds"] = obj{"AclId": []string{}}
	out["SecurityStatus"] = "off"
	exts := []obj{}
	for _, e := range l.exts {
		exts = append(exts, c.extJSON(e))
	}
	out["DomainExtensions"] = obj{"DomainExtension": exts}
	out["Rules"] = obj{"Rule": []obj{}}
	out["Tags"] = obj{"Tag": []obj{}}
	return out, nil
}

// startListener and stopListener answer Start/StopLoadBalancerListener.
var startListener, stopListener = setListenerStatus("running"), setListenerStatus("stopped")

// setListenerStatus is the handler that sets a listener's status, opening
// its frontend when it starts running and closing it when it stops.
func setListenerStatus(status string) handler {
	return func(c *call) (obj, *apiError) {
		lb, l, aerr := c.listener()
		if aerr != nil {
			return nil, aerr
		}
		if lb.Status == "locked" {
			return nil, errorf(400, "ActionNotAllowed", "The load balancer is locked.")
		}
		if l.Status != status {
			l.Status = status
			c.s.scheduleFrontend(c, lb, l, status == "running")
		}
		return obj{}, nil
	}
}

func deleteListener(c *call) (obj, *apiError) {
	lb, l, aerr := c.listener()
	if aerr != nil {
		return nil, aerr
	}
	c.s.removeListener(c, lb, l)
	return obj{}, nil
}

// removeListener drops l and its extensions and stops its frontend.
func (s *Server) removeListener(c *call, lb *loadBalancer, l *listener) {
	for _, e := range l.exts {
		delete(c.reg.exts, e.ID)
	}
	delete(lb.listeners, l.Port)
	s.scheduleFrontend(c, lb, l, false)
}

// listenerCursor is the opaque NextToken: the last item returned.
func listenerCursor(seq, port int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("v1:%d:%d", seq, port)))
}

func parseCursor(tok string) (seq, port int, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, 0, false
	}
	_, err = fmt.Sscanf(string(b), "v1:%d:%d", &seq, &port)
	return seq, port, err == nil
}

func describeListeners(c *call) (obj, *apiError) {
	max, aerr := c.intParam("MaxResults", 20, 1, 100)
	if aerr != nil {
		return nil, aerr
	}
	ids := map[string]bool{}
	for k, v := range c.p {
		if strings.HasPrefix(k, "LoadBalancerId.") && v != "" {
			ids[v] = true
		}
	}
	if len(ids) > 10 {
		return nil, invalid("LoadBalancerId.N", "at most 10 load balancer ids per call")
	}
	port, aerr := c.port("ListenerPort", false)
	if aerr != nil {
		return nil, aerr
	}
	proto := strings.ToLower(c.p["ListenerProtocol"])
	if proto != "" && proto != "http" && proto != "https" && proto != "tcp" && proto != "udp" {
		return nil, invalid("ListenerProtocol", "tcp, udp, http or https")
	}
	afterSeq, afterPort := 0, 0
	if tok := c.p["NextToken"]; tok != "" {
		var ok bool
		if afterSeq, afterPort, ok = parseCursor(tok); !ok {
			return nil, invalid("NextToken", "unknown token")
		}
	}
	type item struct {
		lb *loadBalancer
		l  *listener
	}
	var match []item
	for _, lb := range c.reg.lbOrder {
		if len(ids) > 0 && !ids[lb.ID] {
			continue
		}
		for _, p := range lb.ports() {
			l := lb.listeners[p]
			if (proto != "" && proto != l.Protocol) || (port != 0 && port != p) {
				continue
			}
			if d := c.p["Description"]; d != "" && d != l.Description {
				continue
			}
			match = append(match, item{lb, l})
		}
	}
	sort.SliceStable(match, func(i, j int) bool {
		if match[i].lb.seq != match[j].lb.seq {
			return match[i].lb.seq < match[j].lb.seq
		}
		return match[i].l.Port < match[j].l.Port
	})
	start := 0
	if afterSeq != 0 {
		for start < len(match) && (match[start].lb.seq < afterSeq || match[start].lb.seq == afterSeq && match[start].l.Port <= afterPort) {
			start++
		}
	}
	list := []obj{}
	next := ""
	for i := start; i < len(match); i++ {
		if len(list) == max {
			last := match[i-1]
			next = listenerCursor(last.lb.seq, last.l.Port)
			break
		}
		lb, l := match[i].lb, match[i].l
		cfg := c.listenerSettingsJSON(l)
		cfg["ServerCertificates"] = c.certsOf(l.ServerCertificateID)
		list = append(list, obj{"LoadBalancerId": lb.ID, "ListenerPort": l.Port, "ListenerProtocol": l.Protocol,
			"Status": l.Status, "BackendServerPort": l.BackendPort, "Bandwidth": l.Bandwidth,
			"Scheduler": l.setting("Scheduler"), "VServerGroupId": l.setting("VServerGroupId"),
			"Description": l.Description, "AclStatus": l.setting("AclStatus"), "AclIds": []string{},
			"Tags": []obj{}, "HTTPSListenerConfig": cfg})
	}
	return obj{"Listeners": list, "NextToken": next, "MaxResults": max, "TotalCount": len(match)}, nil
}
