package provision

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/dialtone/dialtone/internal/clientip"
	"github.com/dialtone/dialtone/store"
)

// HTTPHandler serves /p/{token}/{file}, /p/{token}/fw/{file} (Range requests,
// zero-copy from disk), /p/{token}/directory/{mac}/{vendor}.xml (a known phone's
// phonebook) and /p/{token}/directory/{vendor}.xml (with the phonebook account). It returns false,
// writing nothing, when the path is not under /p/, so cmd/dialtone can mount it
// beside the admin API on one listener.
func (p *Provisioner) HTTPHandler(ctx *fasthttp.RequestCtx) bool {
	raw := ctx.URI().PathOriginal()
	if !bytes.HasPrefix(raw, []byte("/p/")) {
		return false
	}
	if !ctx.IsGet() && !ctx.IsHead() {
		// Poly PUTs its logs and overrides: refused, nothing stored.
		ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
		ctx.Response.Header.Set("Allow", "GET, HEAD")
		return true
	}
	token, rest, ok := splitProvPath(string(raw[3:]))
	if !ok {
		ctx.Error("not found", fasthttp.StatusNotFound)
		return true
	}
	proto := "http"
	if ctx.IsTLS() {
		proto = "https"
	}
	r := fetchRequest{Token: token, Path: rest, UA: string(ctx.UserAgent()), Addr: clientip.Of(ctx, p.cfg.TrustedProxies), Proto: proto,
		Auth: string(ctx.Request.Header.Peek("Authorization")), Method: fasthttp.MethodGet}
	if ctx.IsHead() {
		r.Method = fasthttp.MethodHead
	}
	if r.Auth != "" { // the request URI is checked only against a Digest answer's uri
		r.URI = string(ctx.RequestURI())
	}
	if cs := ctx.TLSConnectionState(); cs != nil {
		r.Peer = cs.PeerCertificates // the device certificate, when the phone sent one
	}
	res := p.fetch(r)
	switch res.Status {
	case 200:
	case 401:
		ctx.Error("unauthorized", fasthttp.StatusUnauthorized)
		for _, c := range res.Challenge {
			ctx.Response.Header.Add("WWW-Authenticate", c)
		}
		return true
	case 403:
		if res.Message != "" {
			ctx.Error(res.Message+"\n", fasthttp.StatusForbidden)
			return true
		}
		// RFC 9110 section 15.5.4: the server understood and refuses; the body says where.
		msg := httpsOnlyMessage
		if p.cfg.SecureBaseURL != "" {
			msg += ": " + p.cfg.SecureBaseURL + "/p/" + token + "/" + rest
		}
		ctx.Error(msg+"\n", fasthttp.StatusForbidden)
		return true
	case 429:
		ctx.Error("too many requests", fasthttp.StatusTooManyRequests)
		ctx.Response.Header.Set("Retry-After", strconv.Itoa(int(scanBlock/time.Second)))
		return true
	case 500:
		ctx.Error("internal error", fasthttp.StatusInternalServerError)
		return true
	default:
		ctx.Error("not found", fasthttp.StatusNotFound)
		return true
	}
	if res.FilePath != "" {
		p.serveFirmware(ctx, res.FilePath)
		return true
	}
	ctx.SetContentType(res.ContentType)
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.SetBodyRaw(res.Body) // cached bodies are never modified: no copy
	return true
}

// splitProvPath splits "{token}/{rest}" and refuses anything that is not one of
// the served shapes: percent-escapes, "..", empty parts, deeper paths (the
// token's and file name's character sets leave none of them through).
func splitProvPath(s string) (token, rest string, ok bool) {
	token, rest, ok = strings.Cut(s, "/")
	if !ok || !safeToken(token, 128) || rest == "" {
		return "", "", false
	}
	dir, file, nested := strings.Cut(rest, "/")
	if nested {
		if dir == "directory" {
			// directory/{mac}/{vendor}.xml: a phone's phonebook
			if mac, f, ok := strings.Cut(file, "/"); ok {
				if m, valid := store.NormalizeMAC(mac); !valid || m != mac {
					return "", "", false
				}
				file = f
			}
		}
		if (dir != "fw" && dir != "directory") || strings.Contains(file, "/") || !safeFileName(file) {
			return "", "", false
		}
	} else if !safeFileName(rest) {
		return "", "", false
	}
	return token, rest, true
}

const fwPathKey = "dialtone.fwpath"

// serveFirmware hands the file to fasthttp's file server: Range requests
// (RFC 9110 §14), conditional requests, and sendfile for the body.
func (p *Provisioner) serveFirmware(ctx *fasthttp.RequestCtx, path string) {
	rel, err := filepath.Rel(filepath.Join(p.cfg.DataDir, "firmware"), path)
	if err != nil || strings.HasPrefix(rel, "..") {
		ctx.Error("not found", fasthttp.StatusNotFound)
		return
	}
	ctx.SetUserValue(fwPathKey, "/"+filepath.ToSlash(rel))
	p.firmwareHandler()(ctx)
}

func (p *Provisioner) firmwareHandler() fasthttp.RequestHandler {
	p.fwOnce.Do(func() {
		fs := &fasthttp.FS{
			Root:            filepath.Join(p.cfg.DataDir, "firmware"),
			AcceptByteRange: true,
			Compress:        false,
			CacheDuration:   5 * time.Second,
			PathRewrite: func(ctx *fasthttp.RequestCtx) []byte {
				s, _ := ctx.UserValue(fwPathKey).(string)
				return []byte(s)
			},
			PathNotFound: func(ctx *fasthttp.RequestCtx) { ctx.Error("not found", fasthttp.StatusNotFound) },
		}
		p.fwHandler = fs.NewRequestHandler()
	})
	return p.fwHandler
}

// ServeHTTP serves only the provisioning paths on ln until ctx is cancelled
// (tests, or a dedicated listener); cmd/dialtone normally mounts HTTPHandler.
func (p *Provisioner) ServeHTTP(ctx context.Context, ln net.Listener) error {
	srv := &fasthttp.Server{
		Handler: func(c *fasthttp.RequestCtx) {
			if !p.HTTPHandler(c) {
				c.Error("not found", fasthttp.StatusNotFound)
			}
		},
		Name:               "dialtone",
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       10 * time.Minute,
		IdleTimeout:        2 * time.Minute,
		MaxRequestBodySize: 64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.ShutdownWithContext(sctx)
		return nil
	case err := <-errc:
		return err
	}
}
