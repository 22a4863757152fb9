// Package dns is the local cloud's authoritative DNS server. Other emulator
// packages write records into a Store (Alidns records, load balancer names);
// Server answers A, TXT, NS and SOA for the Store's zones over UDP and TCP on
// loopback, NXDOMAIN for missing names inside a zone and REFUSED for names
// outside every zone.
package dns

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Record types the store holds. NS and SOA are synthesised per zone.
const (
	TypeA   = "A"
	TypeTXT = "TXT"
)

// DefaultTTL is used when a record's TTL is zero.
const DefaultTTL = 600

// Errors of Store.Add.
var (
	ErrNoZone  = errors.New("dns: name is outside every zone")
	ErrInvalid = errors.New("dns: invalid record")
)

// Record is one resource record. Name is a fully qualified name without the
// trailing dot, lower case (Add normalises it); ID is assigned by Add.
type Record struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value string `json:"value"`
	TTL   uint32 `json:"ttl"`
}

// Store is an in-memory set of zones and records, safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	zones   map[string]uint32 // zone -> SOA serial
	records map[string]Record // id -> record
	next    int64
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{zones: map[string]uint32{}, records: map[string]Record{}}
}

// Canonical lower-cases name and strips a trailing dot.
func Canonical(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// AddZone makes the store authoritative for zone (idempotent).
func (s *Store) AddZone(zone string) {
	zone = Canonical(zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.zones[zone]; !ok {
		s.zones[zone] = 1
	}
}

// RemoveZone drops zone and every record whose closest zone it was.
func (s *Store) RemoveZone(zone string) {
	zone = Canonical(zone)
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.records {
		if s.zoneOfLocked(r.Name) == zone {
			delete(s.records, id)
		}
	}
	delete(s.zones, zone)
}

// Zones lists the zones, sorted.
func (s *Store) Zones() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.zones))
	for z := range s.zones {
		out = append(out, z)
	}
	slices.Sort(out)
	return out
}

// ZoneOf returns the closest zone containing name, or "".
func (s *Store) ZoneOf(name string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.zoneOfLocked(Canonical(name))
}

func (s *Store) zoneOfLocked(name string) string {
	for n := name; ; {
		if _, ok := s.zones[n]; ok {
			return n
		}
		i := strings.IndexByte(n, '.')
		if i < 0 {
			return ""
		}
		n = n[i+1:]
	}
}

// Add stores r under a new ID and returns it. The name must fall inside a
// zone (ErrNoZone) and A values must be IPv4 addresses (ErrInvalid). TXT
// values longer than 255 bytes are split into strings on output.
func (s *Store) Add(r Record) (Record, error) {
	r.Name = Canonical(r.Name)
	r.Type = strings.ToUpper(r.Type)
	if r.TTL == 0 {
		r.TTL = DefaultTTL
	}
	if err := validate(r); err != nil {
		return Record{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	zone := s.zoneOfLocked(r.Name)
	if zone == "" {
		return Record{}, fmt.Errorf("%w: %s", ErrNoZone, r.Name)
	}
	s.next++
	r.ID = strconv.FormatInt(s.next, 10)
	s.records[r.ID] = r
	s.zones[zone]++
	return r, nil
}

func validate(r Record) error {
	if r.Name == "" || strings.Contains(r.Name, "..") {
		return fmt.Errorf("%w: name %q", ErrInvalid, r.Name)
	}
	switch r.Type {
	case TypeA:
		a, err := netip.ParseAddr(r.Value)
		if err != nil || !a.Is4() {
			return fmt.Errorf("%w: A value %q is not an IPv4 address", ErrInvalid, r.Value)
		}
	case TypeTXT:
	default:
		return fmt.Errorf("%w: type %q (A or TXT)", ErrInvalid, r.Type)
	}
	return nil
}

// Update replaces the name, type, value and TTL of the record id; false when
// it does not exist or the new record is invalid or outside every zone.
func (s *Store) Update(r Record) bool {
	r.Name = Canonical(r.Name)
	r.Type = strings.ToUpper(r.Type)
	if r.TTL == 0 {
		r.TTL = DefaultTTL
	}
	if validate(r) != nil {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.records[r.ID]; !ok {
		return false
	}
	zone := s.zoneOfLocked(r.Name)
	if zone == "" {
		return false
	}
	s.records[r.ID] = r
	s.zones[zone]++
	return true
}

// Delete removes the record id; false when it does not exist.
func (s *Store) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[id]
	if !ok {
		return false
	}
	delete(s.records, id)
	if z := s.zoneOfLocked(r.Name); z != "" {
		s.zones[z]++
	}
	return true
}

// DeleteName removes every record of name and type ("" = any type) and
// returns how many it removed.
func (s *Store) DeleteName(name, typ string) int {
	name, typ = Canonical(name), strings.ToUpper(typ)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, r := range s.records {
		if r.Name == name && (typ == "" || r.Type == typ) {
			delete(s.records, id)
			n++
		}
	}
	if z := s.zoneOfLocked(name); z != "" && n > 0 {
		s.zones[z]++
	}
	return n
}

// Get returns the record id.
func (s *Store) Get(id string) (Record, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.records[id]
	return r, ok
}

// Lookup returns the records of name and type ("" = any type), ordered by ID.
func (s *Store) Lookup(name, typ string) []Record {
	name, typ = Canonical(name), strings.ToUpper(typ)
	return s.filter(func(r Record) bool { return r.Name == name && (typ == "" || r.Type == typ) })
}

// Records returns every record inside zone ("" = all), ordered by ID.
func (s *Store) Records(zone string) []Record {
	zone = Canonical(zone)
	return s.filter(func(r Record) bool {
		return zone == "" || r.Name == zone || strings.HasSuffix(r.Name, "."+zone)
	})
}

func (s *Store) filter(keep func(Record) bool) []Record {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Record
	for _, r := range s.records {
		if keep(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b Record) int {
		ai, _ := strconv.ParseInt(a.ID, 10, 64)
		bi, _ := strconv.ParseInt(b.ID, 10, 64)
		return cmp.Compare(ai, bi)
	})
	return out
}

// exists reports whether name owns records or is an ancestor of a name that
// does (an empty non-terminal), and the zone's serial.
func (s *Store) exists(name, zone string) (bool, uint32) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	serial := s.zones[zone]
	if name == zone {
		return true, serial
	}
	for _, r := range s.records {
		if r.Name == name || strings.HasSuffix(r.Name, "."+name) {
			return true, serial
		}
	}
	return false, serial
}
