package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/dialtone/dialtone/admin"
	"github.com/dialtone/dialtone/internal/crash"
	"github.com/dialtone/dialtone/internal/ratelimit"
)

// httpMount is one part of the HTTP space: it answers true when it handled the request.
type httpMount func(ctx *fasthttp.RequestCtx) (route string, handled bool)

// httpService serves /healthz, /readyz, /ca.pem, /metrics (with --metrics-token only),
// and the mounted packages on the HTTP listener and, when --https is set, on the HTTPS
// one (https.go).
func (m *Main) httpService(mounts []httpMount) service {
	m.handler = m.httpHandler(mounts)
	srv := &fasthttp.Server{
		Handler:                       m.handler,
		Name:                          "dialtone",
		ReadTimeout:                   30 * time.Second,
		WriteTimeout:                  10 * time.Minute, // firmware images are large
		IdleTimeout:                   2 * time.Minute,
		MaxRequestBodySize:            admin.MaxRequestBody + 1<<20, // firmware uploads; each route sets its own lower limit
		DisableHeaderNamesNormalizing: false,
		NoDefaultServerHeader:         false,
		Logger:                        fasthttpLogger{m.log.With("svc", "http")},
		StreamRequestBody:             true, // firmware uploads are copied to disk, not held in memory
		// A config of up to 8 KiB (rendered files are 1–3 KiB before an admin's raw
		// settings) goes out with its headers in one write(2): with fasthttp's default
		// 4 KiB a 4.3 KiB file took two, and cost a third of the throughput. The buffer
		// stays with a kept-alive connection: 8 KiB, not more, for that reason.
		WriteBufferSize: 8 << 10,
	}
	return service{name: "http", serve: func(ctx context.Context) error {
		// Each source holds at most --http-conns-per-source connections (trusted
		// proxies carry many clients and are exempt); the cap wraps the TCP
		// connections, under TLS on the HTTPS listener.
		wrap := func(ln net.Listener) net.Listener {
			return hook(m.hooks().httpListener, ratelimit.Listener(ln,
				capOrNone(m.cfg.HTTPConnsPerSource, defaultHTTPConnsPerSource), m.trustedProxyTest(), m.refusedCounter("http")))
		}
		serves := []func() error{func() error { return srv.Serve(wrap(m.httpLn)) }}
		if m.httpsLn != nil {
			// The same server and handler over TLS (https.go).
			serves = append(serves, func() error { return srv.Serve(m.httpsListener(wrap(m.httpsLn))) })
		}
		return m.serveUntil(ctx, "http", srv.ShutdownWithContext, serves...)
	}}
}

// serveUntil runs a server's Serve loops (one per listener) until ctx ends or one of them
// fails, then shuts the server down, waiting drainTimeout at most for requests in
// flight. It answers the failure, nil after a stop.
func (m *Main) serveUntil(ctx context.Context, name string, shutdown func(context.Context) error, serves ...func() error) error {
	errc := make(chan error, len(serves)) // every loop can answer without a reader
	for _, serve := range serves {
		go func() { errc <- serve() }()
	}
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	defer cancel()
	if serr := shutdown(sctx); serr != nil {
		m.log.Warn(name+" drain cut short", "err", serr)
	}
	return err
}

// httpHandler answers one request of the HTTP or HTTPS listener and counts it by route
// template (never the raw path).
func (m *Main) httpHandler(mounts []httpMount) fasthttp.RequestHandler {
	requests := m.metrics.Requests("dialtone_http", "HTTP requests", "route", "code")
	log := m.log.With("svc", "http")
	// The registry's own handler under fasthttp: one exposition path for both listeners.
	m.metricsFast = fasthttpadaptor.NewFastHTTPHandler(m.metrics.Handler())
	return func(ctx *fasthttp.RequestCtx) {
		route := "other"
		defer crash.RecoverWith(log, "http", "request", func() {
			answerPanic(ctx)
			requests.Count(route, statusText(ctx.Response.StatusCode()))
		})
		route = m.routeHTTP(ctx, mounts)
		// ctx.Time: when fasthttp began the request.
		requests.Observe(route, statusText(ctx.Response.StatusCode()), time.Since(ctx.Time()))
	}
}

func (m *Main) routeHTTP(ctx *fasthttp.RequestCtx, mounts []httpMount) string {
	path := ctx.URI().PathOriginal() // exact names: no normalising for fixed paths
	switch {
	case bytes.Equal(path, []byte("/healthz")):
		writeHealth(ctx, m.alive())
		return "/healthz"
	case bytes.Equal(path, []byte("/readyz")):
		writeHealth(ctx, m.ready(ctx))
		return "/readyz"
	case bytes.Equal(path, []byte("/ca.pem")):
		m.serveCA(ctx)
		return "/ca.pem"
	}
	if m.secureOrRedirect(ctx) {
		return "redirect"
	}
	if bytes.Equal(path, []byte("/metrics")) && m.cfg.MetricsToken != "" {
		m.serveMetricsWithToken(ctx)
		return "/metrics"
	}
	for _, mount := range mounts {
		if route, ok := mount(ctx); ok {
			return route
		}
	}
	ctx.SetContentType("application/json")
	ctx.SetStatusCode(fasthttp.StatusNotFound)
	ctx.SetBodyString(`{"error":{"code":"not_found","message":"no such path"}}`)
	return "other"
}

// answerPanic answers a request whose handler panicked: a 500 in the API's error shape,
// whatever the handler had begun to write (headers, body or a body stream) discarded,
// and the connection closed after it.
func answerPanic(ctx *fasthttp.RequestCtx) {
	ctx.Response.Reset()
	ctx.SetConnectionClose()
	ctx.SetContentType("application/json")
	ctx.SetStatusCode(fasthttp.StatusInternalServerError)
	ctx.SetBodyString(`{"error":{"code":"internal","message":"internal error"}}`)
}

// statusCodes are the status codes as label values, made once.
var statusCodes = func() (t [600]string) {
	for c := 100; c < len(t); c++ {
		t[c] = strconv.Itoa(c)
	}
	return t
}()

func statusText(code int) string {
	if code >= 100 && code < len(statusCodes) {
		return statusCodes[code]
	}
	return strconv.Itoa(code)
}

type fasthttpLogger struct {
	l interface{ Warn(string, ...any) }
}

func (f fasthttpLogger) Printf(format string, args ...any) {
	f.l.Warn(strings.TrimSpace(fmt.Sprintf(format, args...)))
}
