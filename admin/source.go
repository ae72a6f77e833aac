package admin

import (
	"github.com/valyala/fasthttp"

	"github.com/dialtone/dialtone/internal/clientip"
)

// source is the client's address as audited and throttled (clientip.Of).
func (a *API) source(ctx *fasthttp.RequestCtx) string {
	if ip := clientip.Of(ctx, a.cfg.TrustedProxies); ip.IsValid() {
		return ip.String()
	}
	return ctx.RemoteAddr().String()
}
