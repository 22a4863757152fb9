package outcome

import "testing"

func TestSuccess(t *testing.T) {
	failures := map[Status]bool{Partial: true, Deferred: true, Rejected: true, Failed: true, "dry-run": true, "": true, "bogus": true}
	for _, s := range append(All, "dry-run", "", "bogus") {
		if got, want := s.Success(), !failures[s]; got != want {
			t.Errorf("%q.Success() = %v, want %v", s, got, want)
		}
	}
	seen := map[Status]bool{}
	for _, s := range All {
		if seen[s] {
			t.Errorf("%q listed twice in All", s)
		}
		seen[s] = true
	}
}
