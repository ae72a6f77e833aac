package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"io/fs"
	"mime"
	"path"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"
)

//go:embed web
var web embed.FS

// CSP is the console's Content-Security-Policy: its own origin only, no inline script
// or style, no framing (W3C CSP Level 3).
const CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// file is one embedded file, ready to send.
type file struct {
	ctype string
	etag  string // strong, of the identity body
	body  []byte
	gz    []byte // nil when gzip does not make it smaller
}

// Console serves the embedded console.
type Console struct {
	files map[string]*file // by URL path
}

// New reads and compresses the embedded files.
func New() (*Console, error) {
	c := &Console{files: map[string]*file{}}
	err := fs.WalkDir(web, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := web.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := newFile(p, body)
		if err != nil {
			return err
		}
		url := strings.TrimPrefix(p, "web")
		if url == "/index.html" {
			url = "/"
		}
		c.files[url] = f
		return nil
	})
	return c, err
}

func newFile(name string, body []byte) (*file, error) {
	sum := sha256.Sum256(body)
	f := &file{body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	f.ctype = mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) { // not left to the system's MIME table
	case ".js":
		f.ctype = "text/javascript; charset=utf-8"
	case ".json":
		f.ctype = "application/json"
	case ".css":
		f.ctype = "text/css; charset=utf-8"
	case ".html":
		f.ctype = "text/html; charset=utf-8"
	case ".svg":
		f.ctype = "image/svg+xml"
	}
	if f.ctype == "" {
		f.ctype = "application/octet-stream"
	}
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if b.Len() < len(body) {
		f.gz = b.Bytes()
	}
	return f, nil
}

// Paths lists the URL paths the console serves (tests sum the first load from it).
func (c *Console) Paths() []string {
	out := make([]string, 0, len(c.files))
	for p := range c.files {
		out = append(out, p)
	}
	return out
}

// Mount answers the console's paths and reports whether it did; cmd/dialtone mounts it
// after the API.
func (c *Console) Mount(ctx *fasthttp.RequestCtx) (route string, handled bool) {
	path := string(ctx.Path())
	if path == SetPasswordPath {
		c.serve(ctx, c.files["/"])
		return SetPasswordPath, true
	}
	f, ok := c.files[path]
	if !ok {
		return "", false
	}
	c.serve(ctx, f)
	return "/console", true
}

// SetPasswordPath is where welcome and reset mails link to
// ({base-url}/set-password?token=…): the console's page that sets the password with
// POST /api/v1/auth/set-password.
const SetPasswordPath = "/set-password"

// SetHeaders sets the security headers every console answer carries.
func SetHeaders(h *fasthttp.ResponseHeader) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

func (c *Console) serve(ctx *fasthttp.RequestCtx, f *file) {
	h := &ctx.Response.Header
	SetHeaders(h)
	if !ctx.IsGet() && !ctx.IsHead() {
		h.Set("Allow", "GET, HEAD")
		ctx.SetContentType("application/json")
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		ctx.SetBodyString(`{"error":{"code":"method_not_allowed","message":"method not allowed; allowed: GET, HEAD"}}`)
		return
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	h.Set("ETag", f.etag)
	if etagMatch(ctx.Request.Header.Peek("If-None-Match"), f.etag) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	h.SetContentType(f.ctype)
	body := f.body
	if f.gz != nil && acceptsGzip(ctx.Request.Header.Peek("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	if ctx.IsHead() {
		h.SetContentLength(len(body))
		ctx.Response.SkipBody = true
		return
	}
	ctx.SetBody(body)
}

// etagMatch: If-None-Match holds tag or * (RFC 9110 section 13.1.2, weak comparison).
func etagMatch(inm []byte, tag string) bool {
	for _, t := range strings.Split(string(inm), ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding (RFC 9110 section 12.5.3): gzip (or x-gzip, or *)
// listed with a non-zero weight.
func acceptsGzip(ae []byte) bool {
	for _, part := range strings.Split(string(ae), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
