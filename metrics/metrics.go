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
	counters map[string]*counterVec
	hists    map[string]*histVec
	gauges   map[string]gaugeFunc
	help     map[string]string
}

type gaugeFunc struct {
	labels []string
	fn     func() map[string]float64 // label value(s) joined by \xff → value
}

// New makes an empty registry.
func New() *Registry {
	return &Registry{counters: map[string]*counterVec{}, hists: map[string]*histVec{},
		gauges: map[string]gaugeFunc{}, help: map[string]string{}}
}

type counterVec struct {
	labels []string
	mu     sync.RWMutex
	vals   map[string]*atomic.Uint64
}

// Counter registers (or finds) a counter with the given label names and returns a function
// that adds one for the given label values.
func (r *Registry) Counter(name, help string, labels ...string) func(values ...string) {
	r.mu.Lock()
	c, ok := r.counters[name]
	if !ok {
		c = &counterVec{labels: labels, vals: map[string]*atomic.Uint64{}}
		r.counters[name] = c
		r.help[name] = help
	}
	r.mu.Unlock()
	return func(values ...string) { c.get(strings.Join(values, "\xff")).Add(1) }
}

func (c *counterVec) get(key string) *atomic.Uint64 {
	c.mu.RLock()
	v := c.vals[key]
	c.mu.RUnlock()
	if v != nil {
		return v
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v = c.vals[key]; v == nil {
		if len(c.vals) >= maxSeries {
			key = overflowKey(len(c.labels))
			if v = c.vals[key]; v != nil {
				return v
			}
		}
		v = new(atomic.Uint64)
		c.vals[key] = v
	}
	return v
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
var Buckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

type histVec struct {
	labels []string
	mu     sync.Mutex
	vals   map[string]*hist
}

type hist struct {
	counts [16]uint64 // len(Buckets)+1
	sum    float64
	n      uint64
}

// Histogram registers a latency histogram and returns a function that observes one
// duration for the given label values.
func (r *Registry) Histogram(name, help string, labels ...string) func(d time.Duration, values ...string) {
	r.mu.Lock()
	h, ok := r.hists[name]
	if !ok {
		h = &histVec{labels: labels, vals: map[string]*hist{}}
		r.hists[name] = h
		r.help[name] = help
	}
	r.mu.Unlock()
	return func(d time.Duration, values ...string) {
		key := strings.Join(values, "\xff")
		sec := d.Seconds()
		h.mu.Lock()
		v := h.vals[key]
		if v == nil {
			if len(h.vals) >= maxSeries {
				key = overflowKey(len(h.labels))
			}
			if v = h.vals[key]; v == nil {
				v = &hist{}
				h.vals[key] = v
			}
		}
		i := sort.SearchFloat64s(Buckets, sec)
		v.counts[i]++
		v.sum += sec
		v.n++
		h.mu.Unlock()
	}
}

// Gauge registers a gauge whose values are read when /metrics is scraped. fn returns the
// value per joined label values ("" when there are no labels).
func (r *Registry) Gauge(name, help string, fn func() map[string]float64, labels ...string) {
	r.mu.Lock()
	r.gauges[name] = gaugeFunc{labels: labels, fn: fn}
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
		h.mu.Lock()
		for _, k := range sortedKeys(h.vals) {
			v := h.vals[k]
			var cum uint64
			for i, b := range Buckets {
				cum += v.counts[i]
				fmt.Fprintf(w, "%s_bucket%s %d\n", name, labelText(h.labels, k, fmt.Sprintf("le=%q", fmtFloat(b))), cum)
			}
			fmt.Fprintf(w, "%s_bucket%s %d\n", name, labelText(h.labels, k, `le="+Inf"`), v.n)
			fmt.Fprintf(w, "%s_sum%s %s\n", name, labelText(h.labels, k, ""), fmtFloat(v.sum))
			fmt.Fprintf(w, "%s_count%s %d\n", name, labelText(h.labels, k, ""), v.n)
		}
		h.mu.Unlock()
	}
	for _, name := range sortedKeys(r.gauges) {
		g := r.gauges[name]
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", name, r.help[name], name)
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
