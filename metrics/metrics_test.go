package metrics

import (
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, r *Registry) string {
	t.Helper()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestTextFormat(t *testing.T) {
	r := New()
	q := r.Requests("dialtone_http", "HTTP requests", "route", "code")
	r.Gauge("dialtone_store_bytes", "Store size.", func() map[string]float64 { return map[string]float64{"lsm": 42} }, "part")
	r.CounterFunc("dialtone_x_total", "X.", func() map[string]float64 { return map[string]float64{"": 7} })
	q.Observe("/api/v1/me", "200", 3*time.Millisecond)
	q.Observe("/api/v1/me", "200", 5*time.Millisecond) // a bound is inclusive (le)
	out := scrape(t, r)
	for _, want := range []string{
		"# TYPE dialtone_http_requests_total counter",
		`dialtone_http_requests_total{code="200",route="/api/v1/me"} 2`,
		`dialtone_http_request_duration_seconds_bucket{route="/api/v1/me",le="0.001"} 0`,
		`dialtone_http_request_duration_seconds_bucket{route="/api/v1/me",le="0.005"} 2`,
		`dialtone_http_request_duration_seconds_bucket{route="/api/v1/me",le="+Inf"} 2`,
		`dialtone_http_request_duration_seconds_count{route="/api/v1/me"} 2`,
		`dialtone_store_bytes{part="lsm"} 42`,
		"# TYPE dialtone_x_total counter",
		"dialtone_x_total 7",
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

// One histogram line per bucket per route, once: 60 requests over a few routes stay a
// few lines each.
func TestRouteSeriesSmall(t *testing.T) {
	r := New()
	q := r.Requests("dialtone_http", "HTTP requests", "route", "code")
	for i := range 60 {
		q.Observe("/p/{token}/{file}", "200", time.Duration(i)*time.Millisecond)
	}
	var n int
	for _, l := range strings.Split(scrape(t, r), "\n") {
		if strings.HasPrefix(l, "dialtone_http_") {
			n++
		}
	}
	// 1 counter + (6 buckets + +Inf + sum + count).
	if n != 1+len(LatencyBuckets)+3 {
		t.Errorf("%d lines of dialtone_http_*, want %d", n, 1+len(LatencyBuckets)+3)
	}
}

// Label values come from requests: routes and results past the bound count as "other".
func TestSeriesBounded(t *testing.T) {
	r := New()
	q := r.Requests("c", "c", "route", "code")
	for i := 0; i < 2*maxRoutes; i++ {
		q.Count("/r"+strconv.Itoa(i), strconv.Itoa(i%(2*maxResults)))
	}
	if len(q.routes) > maxRoutes+1 {
		t.Fatalf("%d routes, want at most %d", len(q.routes), maxRoutes+1)
	}
	if !strings.Contains(scrape(t, r), `c_requests_total{code="0",route="other"}`) {
		t.Error("no route other")
	}
}

// Counting a request must not allocate once its series exists: every HTTP request does it.
func TestObserveDoesNotAllocate(t *testing.T) {
	r := New()
	q := r.Requests("c", "c", "route", "code")
	q.Observe("/p/{token}/{file}", "200", time.Millisecond)
	if n := testing.AllocsPerRun(100, func() {
		q.Observe("/p/{token}/{file}", "200", time.Millisecond)
	}); n != 0 {
		t.Errorf("%v allocations per request", n)
	}
}

// The same series asked for twice (two listeners) is one series.
func TestRegisterTwice(t *testing.T) {
	r := New()
	a := r.Counter("dialtone_conns_refused_total", "x", "service")
	b := r.Counter("dialtone_conns_refused_total", "x", "service")
	if a != b {
		t.Error("two collectors for one name")
	}
}

// BenchmarkRequestsObserve is what the metrics cost an HTTP request: one count and one
// latency observation of a series seen before.
func BenchmarkRequestsObserve(b *testing.B) {
	q := New().Requests("dialtone_http", "HTTP requests", "route", "code")
	b.ReportAllocs()
	for b.Loop() {
		q.Observe("/p/{token}/{file}", "200", 300*time.Microsecond)
	}
}
