package rotation

import "testing"

func TestProbeName(t *testing.T) {
	tests := []struct {
		name    string
		domain  string
		exts    []string
		domains []string
		want    string
	}{
		{"extension", "api.example.com", nil, []string{"www.example.com"}, "api.example.com"},
		{"wildcard extension", "*.example.com", nil, []string{"*.example.com"}, "www.example.com"},
		{"default first domain", "", nil, []string{"www.example.com", "example.com"}, "www.example.com"},
		{"default avoids extension", "", []string{"www.example.com"}, []string{"www.example.com", "example.com"}, "example.com"},
		{"default wildcard", "", nil, []string{"*.example.com"}, "www.example.com"},
		{"default wildcard avoids wildcard extension", "", []string{"www.example.com"}, []string{"*.example.com"}, "probe.example.com"},
		{"everything claimed", "", []string{"*.example.com"}, []string{"*.example.com"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := &target{extNames: tt.exts}
			tg.Domain = tt.domain
			if got := probeName(tg, &material{domains: tt.domains}); got != tt.want {
				t.Errorf("probeName = %q; want %q", got, tt.want)
			}
		})
	}
}
