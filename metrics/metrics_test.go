package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestTextFormat(t *testing.T) {
	t.Parallel()
	r := New()
	inc := r.Counter("dialtone_http_requests_total", "HTTP requests.", "route", "code")
	obs := r.Histogram("dialtone_http_request_seconds", "HTTP latency.", "route")
	r.Gauge("dialtone_store_bytes", "Store size.", func() map[string]float64 { return map[string]float64{"lsm": 42} }, "part")
	inc.Inc("/api/v1/me", "200")
	inc.Inc("/api/v1/me", "200")
	obs.Observe(3*time.Millisecond, "/api/v1/me")
	obs.Observe(5*time.Millisecond, "/api/v1/me") // a bound is inclusive (le)
	var b strings.Builder
	r.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"# TYPE dialtone_http_requests_total counter",
		`dialtone_http_requests_total{route="/api/v1/me",code="200"} 2`,
		`dialtone_http_request_seconds_bucket{route="/api/v1/me",le="0.0025"} 0`,
		`dialtone_http_request_seconds_bucket{route="/api/v1/me",le="0.005"} 2`,
		`dialtone_http_request_seconds_bucket{route="/api/v1/me",le="+Inf"} 2`,
		`dialtone_http_request_seconds_sum{route="/api/v1/me"} 0.008`,
		`dialtone_http_request_seconds_count{route="/api/v1/me"} 2`,
		`dialtone_store_bytes{part="lsm"} 42`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestSeriesBounded(t *testing.T) {
	t.Parallel()
	r := New()
	inc := r.Counter("c", "c", "path")
	for i := 0; i < 2*maxSeries; i++ {
		inc.Inc(strings.Repeat("x", i%700) + string(rune('a'+i%26)))
	}
	if n := len(r.counters["c"].vals); n > maxSeries+1 {
		t.Fatalf("%d series, want at most %d", n, maxSeries+1)
	}
}

// Counting a request must not allocate once its series exists: every HTTP request does it.
func TestObserveDoesNotAllocate(t *testing.T) {
	r := New()
	inc := r.Counter("c", "c", "route", "code")
	obs := r.Histogram("h", "h", "route")
	inc.Inc("/p/{token}/{file}", "200")
	obs.Observe(time.Millisecond, "/p/{token}/{file}")
	if n := testing.AllocsPerRun(100, func() {
		inc.Inc("/p/{token}/{file}", "200")
		obs.Observe(time.Millisecond, "/p/{token}/{file}")
	}); n != 0 {
		t.Errorf("%v allocations per request", n)
	}
}
