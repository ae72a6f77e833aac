package metrics

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every series of one running Dialtone. The zero value is not usable; use New.
type Registry struct {
	reg *prometheus.Registry
}

// New makes a registry with the Go runtime and process collectors in it.
func New() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Registry{reg: reg}
}

// LatencyBuckets are the bounds, in seconds, of every latency histogram: a few, so that a
// histogram per route or per operation stays a handful of lines.
var LatencyBuckets = []float64{0.001, 0.005, 0.025, 0.1, 0.5, 2.5}

// register adds c, or answers the collector already registered under the same name and
// labels (two listeners share one series).
func register[C prometheus.Collector](r *Registry, c C) C {
	if err := r.reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old
			}
		}
		panic(err) // a programming error: two different series of one name
	}
	return c
}

// Counter registers (or finds) a counter with the given label names. Callers on a hot
// path resolve each series once (WithLabelValues) and keep the prometheus.Counter.
func (r *Registry) Counter(name, help string, labels ...string) *prometheus.CounterVec {
	return register(r, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
}

// Histogram registers (or finds) a latency histogram (LatencyBuckets, seconds).
func (r *Registry) Histogram(name, help string, labels ...string) *prometheus.HistogramVec {
	return register(r, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: LatencyBuckets}, labels))
}

// Gauge registers a gauge read when /metrics is scraped: fn gives the value per label
// value (label values joined by "\xff" when there are several; "" when there are none).
// Current state (bindings, queue depth) is read this way, never kept as counters that
// could drift from it.
func (r *Registry) Gauge(name, help string, fn func() map[string]float64, labels ...string) {
	register(r, &funcCollector{desc: prometheus.NewDesc(name, help, labels, nil), typ: prometheus.GaugeValue, fn: fn, n: len(labels)})
}

// CounterFunc registers a counter kept elsewhere (a package with no registry, such as
// internal/crash), read like Gauge when /metrics is scraped.
func (r *Registry) CounterFunc(name, help string, fn func() map[string]float64, labels ...string) {
	register(r, &funcCollector{desc: prometheus.NewDesc(name, help, labels, nil), typ: prometheus.CounterValue, fn: fn, n: len(labels)})
}

// Handler serves the registry in the Prometheus text format (or what the scraper
// negotiates).
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Timeout: 10 * time.Second})
}

// Gatherer is the registry as client_golang sees it (tests read series through it).
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// funcCollector is a Gauge or CounterFunc.
type funcCollector struct {
	desc *prometheus.Desc
	typ  prometheus.ValueType
	fn   func() map[string]float64
	n    int
}

func (c *funcCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *funcCollector) Collect(ch chan<- prometheus.Metric) {
	for k, v := range c.fn() {
		var vals []string
		if c.n > 0 {
			vals = strings.SplitN(k, "\xff", c.n)
			for len(vals) < c.n {
				vals = append(vals, "")
			}
		}
		ch <- prometheus.MustNewConstMetric(c.desc, c.typ, v, vals...)
	}
}

// Requests counts requests by route and result and times them by route, with each series
// resolved once and kept: counting a request it has seen before takes a read lock and
// no allocation (client_golang's WithLabelValues would hash and look up every time).
// At most maxRoutes routes are told apart; further ones count as "other".
type Requests struct {
	count   *prometheus.CounterVec
	latency *prometheus.HistogramVec
	mu      sync.RWMutex
	routes  map[string]*route
}

type route struct {
	name    string // the route's label value ("other" past maxRoutes)
	latency prometheus.Observer
	mu      sync.RWMutex
	results map[string]prometheus.Counter
}

// maxRoutes bounds the routes of a Requests; maxResults the results of one route.
const maxRoutes, maxResults = 256, 64

// Requests registers a counter {prefix}_requests_total{route,result label} and a
// histogram {prefix}_request_duration_seconds{route}.
func (r *Registry) Requests(prefix, what, routeLabel, resultLabel string) *Requests {
	return &Requests{
		count:   r.Counter(prefix+"_requests_total", what+" by "+routeLabel+" and "+resultLabel+".", routeLabel, resultLabel),
		latency: r.Histogram(prefix+"_request_duration_seconds", what+": latency by "+routeLabel+".", routeLabel),
		routes:  map[string]*route{},
	}
}

// Observe counts one request of route with its result and how long it took.
func (q *Requests) Observe(routeName, result string, d time.Duration) {
	rt := q.route(routeName)
	rt.latency.Observe(d.Seconds())
	rt.result(q, result).Inc()
}

// Count counts one request of route with its result, without timing it.
func (q *Requests) Count(routeName, result string) {
	q.route(routeName).result(q, result).Inc()
}

func (q *Requests) route(name string) *route {
	return resolve(&q.mu, q.routes, name, maxRoutes, func(name string) *route {
		return &route{name: name, latency: q.latency.WithLabelValues(name), results: map[string]prometheus.Counter{}}
	})
}

func (rt *route) result(q *Requests, result string) prometheus.Counter {
	return resolve(&rt.mu, rt.results, result, maxResults, func(result string) prometheus.Counter {
		return q.count.WithLabelValues(rt.name, result)
	})
}

// resolve finds key's entry of m under a read lock, else adds the one add makes under
// the write lock; past limit entries a new key counts as "other".
func resolve[V any](mu *sync.RWMutex, m map[string]V, key string, limit int, add func(key string) V) V {
	mu.RLock()
	v, ok := m[key]
	mu.RUnlock()
	if ok {
		return v
	}
	mu.Lock()
	defer mu.Unlock()
	if len(m) >= limit {
		key = "other"
	}
	if v, ok = m[key]; !ok {
		v = add(key)
		m[key] = v
	}
	return v
}
