package provision

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dialtone/dialtone/store"
)

func get(t *testing.T, url, ua string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestHTTPKnownPhoneGetsItsLines(t *testing.T) {
	e := newEnv(t)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	code, body, _ := get(t, base+yealinkMAC+".cfg", yealinkUA)
	if code != 200 {
		t.Fatalf("status %d: %s", code, body)
	}
	kv, err := parseYealink([]byte(body))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	ext, _ := e.st.Extension("acme", "201")
	pw, _ := e.st.SIPPassword(ext)
	pb, _ := e.st.PhonebookPassword(e.tenant)
	for k, v := range map[string]string{
		"account.1.user_name": "201", "account.1.auth_name": ext.SIPUsername, "account.1.password": pw,
		"account.2.user_name": "202", "account.1.display_name": "Anna Smit", "account.1.sip_server.1.address": "acme.example",
		"account.1.outbound_proxy.1.address": "pbx.example", "lang.gui": "Dutch", "local_time.time_zone": "+1",
		"ldap.password": pb, "ldap.user": "cn=phonebook,o=acme,dc=dialtone",
		"remote_phonebook.data.1.url": base + "directory/" + yealinkMAC + "/yealink.xml", "auto_provision.server.url": base,
	} {
		if kv[k] != v {
			t.Errorf("%s = %q, want %q", k, kv[k], v)
		}
	}
	e.flushed(t, func(tx *store.Tx) bool {
		p, _ := tx.Phone(yealinkMAC)
		log, _ := tx.ProvisionLog("acme", 0, 10)
		return p.Firmware == "108.86.0.20" && p.UserAgent == yealinkUA && p.LastAddr == "127.0.0.1" && len(log) == 1 && log[0].File == yealinkMAC+".cfg"
	})
}

func TestHTTPCommonFilesCarryNoSecrets(t *testing.T) {
	e := newEnv(t)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	pb, _ := e.st.PhonebookPassword(e.tenant)
	for _, f := range []struct{ file, ua string }{
		{"y000000000000.boot", yealinkUA}, {"y000000000108.cfg", yealinkUA}, {"000000000000.cfg", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018"},
		{"common.cfg", ""}, {"snomD785.htm", ""}, {"cp-8841-3pcc.xml", ""}, {"cfg.xml", ""}, {"F0V00X4U0000.cfg", ""},
	} {
		code, body, _ := get(t, base+f.file, f.ua)
		if code != 200 {
			t.Errorf("%s: %d", f.file, code)
			continue
		}
		if strings.Contains(body, pb) || strings.Contains(body, "password = ") && strings.Contains(f.file, "y0") {
			t.Errorf("%s carries a secret:\n%s", f.file, body)
		}
	}
}

func TestHTTPUnknownMACDiscoveredNoSecrets(t *testing.T) {
	e := newEnv(t)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	code, _, _ := get(t, base+"0004f2112233-user.cfg", "FileTransport PolycomVVX-VVX_450-UA/6.4.3.5018")
	if code != 404 {
		t.Fatalf("unknown MAC: %d", code)
	}
	e.flushed(t, func(tx *store.Tx) bool {
		ds, _ := tx.DiscoveredPhones("acme", "", 0)
		return len(ds) == 1 && ds[0].MAC == "0004f2112233" && ds[0].Make == "poly" && ds[0].Model == "VVX450" && ds[0].Firmware == "6.4.3.5018"
	})
	// Bad input: 404 and nothing recorded.
	for _, path := range []string{"p/" + e.tenant.ProvisioningToken + "/805ec0aabbc.cfg", "p/wrongtoken/" + yealinkMAC + ".cfg",
		"p/" + e.tenant.ProvisioningToken + "/../etc/passwd", "p/" + e.tenant.ProvisioningToken + "/%2e%2e/x.cfg",
		"p/" + e.tenant.ProvisioningToken + "/a/b/c.cfg", "p/" + e.tenant.ProvisioningToken + "/fw/nothere.rom"} {
		if code, _, _ := get(t, e.httpURL+"/"+path, ""); code != 404 {
			t.Errorf("%s: %d", path, code)
		}
	}
	// Another tenant's token never reaches this tenant's phone.
	var other store.Tenant
	e.st.Update(func(tx *store.Tx) error { other, _ = tx.CreateTenant(store.NewTenant{Slug: "other"}); return nil })
	if code, _, _ := get(t, e.httpURL+"/p/"+other.ProvisioningToken+"/"+yealinkMAC+".cfg", yealinkUA); code != 404 {
		t.Errorf("other tenant's token served the phone: %d", code)
	}
}

func TestHTTPScanThrottled(t *testing.T) {
	e := newEnv(t)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	for i := 0; i < scanLimit+5; i++ {
		code, _, _ := get(t, base+hex12(i)+".cfg", "")
		if want := map[bool]int{true: 404, false: 429}[i < scanLimit]; code != want {
			t.Fatalf("unknown MAC %d: %d, want %d", i, code, want)
		}
	}
	code, _, h := get(t, base+yealinkMAC+".cfg", yealinkUA)
	if code != 429 || h.Get("Retry-After") == "" {
		t.Fatalf("scanner's address not blocked: %d", code)
	}
	e.flushed(t, func(tx *store.Tx) bool {
		ds, _ := tx.DiscoveredPhones("acme", "", 0)
		return len(ds) == scanLimit
	})
	var n int
	e.st.View(func(tx *store.Tx) error { n, _ = tx.CountDiscovered("acme"); return nil })
	if n > scanLimit {
		t.Fatalf("scan grew the discovered list to %d", n)
	}
}

// An IPv6 host is handed a whole /64: a scan that takes a fresh address of it for
// every MAC is one source, blocked like one address, while another /64 is served.
func TestHTTPScanThrottledByIPv6Prefix(t *testing.T) {
	e := newEnv(t)
	e.p.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	for i := 0; i < scanLimit+2; i++ {
		from := fmt.Sprintf("2001:db8:1:2::%x", i+1)
		code, _, _ := get(t, base+hex12(i)+".cfg", "", "X-Forwarded-For", from)
		if want := map[bool]int{true: 404, false: 429}[i < scanLimit]; code != want {
			t.Fatalf("unknown MAC %d from %s: %d, want %d", i, from, code, want)
		}
	}
	if code, _, _ := get(t, base+yealinkMAC+".cfg", yealinkUA, "X-Forwarded-For", "2001:db8:1:2:ffff::1"); code != 429 {
		t.Fatalf("another address of the scanning /64: %d, want 429", code)
	}
	if code, _, _ := get(t, base+yealinkMAC+".cfg", yealinkUA, "X-Forwarded-For", "2001:db8:1:3::1"); code != 200 {
		t.Fatalf("another /64: %d, want 200", code)
	}
}

func hex12(i int) string {
	const digits = "0123456789abcdef"
	b := []byte("805ec0aa0000")
	b[10], b[11] = digits[i/16%16], digits[i%16]
	return string(b)
}

func TestHTTPChangeShowsInNextFetch(t *testing.T) {
	e := newEnv(t)
	url := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	_, first, _ := get(t, url, yealinkUA)
	if _, again, _ := get(t, url, yealinkUA); again != first {
		t.Fatal("cached file differs")
	}
	if e.p.cache.len() == 0 {
		t.Fatal("render not cached")
	}
	err := e.st.Update(func(tx *store.Tx) error {
		u, err := tx.User("acme", e.user.ID)
		if err != nil {
			return err
		}
		next := u
		next.FirstName, next.Language = "Berta", "fr"
		return tx.SaveUser(u, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ := get(t, url, yealinkUA)
	kv, _ := parseYealink([]byte(body))
	if kv["account.1.display_name"] != "Berta Smit" || kv["lang.gui"] != "French" {
		t.Fatalf("change not in next fetch: %q %q", kv["account.1.display_name"], kv["lang.gui"])
	}
	// A phone setting and a tenant setting, most specific wins.
	err = e.st.Update(func(tx *store.Tx) error {
		tn, _ := tx.Tenant("acme")
		next := tn
		next.Settings = map[string]map[string]string{"yealink": {"x.level": "tenant", "y.level": "tenant"}}
		if err := tx.SaveTenant(tn, next); err != nil {
			return err
		}
		ph, _ := tx.Phone(yealinkMAC)
		nph := ph
		nph.Settings = map[string]string{"x.level": "phone"}
		return tx.SavePhone(ph, nph)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, body, _ = get(t, url, yealinkUA)
	kv, _ = parseYealink([]byte(body))
	if kv["x.level"] != "phone" || kv["y.level"] != "tenant" {
		t.Fatalf("settings: %q %q", kv["x.level"], kv["y.level"])
	}
}

func TestHTTPFirmwareRange(t *testing.T) {
	e := newEnv(t)
	data := bytes.Repeat([]byte("0123456789"), 100000)
	e.addFirmware(t, "T46U-108.86.0.30.rom", data)
	base := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/"
	_, cfg, _ := get(t, base+yealinkMAC+".cfg", yealinkUA)
	kv, _ := parseYealink([]byte(cfg))
	if kv["static.firmware.url"] != base+"fw/T46U-108.86.0.30.rom" {
		t.Fatalf("firmware url %q", kv["static.firmware.url"])
	}
	code, body, _ := get(t, kv["static.firmware.url"], yealinkUA)
	if code != 200 || body != string(data) {
		t.Fatalf("firmware: %d, %d bytes", code, len(body))
	}
	code, body, h := get(t, kv["static.firmware.url"], yealinkUA, "Range", "bytes=10-19")
	if code != 206 || body != "0123456789" || !strings.HasPrefix(h.Get("Content-Range"), "bytes 10-19/") {
		t.Fatalf("range: %d %q %q", code, body, h.Get("Content-Range"))
	}
	if code, _, _ := get(t, e.httpURL+"/p/"+e.tenant.ProvisioningToken+"/fw/..%2f..%2fetc", ""); code != 404 {
		t.Fatalf("escape: %d", code)
	}
}

func TestHTTPMethodsAndNonProvisioningPaths(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("PUT", e.httpURL+"/p/"+e.tenant.ProvisioningToken+"/0004f2112233-app.log", strings.NewReader("log"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	if code, _, _ := get(t, e.httpURL+"/api/v1/me", ""); code != 404 {
		t.Fatalf("non-/p/ path: %d", code)
	}
}

func TestClientAddrTrustsOnlyConfiguredProxies(t *testing.T) {
	e := newEnv(t)
	url := e.httpURL + "/p/" + e.tenant.ProvisioningToken + "/" + yealinkMAC + ".cfg"
	get(t, url, yealinkUA, "X-Forwarded-For", "203.0.113.9")
	e.flushed(t, func(tx *store.Tx) bool { p, _ := tx.Phone(yealinkMAC); return p.LastAddr == "127.0.0.1" })
	e.p.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	get(t, url, yealinkUA+" ", "X-Forwarded-For", "198.51.100.7, 203.0.113.9")
	e.flushed(t, func(tx *store.Tx) bool { p, _ := tx.Phone(yealinkMAC); return p.LastAddr == "203.0.113.9" })
}

func TestYealinkBootNamesThePhonesFile(t *testing.T) {
	e := newEnv(t)
	code, body, _ := get(t, e.httpURL+"/p/"+e.tenant.ProvisioningToken+"/y000000000000.boot", yealinkUA)
	kv, err := parseYealink([]byte(body))
	if code != 200 || err != nil {
		t.Fatalf("%d %v", code, err)
	}
	if _, ok := kv["include:"+yealinkMAC+".cfg"]; !ok {
		t.Fatalf("boot file lacks the phone's file:\n%s", body)
	}
	if _, ok := kv["include:y000000000000.cfg"]; !ok {
		t.Fatalf("boot file lacks the common file:\n%s", body)
	}
}

func TestUnknownPhoneDiscoveredFromCommonFileUA(t *testing.T) {
	e := newEnv(t)
	code, _, _ := get(t, e.httpURL+"/p/"+e.tenant.ProvisioningToken+"/y000000000000.boot", "Yealink SIP-T54W 96.86.0.100 80:5e:c0:99:88:77")
	if code != 200 {
		t.Fatalf("boot: %d", code)
	}
	e.flushed(t, func(tx *store.Tx) bool {
		d, err := tx.DiscoveredPhone("acme", "805ec0998877")
		return err == nil && d.Model == "T54W" && d.Firmware == "96.86.0.100"
	})
}

func TestRenderErrorIs500WithoutPartialFile(t *testing.T) {
	e := newEnv(t)
	over := fstest.MapFS{"yealink-phone.tmpl": {Data: []byte("#!version:1.0.0.1\naccount.1.password = {{(index .Lines 0).Password}}\n{{.Missing}}\n")}}
	p, err := New(Config{Store: e.st, PublicHost: "pbx.example", Overrides: over, LogEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.ServeHTTP(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()
	code, body, _ := get(t, "http://"+ln.Addr().String()+"/p/"+e.tenant.ProvisioningToken+"/"+yealinkMAC+".cfg", yealinkUA)
	if code != 500 || strings.Contains(body, "password") {
		t.Fatalf("%d %q", code, body)
	}
}
