package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Registry holds every series. The zero value is not usable; use New.
type Registry struct {
	mu       sync.RWMutex
	counters map[string]*CounterVec
	hists    map[string]*HistogramVec
	gauges   map[string]gaugeFunc
	help     map[string]string
}

type gaugeFunc struct {
	typ    string // "gauge", or "counter" for a CounterFunc
	labels []string
	fn     func() map[string]float64 // label value(s) joined by \xff → value
}

// New makes an empty registry.
func New() *Registry {
	return &Registry{counters: map[string]*CounterVec{}, hists: map[string]*HistogramVec{},
		gauges: map[string]gaugeFunc{}, help: map[string]string{}}
}

// series holds one metric's values by label values (joined by seriesKey).
type series[T any] struct {
	labels []string
	mu     sync.RWMutex
	vals   map[string]*T
}

func newSeries[T any](labels []string) series[T] {
	return series[T]{labels: labels, vals: map[string]*T{}}
}

// get finds (or adds) the value of the series of values. A series already seen costs
// a map lookup under a read lock, no allocation: requests call it.
func (s *series[T]) get(values []string) *T {
	var buf [128]byte
	key := seriesKey(buf[:0], values)
	s.mu.RLock()
	v := s.vals[string(key)]
	s.mu.RUnlock()
	if v != nil {
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := string(key)
	if v = s.vals[k]; v == nil {
		if len(s.vals) >= maxSeries {
			k = overflowKey(len(s.labels))
		}
		if v = s.vals[k]; v == nil {
			v = new(T)
			s.vals[k] = v
		}
	}
	return v
}

// CounterVec is a counter with labels; Inc adds one to the series of the given
// label values.
type CounterVec struct{ series[atomic.Uint64] }

// Counter registers (or finds) a counter with the given label names.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.counters[name]
	if !ok {
		c = &CounterVec{newSeries[atomic.Uint64](labels)}
		r.counters[name] = c
		r.help[name] = help
	}
	return c
}

// Inc adds one to the series of values, without allocating once the series exists.
func (c *CounterVec) Inc(values ...string) { c.get(values).Add(1) }

// seriesKey joins label values with \xff (which UTF-8 text never holds).
func seriesKey(b []byte, values []string) []byte {
	for i, v := range values {
		if i > 0 {
			b = append(b, 0xff)
		}
		b = append(b, v...)
	}
	return b
}

// maxSeries bounds the label combinations of one metric: label values come from requests.
const maxSeries = 512

func overflowKey(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "other"
	}
	return strings.Join(parts, "\xff")
}

// Buckets are the latency bounds in seconds.
var Buckets = [...]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// bucketBounds are Buckets as durations, for Observe.
var bucketBounds = func() (d [len(Buckets)]time.Duration) {
	for i, b := range Buckets {
		d[i] = time.Duration(b * float64(time.Second))
	}
	return d
}()

// HistogramVec is a latency histogram with labels.
type HistogramVec struct{ series[hist] }

// hist is one series; its fields are atomics, so observations take no lock.
type hist struct {
	counts [len(Buckets) + 1]atomic.Uint64 // per bucket; the last is +Inf
	sumNs  atomic.Uint64
}

// Histogram registers (or finds) a latency histogram with the given label names.
func (r *Registry) Histogram(name, help string, labels ...string) *HistogramVec {
	r.mu.Lock()
	defer r.mu.Unlock()
	h, ok := r.hists[name]
	if !ok {
		h = &HistogramVec{newSeries[hist](labels)}
		r.hists[name] = h
		r.help[name] = help
	}
	return h
}

// Observe adds one duration to the series of values, without allocating once
// the series exists.
func (h *HistogramVec) Observe(d time.Duration, values ...string) {
	v := h.get(values)
	i := 0
	for i < len(Buckets) && d > bucketBounds[i] {
		i++
	}
	v.counts[i].Add(1)
	v.sumNs.Add(uint64(max(d, 0)))
}

// Gauge registers a gauge whose values are read when /metrics is scraped. fn returns the
// value per joined label values ("" when there are no labels).
func (r *Registry) Gauge(name, help string, fn func() map[string]float64, labels ...string) {
	r.mu.Lock()
	r.gauges[name] = gaugeFunc{typ: "gauge", labels: labels, fn: fn}
	r.help[name] = help
	r.mu.Unlock()
}

// CounterFunc registers a counter kept elsewhere (a package that has no registry, such
// as internal/crash), read like a gauge when /metrics is scraped.
func (r *Registry) CounterFunc(name, help string, fn func() map[string]float64, labels ...string) {
	r.mu.Lock()
	r.gauges[name] = gaugeFunc{typ: "counter", labels: labels, fn: fn}
	r.help[name] = help
	r.mu.Unlock()
}

// WriteText writes every series in the Prometheus text format.
func (r *Registry) WriteText(w io.Writer) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, name := range sortedKeys(r.counters) {
		c := r.counters[name]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", name, r.help[name], name)
		c.mu.RLock()
		for _, k := range sortedKeys(c.vals) {
			fmt.Fprintf(w, "%s%s %d\n", name, labelText(c.labels, k, ""), c.vals[k].Load())
		}
		c.mu.RUnlock()
	}
	for _, name := range sortedKeys(r.hists) {
		h := r.hists[name]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", name, r.help[name], name)
		h.mu.RLock()
		for _, k := range sortedKeys(h.vals) {
			v := h.vals[k]
			var cum uint64
			for i, b := range Buckets {
				cum += v.counts[i].Load()
				fmt.Fprintf(w, "%s_bucket%s %d\n", name, labelText(h.labels, k, fmt.Sprintf("le=%q", fmtFloat(b))), cum)
			}
			cum += v.counts[len(Buckets)].Load()
			fmt.Fprintf(w, "%s_bucket%s %d\n", name, labelText(h.labels, k, `le="+Inf"`), cum)
			fmt.Fprintf(w, "%s_sum%s %s\n", name, labelText(h.labels, k, ""), fmtFloat(time.Duration(v.sumNs.Load()).Seconds()))
			fmt.Fprintf(w, "%s_count%s %d\n", name, labelText(h.labels, k, ""), cum)
		}
		h.mu.RUnlock()
	}
	for _, name := range sortedKeys(r.gauges) {
		g := r.gauges[name]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, r.help[name], name, g.typ)
		vals := g.fn()
		for _, k := range sortedKeys(vals) {
			fmt.Fprintf(w, "%s%s %s\n", name, labelText(g.labels, k, ""), fmtFloat(vals[k]))
		}
	}
}

func fmtFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "+Inf"
	}
	return fmt.Sprintf("%g", f)
}

func labelText(names []string, joined, extra string) string {
	var parts []string
	if len(names) > 0 {
		vals := strings.Split(joined, "\xff")
		for i, n := range names {
			v := ""
			if i < len(vals) {
				v = vals[i]
			}
			parts = append(parts, fmt.Sprintf("%s=%q", n, escapeLabel(v)))
		}
	}
	if extra != "" {
		parts = append(parts, extra)
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// escapeLabel leaves only what %q will not mangle for Prometheus: it drops invalid UTF-8.
func escapeLabel(v string) string { return strings.ToValidUTF8(v, "?") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
