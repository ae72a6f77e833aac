package admin

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkCreateUser measures POST …/users over the real HTTP stack on an on-disk
// store (each create is a durable commit: generated PIN and password, automatic
// extension), one create per op, and reports p50/p99. A benchmark, not a test: it
// asserts only that each create succeeds, which the API tests cover, and 1000 durable
// commits took a tenth of `make test`'s admin time.
//
//	go test ./admin -run '^$' -bench CreateUser -benchtime 1000x
func BenchmarkCreateUser(b *testing.B) {
	e := newEnvDir(b, b.TempDir())
	tok := e.adminToken()
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		body := map[string]any{"first_name": "Load", "last_name": fmt.Sprint(i), "email": fmt.Sprintf("load%d@example.com", i)}
		start := time.Now()
		a := e.do(tok, "POST", "/api/v1/tenants/default/users", body)
		durs = append(durs, time.Since(start))
		if a.status != 201 {
			b.Fatalf("create %d: %d %s", i, a.status, a.body)
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	b.ReportMetric(float64(durs[len(durs)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(durs[len(durs)*99/100].Microseconds()), "p99-µs")
}
