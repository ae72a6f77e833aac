package main

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkConfigFetch is the phones' hot path through the whole HTTP handler (routing,
// provisioning, metrics), without a socket: a phone fetching its config again.
func BenchmarkConfigFetch(b *testing.B) {
	e := startMainOn(b, b.TempDir(), nil)
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "80:5E:C0:AA:BB:CC", "model": "T46U"}, 201, nil)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
	ctx.Request.SetRequestURI("/p/" + tenant.ProvisioningToken + "/805ec0aabbcc.cfg")
	ctx.Request.Header.SetUserAgent(yealinkUA)
	e.m.handler(&ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ctx.Response.Reset()
		e.m.handler(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatal(ctx.Response.StatusCode(), string(ctx.Response.Body()))
		}
	}
}
