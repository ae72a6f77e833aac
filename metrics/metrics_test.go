package metrics

import (
	"strings"
	"testing"
	"time"
)

func TestTextFormat(t *testing.T) {
	r := New()
	inc := r.Counter("dialtone_http_requests_total", "HTTP requests.", "route", "code")
	obs := r.Histogram("dialtone_http_request_seconds", "HTTP latency.", "route")
	r.Gauge("dialtone_store_bytes", "Store size.", func() map[string]float64 { return map[string]float64{"lsm": 42} }, "part")
	inc("/api/v1/me", "200")
	inc("/api/v1/me", "200")
	obs(3*time.Millisecond, "/api/v1/me")
	var b strings.Builder
	r.WriteText(&b)
	out := b.String()
	for _, want := range []string{
		"# TYPE dialtone_http_requests_total counter",
		`dialtone_http_requests_total{route="/api/v1/me",code="200"} 2`,
		`dialtone_http_request_seconds_bucket{route="/api/v1/me",le="0.0025"} 0`,
		`dialtone_http_request_seconds_bucket{route="/api/v1/me",le="0.005"} 1`,
		`dialtone_http_request_seconds_count{route="/api/v1/me"} 1`,
		`dialtone_store_bytes{part="lsm"} 42`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

func TestSeriesBounded(t *testing.T) {
	r := New()
	inc := r.Counter("c", "c", "path")
	for i := 0; i < 2*maxSeries; i++ {
		inc(strings.Repeat("x", i%700) + string(rune('a'+i%26)))
	}
	if n := len(r.counters["c"].vals); n > maxSeries+1 {
		t.Fatalf("%d series, want at most %d", n, maxSeries+1)
	}
}
