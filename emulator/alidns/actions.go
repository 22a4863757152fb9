package alidns

import (
	"slices"
	"strconv"
	"strings"

	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/dns"
	"github.com/slb-cert-rotator/slb-cert-rotator/emulator/rpc"
)

type obj = map[string]any

type handler func(s *Server, p map[string]string) (obj, *apiError)

var actions = map[string]handler{
	"DescribeDomains":          describeDomains,
	"AddDomain":                addDomain,
	"AddDomainRecord":          addDomainRecord,
	"DeleteDomainRecord":       deleteDomainRecord,
	"DescribeDomainRecords":    describeDomainRecords,
	"DescribeSubDomainRecords": describeSubDomainRecords,
}

// Actions lists the served actions, sorted.
func Actions() []string {
	out := make([]string, 0, len(actions))
	for a := range actions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// handle dispatches a call emulator/rpc has authenticated and checked.
func (s *Server) handle(_ string, p map[string]string) (obj, *apiError) {
	h, ok := actions[p["Action"]]
	if !ok {
		return nil, rpc.UnknownAction()
	}
	s.mu.Lock() // one action at a time: duplicate checks and adds are atomic
	defer s.mu.Unlock()
	return h(s, p)
}

func domainMissing(name string) *apiError {
	return rpc.Errorf(400, "InvalidDomainName.NoExist", "The specified domain name %s does not exist.", name)
}

// page reads PageNumber and PageSize (1-based; size capped at max).
func page(p map[string]string, def, max int) (num, size int, e *apiError) {
	num, size = 1, def
	if v := p["PageNumber"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, rpc.Invalid("PageNumber", "must be a positive integer")
		}
		num = n
	}
	if v := p["PageSize"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			return 0, 0, rpc.Invalid("PageSize", "must be between 1 and "+strconv.Itoa(max))
		}
		size = n
	}
	return num, size, nil
}

func window[T any](all []T, num, size int) []T {
	from := min((num-1)*size, len(all))
	return all[from:min(from+size, len(all))]
}

func describeDomains(s *Server, p map[string]string) (obj, *apiError) {
	num, size, e := page(p, 20, 100)
	if e != nil {
		return nil, e
	}
	kw := strings.ToLower(p["KeyWord"])
	var list []obj
	for _, z := range s.store.Zones() {
		if kw != "" && !strings.Contains(z, kw) {
			continue
		}
		list = append(list, obj{
			"DomainName": z, "DomainId": domainID(z), "PunyCode": z, "AliDomain": false, "VersionCode": "mianfei",
			"RecordCount": len(s.store.Records(z)),
			"DnsServers":  obj{"DnsServer": []string{dns.NameserverLabel + "." + z}},
		})
	}
	return obj{"TotalCount": len(list), "PageNumber": num, "PageSize": size,
		"Domains": obj{"Domain": nonNil(window(list, num, size))}}, nil
}

func domainID(zone string) string {
	h := uint32(2166136261)
	for i := 0; i < len(zone); i++ {
		h = (h ^ uint32(zone[i])) * 16777619
	}
	return "00000000-0000-4000-8000-" + strconv.FormatUint(uint64(h), 16)
}

func addDomain(s *Server, p map[string]string) (obj, *apiError) {
	name := dns.Canonical(p["DomainName"])
	if name == "" {
		return nil, rpc.Missing("DomainName")
	}
	if slices.Contains(s.store.Zones(), name) {
		return nil, rpc.Errorf(400, "AlreadyExists.DomainName", "The domain %s already exists.", name)
	}
	s.store.AddZone(name)
	return obj{"DomainName": name, "DomainId": domainID(name), "PunyCode": name,
		"DnsServers": obj{"DnsServer": []string{dns.NameserverLabel + "." + name}}}, nil
}

