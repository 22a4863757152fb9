package provisioning

import "sort"

// zonesByRegion is a small, offline table of the zones where CLB instances
// can be placed, for the regions the product is used in. It lets a payload
// with a misspelt zone be refused before any call. Extend it when a region
// is added; an unknown region is refused with the list of known ones.
var zonesByRegion = map[string][]string{
	"cn-zhangjiakou": {"cn-zhangjiakou-a", "cn-zhangjiakou-b", "cn-zhangjiakou-c"},
	"cn-hangzhou":    {"cn-hangzhou-b", "cn-hangzhou-f", "cn-hangzhou-g", "cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j", "cn-hangzhou-k"},
	"cn-shanghai":    {"cn-shanghai-a", "cn-shanghai-b", "cn-shanghai-e", "cn-shanghai-f", "cn-shanghai-g", "cn-shanghai-l", "cn-shanghai-m", "cn-shanghai-n"},
	"cn-beijing":     {"cn-beijing-a", "cn-beijing-c", "cn-beijing-d", "cn-beijing-e", "cn-beijing-f", "cn-beijing-g", "cn-beijing-h", "cn-beijing-i", "cn-beijing-j", "cn-beijing-k", "cn-beijing-l"},
	"cn-shenzhen":    {"cn-shenzhen-a", "cn-shenzhen-b", "cn-shenzhen-c", "cn-shenzhen-d", "cn-shenzhen-e", "cn-shenzhen-f"},
	"cn-qingdao":     {"cn-qingdao-b", "cn-qingdao-c"},
	"cn-huhehaote":   {"cn-huhehaote-a", "cn-huhehaote-b"},
	"cn-chengdu":     {"cn-chengdu-a", "cn-chengdu-b"},
	"cn-hongkong":    {"cn-hongkong-b", "cn-hongkong-c", "cn-hongkong-d"},
	"ap-southeast-1": {"ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"},
	"eu-central-1":   {"eu-central-1a", "eu-central-1b"},
	"us-east-1":      {"us-east-1a", "us-east-1b"},
	"us-west-1":      {"us-west-1a", "us-west-1b"},
}

// KnownRegions lists the regions of the zone table, sorted.
func KnownRegions() []string {
	out := make([]string, 0, len(zonesByRegion))
	for r := range zonesByRegion {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// Zones returns the known zones of a region (nil when the region is not in
// the table).
func Zones(region string) []string {
	return append([]string(nil), zonesByRegion[region]...)
}
