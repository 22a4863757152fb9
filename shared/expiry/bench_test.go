package expiry

import (
	"context"
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkSweepDesignScale sweeps the design scale (10 regions × 200 load
// balancers × 5 HTTPS listeners, one domain extension on every listener)
// against the in-memory fake, and reports the API requests and the heap
// held by the report. It measures; it asserts nothing about time.
func BenchmarkSweepDesignScale(b *testing.B) {
	cloud := newCloud()
	var regions []string
	for i := 0; i < 10; i++ {
		r := fmt.Sprintf("cn-region%d", i)
		regions = append(regions, r)
		fr := cloud.addRegion(r, 200, 5, cert("c-"+r, byte(i+1), days(20), "www.example.com"), cert("e-"+r, byte(i+50), days(200), "api.example.com"))
		for _, lb := range fr.lbs {
			for p := 0; p < 5; p++ {
				ext := clbExt("api.example.com", "e-"+r)
				ext.ID = ""
				fr.addExtensions(lb.ID, 443+p, ext)
			}
		}
	}
	s := &Sweeper{Inventory: cloud.reader(), Objects: newObjects(), Bucket: bucket}
	b.ResetTimer()
	var rep Report
	for i := 0; i < b.N; i++ {
		var err error
		rep, err = s.Sweep(context.Background(), now, Request{Regions: regions})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(cloud.total())/float64(b.N), "requests/sweep")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(rep.Targets), "targets")
	if raw, ok := s.Objects.(*memObjects).objs[bucket+"/"+rep.ReportKey]; ok {
		b.ReportMetric(float64(len(raw))/(1<<20), "report-MiB")
	}
	runtime.KeepAlive(rep)
}
