package provision

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkHTTPCachedConfig is the hot path: a phone fetching its config a
// second time, through the fasthttp handler (no socket).
func BenchmarkHTTPCachedConfig(b *testing.B) {
	e := newEnv(b)
	uri := "/p/" + e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, nil)
	ctx.Request.SetRequestURI(uri)
	ctx.Request.Header.SetUserAgent(yealinkUA)
	e.p.HTTPHandler(&ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx.Response.Reset()
		if !e.p.HTTPHandler(&ctx) || ctx.Response.StatusCode() != 200 {
			b.Fatal(ctx.Response.StatusCode())
		}
	}
}