func addDomainRecord(s *Server, p map[string]string) (obj, *apiError) {
	for _, k := range []string{"DomainName", "RR", "Type", "Value"} {
		if p[k] == "" {
			return nil, rpc.Missing(k)
		}
	}
	zone := dns.Canonical(p["DomainName"])
	if !slices.Contains(s.store.Zones(), zone) {
		return nil, domainMissing(zone)
	}
	typ := strings.ToUpper(p["Type"])
	if typ != dns.TypeA && typ != dns.TypeTXT {
		return nil, rpc.Invalid("Type", "the local cloud stores A and TXT records only")
	}
	ttl := 600
	if v := p["TTL"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 86400 {
			return nil, rpc.Invalid("TTL", "must be between 1 and 86400")
		}
		ttl = n
	}
	name := fqdn(p["RR"], zone)
	for _, r := range s.store.Lookup(name, typ) {
		if r.Value == p["Value"] {
			return nil, rpc.Errorf(400, "DomainRecordDuplicate", "The DNS record already exists.")
		}
	}
	r, err := s.store.Add(dns.Record{Name: name, Type: typ, Value: p["Value"], TTL: uint32(ttl)})
	if err != nil {
		return nil, rpc.Invalid("Value", err.Error())
	}
	return obj{"RecordId": r.ID}, nil
}

func fqdn(rr, zone string) string {
	rr = dns.Canonical(rr)
	if rr == "@" || rr == "" {
		return zone
	}
	return rr + "." + zone
}

func deleteDomainRecord(s *Server, p map[string]string) (obj, *apiError) {
	id := p["RecordId"]
	if id == "" {
		return nil, rpc.Missing("RecordId")
	}
	if !s.store.Delete(id) {
		return nil, rpc.Errorf(400, "DomainRecordNotBelongToUser", "The DNS record does not exist or does not belong to you.")
	}
	return obj{"RecordId": id}, nil
}

func describeDomainRecords(s *Server, p map[string]string) (obj, *apiError) {
	zone := dns.Canonical(p["DomainName"])
	if zone == "" {
		return nil, rpc.Missing("DomainName")
	}
	if !slices.Contains(s.store.Zones(), zone) {
		return nil, domainMissing(zone)
	}
	num, size, e := page(p, 20, 500)
	if e != nil {
		return nil, e
	}
	rrKw, typ, valKw := strings.ToLower(p["RRKeyWord"]), strings.ToUpper(firstOf(p["Type"], p["TypeKeyWord"])), p["ValueKeyWord"]
	var list []obj
	for _, r := range s.store.Records(zone) {
		if s.store.ZoneOf(r.Name) != zone {
			continue
		}
		rec := recordObj(r, zone)
		if rrKw != "" && !strings.Contains(rec["RR"].(string), rrKw) || typ != "" && r.Type != typ ||
			valKw != "" && !strings.Contains(r.Value, valKw) {
			continue
		}
		list = append(list, rec)
	}
	return obj{"TotalCount": len(list), "PageNumber": num, "PageSize": size,
		"DomainRecords": obj{"Record": nonNil(window(list, num, size))}}, nil
}

func describeSubDomainRecords(s *Server, p map[string]string) (obj, *apiError) {
	sub := dns.Canonical(p["SubDomain"])
	if sub == "" {
		return nil, rpc.Missing("SubDomain")
	}
	zone := dns.Canonical(p["DomainName"])
	if zone == "" {
		zone = s.store.ZoneOf(sub)
	}
	if zone == "" || !slices.Contains(s.store.Zones(), zone) {
		return nil, domainMissing(firstOf(zone, sub))
	}
	num, size, e := page(p, 20, 500)
	if e != nil {
		return nil, e
	}
	var list []obj
	for _, r := range s.store.Lookup(sub, p["Type"]) {
		list = append(list, recordObj(r, zone))
	}
	return obj{"TotalCount": len(list), "PageNumber": num, "PageSize": size,
		"DomainRecords": obj{"Record": nonNil(window(list, num, size))}}, nil
}

func recordObj(r dns.Record, zone string) obj {
	rr := strings.TrimSuffix(strings.TrimSuffix(r.Name, zone), ".")
	if rr == "" {
		rr = "@"
	}
	return obj{"RecordId": r.ID, "DomainName": zone, "RR": rr, "Type": r.Type, "Value": r.Value,
		"TTL": r.TTL, "Line": "default", "Status": "ENABLE", "Locked": false, "Weight": 1}
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func nonNil(l []obj) []obj {
	if l == nil {
		return []obj{}
	}
	return l
}
