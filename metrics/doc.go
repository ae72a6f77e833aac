// Package metrics is Dialtone's one metrics path: a thin layer over a
// prometheus/client_golang Registry, with the Go runtime and process collectors in it,
// served in the Prometheus exposition format by client_golang's own handler (Handler).
//
// Counter and Histogram give client_golang's vectors; a hot path resolves each series
// once (WithLabelValues) and keeps the Counter. Requests does that for request counts by
// route and result with their latency: a request whose series exist takes two read locks
// and no allocation (BenchmarkConfigFetch in cmd/dialtone measures the phones' config
// fetch through it). Route and result label values past a bound count as "other", since
// they come from requests; callers pass templates, never raw paths. Every histogram has
// LatencyBuckets (six, 1 ms to 2.5 s).
//
// Gauge and CounterFunc read state or counts kept elsewhere when /metrics is scraped
// (registrations per tenant, queue depth, internal/crash's panics): protocol packages
// keep plain counters and import no metrics library, and state is never mirrored in a
// counter that could drift from it.
//
// cmd/dialtone registers the series (wire_metrics.go) and serves /metrics on
// --metrics-addr, or with --metrics-token on the HTTP listeners; the README's Operations
// section lists them, docs/ops holds a Grafana dashboard and alert rules over them.
package metrics
