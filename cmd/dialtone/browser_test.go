package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The web console's browser tests drive a real headless Chromium (chromedp speaks the
// DevTools protocol to it) against the whole binary's Main on port 0. They skip, saying
// so, only when no Chromium binary is found; .ci/run installs one.

// chromiumPath finds a Chromium: $DIALTONE_CHROMIUM, else the usual names on $PATH.
func chromiumPath() string {
	if p := os.Getenv("DIALTONE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one headless Chromium (one profile: its own cookies) on a running Main.
type browser struct {
	t    testing.TB
	e    *e2e
	base string // http://127.0.0.1:port (or https://…)
	ctx  context.Context

	mu   sync.Mutex
	logs []chromedp.ConsoleMessage // what the page wrote to its console, exceptions, the browser's log
}

// newBrowser starts Chromium for the console at base (e.url("") when empty), at 1280×900.
func newBrowser(t testing.TB, e *e2e, base string) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("no Chromium binary found (chromium, chromium-browser, google-chrome on $PATH, or $DIALTONE_CHROMIUM): " +
			"the console's browser tests need one; apt-get install chromium")
	}
	if base == "" {
		base = e.url("")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // tests run as root in CI containers
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("ignore-certificate-errors", true), // the private CA of a test's own data directory
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	b := &browser{t: t, e: e, base: base, ctx: ctx}
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens the tab
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.logs = append(b.logs, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// problems is what the page reported as errors or warnings, less the network's own lines
// (a 401 answer is an answer, not a fault of the page).
func (b *browser) problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.logs {
		if m.Source == "network" {
			continue
		}
		if m.IsException() || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
			out = append(out, m.Source+" "+m.String())
		}
	}
	return out
}

// do runs actions with a deadline, failing the test with what the page said on error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v (page said: %q; %s)", what, err, b.problems(), b.snapshot())
	}
}

// snapshot is the page's address and main element, for failure messages.
func (b *browser) snapshot() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + ' ' + document.getElementById('main').outerHTML.slice(0, 2000)`))
	if err != nil {
		return "no snapshot: " + err.Error()
	}
	return s
}

// runB runs one action that answers a value.
func runB[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v (page said: %q)", what, err, b.problems())
	}
	return v
}

// open loads the console at hash (e.g. "#/login") and waits until the view of
// wantRoute has rendered.
func (b *browser) open(hash, wantRoute string) {
	b.t.Helper()
	b.do("open "+hash, chromedp.Navigate(b.base+"/"+hash), b.waitRoute(wantRoute))
}

// waitRoute waits until the view of route has rendered (app.js sets main's data-route).
func (b *browser) waitRoute(route string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(`main[data-route="` + route + `"]`))
}

// waitText waits until the first node matching the CSS selector sel has text holding want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return waitJS(`(() => { const n = document.querySelector(` + jsString(sel) + `); return !!n && n.textContent.includes(` + jsString(want) + `); })()`)
}

// waitJS waits until the JavaScript expression js is true in the page.
func waitJS(js string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))(ctx, t)
		return chromedp.Void{}, err
	}
}

// login logs in through the login page and waits for the view it lands on.
func (b *browser) login(email, password, landsOn string) {
	b.t.Helper()
	b.open("#/login", "#/login")
	b.do("log in as "+email,
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
		b.waitRoute(landsOn))
}

// text is the text of the first visible node matching the CSS selector sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return strings.TrimSpace(runB(b, "text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible)))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	return runB(b, "evaluate "+js, chromedp.Evaluate[T](js))
}

// cookies are the browser's cookies for the console's origin.
func (b *browser) cookies() []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		b.t.Fatal(err)
	}
	return res.Cookies
}

// screenshot saves what the browser shows as {name}.png in $DIALTONE_SCREENSHOTS, when
// that is set (for the README's pictures: DIALTONE_SCREENSHOTS=$PWD/docs go test
// ./cmd/dialtone -run TestConsole); otherwise it does nothing.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("DIALTONE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := runB(b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// a11yJS lists the page's unlabelled fields and unnamed buttons and links.
const a11yJS = `(() => {
  const bad = [];
  const txt = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const byIds = (ids) => txt((ids || '').split(/\s+/).map((id) => { const n = id && document.getElementById(id); return n ? n.textContent : ''; }).join(' '));
  const desc = (el) => el.outerHTML.slice(0, 120);
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const named = [...(el.labels || [])].some((l) => txt(l.textContent)) || txt(el.getAttribute('aria-label')) ||
      byIds(el.getAttribute('aria-labelledby')) || txt(el.title);
    if (!named) bad.push('field without a label: ' + desc(el));
  }
  for (const el of document.querySelectorAll('button, a[href], [role="button"], [role="menuitem"], [role="tab"]')) {
    const named = txt(el.getAttribute('aria-label')) || byIds(el.getAttribute('aria-labelledby')) || txt(el.textContent) ||
      txt(el.title) || [...el.querySelectorAll('img[alt]')].some((i) => txt(i.alt));
    if (!named) bad.push('control without a name: ' + desc(el));
  }
  return bad;
})()`

// a11yCheck fails the test when the page now shown has a field without a label or a
// button or link without a name. Run it on every screen a test visits.
func (b *browser) a11yCheck(screen string) {
	b.t.Helper()
	for _, p := range eval[[]string](b, a11yJS) {
		b.t.Errorf("%s: %s", screen, p)
	}
}

// count counts the nodes matching the CSS selector sel now (no wait).
func (b *browser) count(sel string) int {
	b.t.Helper()
	return eval[int](b, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}
