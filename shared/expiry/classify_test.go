package expiry

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/slb-cert-rotator/slb-cert-rotator/shared/apierr"
)

var now = time.Date(2026, 11, 28, 19, 0, 0, 0, time.UTC)

func TestClassifyEdges(t *testing.T) {
	day := 24 * time.Hour
	warn := []int{45, 30, 14, 7, 3, 1}
	tests := []struct {
		name      string
		notAfter  time.Time
		wantDays  int
		wantClass string
		wantLevel int
	}{
		{"far away", now.Add(100 * day), 100, ClassOK, -1},
		{"one second before the 45 day window", now.Add(46*day - time.Second), 45, ClassWarn, 45},
		{"46 days exactly", now.Add(46 * day), 46, ClassOK, -1},
		{"45 days exactly", now.Add(45 * day), 45, ClassWarn, 45},
		{"30 days and a second", now.Add(30*day + time.Second), 30, ClassWarn, 30},
		{"8 days exactly", now.Add(8 * day), 8, ClassWarn, 14},
		{"7 days and 23 hours", now.Add(8*day - time.Hour), 7, ClassCritical, 7},
		{"7 days exactly", now.Add(7 * day), 7, ClassCritical, 7},
		{"2 days", now.Add(2 * day), 2, ClassCritical, 3},
		{"one second left", now.Add(time.Second), 0, ClassCritical, 1},
		{"expires this second (valid through NotAfter)", now, 0, ClassCritical, 1},
		{"expired a second ago", now.Add(-time.Second), -1, ClassExpired, 0},
		{"expired a day ago", now.Add(-day), -1, ClassExpired, 0},
		{"expired a day and a second ago", now.Add(-day - time.Second), -2, ClassExpired, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DaysLeft(now, tt.notAfter); got != tt.wantDays {
				t.Errorf("DaysLeft = %d, want %d", got, tt.wantDays)
			}
			if got := Classify(now, tt.notAfter, warn); got != tt.wantClass {
				t.Errorf("Classify = %s, want %s", got, tt.wantClass)
			}
			if got := Level(now, tt.notAfter, warn); got != tt.wantLevel {
				t.Errorf("Level = %d, want %d", got, tt.wantLevel)
			}
		})
	}
}

func TestClassifyCriticalWithoutWarnDays(t *testing.T) {
	if got := Classify(now, now.Add(20*24*time.Hour), nil); got != ClassOK {
		t.Errorf("no warn days: 20 days = %s, want ok", got)
	}
	if got := Classify(now, now.Add(3*24*time.Hour), []int{30}); got != ClassCritical {
		t.Errorf("3 days = %s, want critical whatever the thresholds", got)
	}
	if got := Level(now, now.Add(3*24*time.Hour), []int{30}); got != 30 {
		t.Errorf("Level with only 30 = %d, want 30", got)
	}
}

func TestCoversAll(t *testing.T) {
	tests := []struct {
		names, domains []string
		want           bool
	}{
		{[]string{"*.example.com"}, []string{"a.example.com", "example.com"}, false},
		{[]string{"example.com", "*.example.com"}, []string{"a.example.com", "example.com"}, true},
		{[]string{"*.example.com"}, []string{"a.b.example.com"}, false},
		{[]string{"*.example.com"}, []string{"*.example.com"}, true},
		{[]string{"a.example.com"}, []string{"*.example.com"}, false},
		{[]string{"a"}, nil, false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.names, ",")+" "+strings.Join(tt.domains, ","), func(t *testing.T) {
			if got := coversAll(tt.names, tt.domains); got != tt.want {
				t.Errorf("coversAll = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name    string
		req     Request
		want    Request
		wantErr string
	}{
		{"defaults", Request{Regions: []string{"cn-zhangjiakou"}}, Request{WarnDays: DefaultWarnDays, Regions: []string{"cn-zhangjiakou"}}, ""},
		{"sorted, deduplicated", Request{WarnDays: []int{1, 30, 7, 30}, Regions: []string{" cn-hangzhou", "cn-hangzhou", "eu-central-1"}},
			Request{WarnDays: []int{30, 7, 1}, Regions: []string{"cn-hangzhou", "eu-central-1"}}, ""},
		{"zero threshold", Request{WarnDays: []int{30, 0}, Regions: []string{"cn-hangzhou"}}, Request{}, "warnDays[1]"},
		{"negative threshold", Request{WarnDays: []int{-3}, Regions: []string{"cn-hangzhou"}}, Request{}, "warnDays[0]"},
		{"bad region", Request{Regions: []string{"cn-hangzhou", "Hangzhou!"}}, Request{}, "regions[1]"},
		{"no region", Request{}, Request{}, "regions is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, apierr.ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(itoas(got.WarnDays), ",") != strings.Join(itoas(tt.want.WarnDays), ",") ||
				strings.Join(got.Regions, ",") != strings.Join(tt.want.Regions, ",") {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	if DefaultWarnDays[0] != 45 {
		t.Error("Normalize changed DefaultWarnDays in place")
	}
}

func itoas(v []int) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = time.Duration(x).String()
	}
	return out
}
