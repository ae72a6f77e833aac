package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// health is what /healthz and /readyz answer: 200 {"status":"ok"}, or 503
// {"status":"fail","checks":{…}} naming each check that failed and why.
type health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// alive is /healthz: the process answers. It asks nothing else, so a slow store never
// gets a live process restarted.
func (m *Main) alive() health { return health{Status: "ok"} }

// storeProbeTimeout bounds /readyz's write to the store.
const storeProbeTimeout = 2 * time.Second

// ready is /readyz: the store takes a write, every service is serving on its bound
// listener, and the LDAP directory is loaded.
func (m *Main) ready(ctx context.Context) health {
	checks := map[string]string{}
	if err := m.probe.run(ctx, m.store); err != nil {
		checks["store"] = err.Error()
	}
	if down := m.notServing(); len(down) > 0 {
		checks["listeners"] = "not serving: " + strings.Join(down, ", ")
	}
	if m.follower != nil && !m.follower.Loaded() {
		checks["ldap"] = "loading"
	}
	if len(checks) > 0 {
		return health{Status: "fail", Checks: checks}
	}
	return health{Status: "ok"}
}

func writeHealth(ctx *fasthttp.RequestCtx, h health) {
	b, _ := json.Marshal(h)
	ctx.SetContentType("application/json")
	ctx.Response.Header.Set("Cache-Control", "no-store")
	if h.Status != "ok" {
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
	}
	ctx.SetBody(append(b, '\n'))
}

// storeProber runs one store write at a time for /readyz: a probe still waiting on a
// stuck store is reported, not joined by another one per request.
type storeProber struct {
	mu      sync.Mutex
	pending chan error // the running probe's answer; nil when none runs
}

// prober is what the probe writes to (store.Store.Probe).
type prober interface{ Probe() error }

func (p *storeProber) run(ctx context.Context, st prober) error {
	if st == nil {
		return errors.New("not open")
	}
	p.mu.Lock()
	ch := p.pending
	if ch == nil {
		ch = make(chan error, 1)
		p.pending = ch
		go func() {
			err := st.Probe()
			p.mu.Lock()
			p.pending = nil
			p.mu.Unlock()
			ch <- err
		}()
	}
	p.mu.Unlock()
	timer := time.NewTimer(storeProbeTimeout)
	defer timer.Stop()
	select {
	case err := <-ch:
		ch <- err // another waiter on the same probe reads it too
		return err
	case <-timer.C:
		return errors.New("write did not finish in " + storeProbeTimeout.String())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// serving notes which services are serving; Run sets and clears it.
type serving struct {
	mu sync.Mutex
	up map[string]bool
}

func (s *serving) set(name string, up bool) {
	s.mu.Lock()
	if s.up == nil {
		s.up = map[string]bool{}
	}
	s.up[name] = up
	s.mu.Unlock()
}

// notServing names the services that are not (or no longer) serving.
func (m *Main) notServing() []string {
	m.serving.mu.Lock()
	defer m.serving.mu.Unlock()
	var down []string
	for _, s := range m.services {
		if !m.serving.up[s.name] {
			down = append(down, s.name)
		}
	}
	sort.Strings(down)
	return down
}

// serveMetricsWithToken answers /metrics on the phones' listeners, only to a request with
// Authorization: Bearer {--metrics-token}.
func (m *Main) serveMetricsWithToken(ctx *fasthttp.RequestCtx) {
	got, ok := strings.CutPrefix(string(ctx.Request.Header.Peek("Authorization")), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(m.cfg.MetricsToken)) != 1 {
		ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="metrics"`)
		ctx.SetContentType("application/json")
		ctx.SetStatusCode(fasthttp.StatusUnauthorized)
		ctx.SetBodyString(`{"error":{"code":"unauthorized","message":"/metrics needs Authorization: Bearer and the --metrics-token"}}`)
		return
	}
	m.metricsFast(ctx)
}

// metricsService serves /metrics, /healthz and /readyz on --metrics-addr (net/http: a
// scraper's few requests a minute).
func (m *Main) metricsService() service {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.metrics.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeHealthHTTP(w, m.alive()) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) { writeHealthHTTP(w, m.ready(r.Context())) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
	return service{name: "metrics", serve: func(ctx context.Context) error {
		return m.serveUntil(ctx, "metrics", srv.Shutdown, func() error { return srv.Serve(m.metricsLn) })
	}}
}

func writeHealthHTTP(w http.ResponseWriter, h health) {
	b, _ := json.Marshal(h)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if h.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	w.Write(append(b, '\n'))
}

// bindMetrics binds --metrics-addr (” disables it).
func (m *Main) bindMetrics() (err error) {
	if m.cfg.MetricsAddr == "" {
		return nil
	}
	if m.metricsLn, err = net.Listen("tcp", m.cfg.MetricsAddr); err != nil {
		return err
	}
	m.noteAddr("metrics", m.metricsLn.Addr())
	return nil
}
