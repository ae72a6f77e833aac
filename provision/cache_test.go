package provision

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
)

// serve runs a second provisioner over e's store with cfg on its own HTTP listener
// and answers its base URL for acme's files.
func (e *env) serve(t *testing.T, cfg Config) (*Provisioner, string) {
	t.Helper()
	cfg.Store, cfg.PublicHost, cfg.LogEvery = e.st, "pbx.example", 50*time.Millisecond
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.ServeHTTP(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; p.Close() })
	return p, "http://" + ln.Addr().String() + "/p/" + e.tenant.ProvisioningToken + "/"
}

// A flood of fetches with made-up User-Agents (random text, a known make with a
// made-up model, the phone's own model with every firmware version) meets one cache
// entry per file and detected make and model; it does not add one per User-Agent.
func TestRenderCacheNotKeyedByUserAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	files := []string{yealinkMAC + ".cfg", "y000000000108.cfg", "y000000000000.cfg"}
	want := map[string]string{}
	for _, f := range files {
		code, body, _ := get(t, base+f, yealinkUA)
		if code != 200 {
			t.Fatalf("%s: %d", f, code)
		}
		want[f] = body
	}
	if n := e.p.cache.len(); n != len(files) {
		t.Fatalf("%d entries after the phone's own fetches, want %d", n, len(files))
	}
	uas := []string{"Mozilla/5.0 (X11; rnd %d)", "Yealink SIP-Z%dQ 108.86.0.20", "Yealink SIP-T46U 108.86.0.%d", "%d"}
	for i := range 200 {
		f := files[i%len(files)]
		ua := fmt.Sprintf(uas[i%len(uas)], i)
		code, body, _ := get(t, base+f, ua)
		if code != 200 {
			t.Fatalf("%s with %q: %d", f, ua, code)
		}
		if f == yealinkMAC+".cfg" && body != want[f] {
			t.Fatalf("the phone's file changed with User-Agent %q", ua)
		}
	}
	if n := e.p.cache.len(); n > len(files)+1 { // y000000000000.cfg: one more for the make without a model
		t.Fatalf("%d cache entries after 200 fetches with made-up User-Agents, want at most %d", n, len(files)+1)
	}
}

// Raw settings make files large; the cache keeps to its byte cap, dropping the least
// recently used file, and a file over the cap is served but not kept.
func TestRenderCacheByteCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	big, bigger := map[string]string{}, map[string]string{} // a stored record is at most 64 KiB
	for i := range 55 {
		big[fmt.Sprintf("custom.key%03d", i)] = strings.Repeat("v", 1000)
		bigger[fmt.Sprintf("custom.model%03d", i)] = strings.Repeat("m", 1000)
	}
	macs := make([]string, 8)
	err := e.st.Update(func(tx *store.Tx) error {
		prev, _ := tx.Tenant("acme")
		next := prev
		next.Settings = map[string]map[string]string{"yealink": big}
		if err := tx.SaveTenant(prev, next); err != nil {
			return err
		}
		if err := tx.SaveModelProfile(store.ModelProfile{Tenant: "acme", Make: "yealink", Model: "T46U", Settings: bigger}); err != nil {
			return err
		}
		for i := range macs {
			macs[i] = fmt.Sprintf("805ec0%06x", 0x100+i)
			if _, err := tx.CreatePhone(store.Phone{MAC: macs[i], Tenant: "acme", Model: "T46U"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const capBytes = 400 << 10 // three files fit, not four
	p, base := e.serve(t, Config{RenderCacheBytes: capBytes})
	cached := func(mac string) bool {
		p.cache.mu.Lock()
		defer p.cache.mu.Unlock()
		for _, en := range p.cache.m {
			if en.mac == mac {
				return true
			}
		}
		return false
	}
	held := func() (n int64) {
		p.cache.mu.Lock()
		defer p.cache.mu.Unlock()
		for _, en := range p.cache.m {
			n += int64(len(en.body))
		}
		return n
	}
	fetch := func(mac string) {
		code, body, _ := get(t, base+mac+".cfg", "Yealink SIP-T46U 108.86.0.20")
		if code != 200 || len(body) < 110*1000 {
			t.Fatalf("%s: %d, %d bytes", mac, code, len(body))
		}
	}
	fetch(macs[0])
	fetch(macs[1])
	fetch(macs[0]) // now more recent than macs[1]
	for _, mac := range macs[2:] {
		fetch(mac)
		if n, counted := held(), p.cache.size(); n > capBytes || counted > capBytes || counted < n {
			t.Fatalf("cache holds %d bytes of files (counted %d), cap %d", n, counted, capBytes)
		}
		if mac == macs[3] && (cached(macs[1]) || !cached(macs[0])) {
			t.Errorf("the fourth file did not push out the least recently used one: %s %v, %s %v",
				macs[0], cached(macs[0]), macs[1], cached(macs[1]))
		}
	}
	if !cached(macs[len(macs)-1]) {
		t.Error("the latest file is not cached")
	}

	p2, base2 := e.serve(t, Config{RenderCacheBytes: 100 << 10})
	if code, _, _ := get(t, base2+macs[0]+".cfg", yealinkUA); code != 200 {
		t.Fatalf("a file over the cap: %d", code)
	}
	if n := p2.cache.len(); n != 0 {
		t.Errorf("a file over the cap was kept (%d entries)", n)
	}
}

// A file name can carry a model (snom{model}.htm); made-up models each cost a lookup
// but do not grow the parsed templates kept without bound.
func TestMadeUpModelsDoNotGrowParsedTemplates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	for i := range maxParsedTemplates + 100 {
		if code, _, _ := get(t, base+fmt.Sprintf("snomX%05d.htm", i), ""); code != 200 {
			t.Fatalf("snomX%05d.htm: %d", i, code)
		}
	}
	e.p.renderer.mu.RLock()
	n := len(e.p.renderer.parsed)
	e.p.renderer.mu.RUnlock()
	if n > maxParsedTemplates {
		t.Fatalf("%d parsed templates kept, bound %d", n, maxParsedTemplates)
	}
}
