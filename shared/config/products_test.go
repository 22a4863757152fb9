package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestLoadProducts: LB_PRODUCTS picks the products (default all three);
// a wrong name is refused with the variable and the fix.
func TestLoadProducts(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want []string
		err  string
	}{
		{"", []string{"clb", "alb", "nlb"}, ""},
		{"clb", []string{"clb"}, ""},
		{" ALB , nlb,alb ", []string{"alb", "nlb"}, ""},
		{"clb,elb", nil, `LB_PRODUCTS: "elb" is not a load-balancer product`},
		{",", nil, "LB_PRODUCTS: lists no product"},
	} {
		c, err := Load(env(map[string]string{"CERT_BUCKET": "my-certs", "FC_REGION": "cn-hangzhou", EnvProducts: tc.raw}))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("LB_PRODUCTS=%q: error %v, want %q", tc.raw, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(c.Products, tc.want) {
			t.Errorf("LB_PRODUCTS=%q: %v %v, want %v", tc.raw, c.Products, err, tc.want)
		}
	}
	if (Config{}).HasProduct("alb") || !(Config{}).HasProduct("clb") {
		t.Error("a Config built by hand is CLB only")
	}
}
