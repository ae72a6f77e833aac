package admin

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestCreateUserLatency measures POST …/users over the real HTTP stack on an on-disk
// store (each create is a durable commit) and prints p50/p99. It asserts correctness
// only, never time.
func TestCreateUserLatency(t *testing.T) {
	e := newEnvDir(t, t.TempDir())
	tok := e.adminToken()
	const n = 1000
	durs := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		body := map[string]any{"first_name": "Load", "last_name": fmt.Sprint(i), "email": fmt.Sprintf("load%d@example.com", i)}
		start := time.Now()
		a := e.do(tok, "POST", "/api/v1/tenants/default/users", body)
		durs = append(durs, time.Since(start))
		if a.status != 201 {
			t.Fatalf("create %d: %d %s", i, a.status, a.body)
		}
	}
	slices.Sort(durs)
	t.Logf("create-user over HTTP, on-disk store, %d creates (generated PIN+password, auto extension): p50 %v p99 %v max %v",
		n, durs[n/2], durs[n*99/100], durs[n-1])
}
