package config

import (
	"fmt"
	"strings"
)

// DefaultProducts is LB_PRODUCTS when it is not set: every product.
var DefaultProducts = []string{"clb", "alb", "nlb"}

// loadProducts reads LB_PRODUCTS: a comma list of clb, alb and nlb.
func loadProducts(l *loader, c *Config) {
	raw := l.get(EnvProducts)
	if raw == "" {
		c.Products = append([]string(nil), DefaultProducts...)
		return
	}
	seen := map[string]bool{}
	for _, p := range strings.Split(raw, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "":
			continue
		case p != "clb" && p != "alb" && p != "nlb":
			l.bad(EnvProducts, fmt.Sprintf("%q is not a load-balancer product", p), "list clb, alb and/or nlb separated by commas, e.g. LB_PRODUCTS=clb,alb,nlb")
			return
		case !seen[p]:
			seen[p] = true
			c.Products = append(c.Products, p)
		}
	}
	if len(c.Products) == 0 {
		l.bad(EnvProducts, "lists no product", "list clb, alb and/or nlb, or unset it for all three")
	}
}

// HasProduct reports whether the rotation reaches product (an empty
// Products is CLB only).
func (c Config) HasProduct(product string) bool {
	if len(c.Products) == 0 {
		return product == "clb"
	}
	for _, p := range c.Products {
		if p == product {
			return true
		}
	}
	return false
}
