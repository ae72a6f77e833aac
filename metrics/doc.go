// Package metrics is a small registry of counters, gauges and latency histograms written
// out in the Prometheus text exposition format (version 0.0.4) at /metrics.
//
// It owns nothing else: each service registers what it counts. CounterFunc exposes a
// counter kept by a package with no registry (internal/crash's panics). A hand-written registry
// keeps the binary free of a client library for the handful of series Dialtone exposes.
package metrics
