package admin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/provision"
	"github.com/dialtone/dialtone/store"
)

// provEnv is the admin API and the real provisioner over one store, each on its own
// real listener; phones fetch from phoneURL.
type provEnv struct {
	*env
	prov     *provision.Provisioner
	phoneURL string
	data     string
	token    string // the default tenant's provisioning token
}

const benchUA = "Yealink SIP-T46U 108.86.0.20"

func newProvEnv(t *testing.T) *provEnv {
	t.Helper()
	data := t.TempDir()
	tdir := filepath.Join(data, "templates")
	if err := os.MkdirAll(tdir, 0o750); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pe := &provEnv{phoneURL: "http://" + ln.Addr().String(), data: data}
	e := newEnv(t, func(c *Config) {
		pe.prov, err = provision.New(provision.Config{Store: c.Store, BaseURL: pe.phoneURL, PublicHost: "pbx.example.net",
			DataDir: data, Overrides: os.DirFS(tdir), LogEvery: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		c.Provisioning, c.TemplateDir = pe.prov, tdir
	})
	pe.env = e
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if !pe.prov.HTTPHandler(ctx) {
			ctx.Error("not found", 404)
		}
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(); pe.prov.Close() })
	tn, err := e.st.Tenant(store.DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	pe.token = tn.ProvisioningToken
	return pe
}

// fetch is a phone asking for a file over HTTP.
func (pe *provEnv) fetch(file string) (int, string) {
	pe.t.Helper()
	req, _ := http.NewRequest("GET", pe.phoneURL+"/p/"+pe.token+"/"+file, nil)
	req.Header.Set("User-Agent", benchUA)
	resp, err := pe.client.Do(req)
	if err != nil {
		pe.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// phone adds a T46U for a new user in tenant default.
func (pe *provEnv) phone(tok, mac string) {
	pe.t.Helper()
	u := pe.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Pia", "last_name": "Phone", "extensions": []string{"301"}}).json(pe.t)
	pe.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": mac, "model": "T46U", "user_id": u["id"]})
}

func TestFirmwareUploadTargetAndDelete(t *testing.T) {
	t.Parallel()
	pe := newProvEnv(t)
	tok := pe.adminToken()
	const mac = "001565000001"
	pe.phone(tok, mac)

	img := bytes.Repeat([]byte("firmware-bytes\x00\x01"), 40000)
	sum := sha256.Sum256(img)
	a := pe.must(201, tok, "POST", "/api/v1/tenants/default/firmware?name=T46U-66.86.0.15.rom&model=t46u&version=66.86.0.15", img).json(t)
	if a["sha256"] != hex.EncodeToString(sum[:]) || a["size"] != float64(len(img)) || a["model"] != "T46U" || a["make"] != "yealink" {
		t.Fatalf("upload answer: %v", a)
	}
	onDisk, err := os.ReadFile(filepath.Join(pe.data, "firmware", "default", "T46U-66.86.0.15.rom"))
	if err != nil || !bytes.Equal(onDisk, img) {
		t.Fatalf("file on disk: %v (%d bytes)", err, len(onDisk))
	}
	// The same name twice, a bad name, an unknown model, an empty file.
	if x := pe.do(tok, "POST", "/api/v1/tenants/default/firmware?name=T46U-66.86.0.15.rom", []byte("x")); x.status != 409 {
		t.Errorf("duplicate name: %d %s", x.status, x.body)
	}
	for q, field := range map[string]string{"name=../etc/passwd": "name", "name=.hidden": "name", "name=a.rom&model=Nokia3310": "model"} {
		if x := pe.do(tok, "POST", "/api/v1/tenants/default/firmware?"+q, []byte("x")); x.status != 400 || x.errField() != field {
			t.Errorf("%s: %d %s", q, x.status, x.body)
		}
	}
	if x := pe.do(tok, "POST", "/api/v1/tenants/default/firmware?name=empty.rom", []byte{}); x.status != 400 {
		t.Errorf("empty firmware: %d %s", x.status, x.body)
	}

	list := pe.must(200, tok, "GET", "/api/v1/tenants/default/firmware", nil).json(t)["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["sha256"] != hex.EncodeToString(sum[:]) || list[0].(map[string]any)["size"] != float64(len(img)) {
		t.Fatalf("list: %v", list)
	}

	// Before a target, the phone's file names no firmware; after, it does, at once.
	if _, cfg := pe.fetch(mac + ".cfg"); strings.Contains(cfg, "static.firmware.url") {
		t.Fatalf("firmware URL before a target:\n%s", cfg)
	}
	m := pe.must(200, tok, "PUT", "/api/v1/tenants/default/models/t46u", map[string]any{"firmware": "T46U-66.86.0.15.rom", "settings": map[string]string{"features.dnd.enable": "1"}}).json(t)
	if m["make"] != "yealink" || m["model"] != "T46U" || m["firmware"] != "T46U-66.86.0.15.rom" {
		t.Errorf("model answer: %v", m)
	}
	st, cfg := pe.fetch(mac + ".cfg")
	want := "static.firmware.url = " + pe.phoneURL + "/p/" + pe.token + "/fw/T46U-66.86.0.15.rom"
	if st != 200 || !strings.Contains(cfg, want) || !strings.Contains(cfg, "features.dnd.enable = 1") {
		t.Fatalf("phone config after the target (%d) lacks %q or the model setting:\n%s", st, want, cfg)
	}
	// And the phone can fetch the file by that URL.
	if st, body := pe.fetch("fw/T46U-66.86.0.15.rom"); st != 200 || body != string(img) {
		t.Errorf("firmware fetch: %d, %d bytes", st, len(body))
	}
	if g := pe.must(200, tok, "GET", "/api/v1/tenants/default/models/T46U", nil).json(t); g["firmware"] != "T46U-66.86.0.15.rom" {
		t.Errorf("GET model: %v", g)
	}
	if x := pe.do(tok, "PUT", "/api/v1/tenants/default/models/T46U", map[string]any{"firmware": "nope.rom"}); x.status != 400 || x.errField() != "firmware" {
		t.Errorf("unknown firmware target: %d %s", x.status, x.body)
	}
	if x := pe.do(tok, "PUT", "/api/v1/tenants/default/models/VVX450", map[string]any{"firmware": "T46U-66.86.0.15.rom"}); x.status != 400 || x.errField() != "firmware" {
		t.Errorf("firmware of another model: %d %s", x.status, x.body)
	}
	if x := pe.do(tok, "GET", "/api/v1/tenants/default/models/Nokia3310", nil); x.status != 404 {
		t.Errorf("unknown model: %d", x.status)
	}
	// A model's sip_digest overrides the tenant's; a value not offered is a 400 naming it.
	if x := pe.do(tok, "PUT", "/api/v1/tenants/default/models/VVX450", map[string]any{"sip_digest": "sha-1"}); x.status != 400 || x.errField() != "sip_digest" {
		t.Errorf("bad model sip_digest: %d %s", x.status, x.body)
	}
	if g := pe.must(200, tok, "PUT", "/api/v1/tenants/default/models/VVX450", map[string]any{"sip_digest": "SHA-256"}).json(t); g["sip_digest"] != "sha-256" {
		t.Errorf("model sip_digest: %v", g)
	}

	// Delete refused while targeted, then allowed; the file goes too.
	if x := pe.do(tok, "DELETE", "/api/v1/tenants/default/firmware/T46U-66.86.0.15.rom", nil); x.status != 409 {
		t.Fatalf("delete of a target: %d %s", x.status, x.body)
	}
	pe.must(200, tok, "PUT", "/api/v1/tenants/default/models/T46U", map[string]any{"firmware": ""})
	if _, cfg := pe.fetch(mac + ".cfg"); strings.Contains(cfg, "static.firmware.url") || strings.Contains(cfg, "features.dnd.enable") {
		t.Errorf("target and settings cleared but still served:\n%s", cfg)
	}
	pe.must(204, tok, "DELETE", "/api/v1/tenants/default/firmware/T46U-66.86.0.15.rom", nil)
	if _, err := os.Stat(filepath.Join(pe.data, "firmware", "default", "T46U-66.86.0.15.rom")); !os.IsNotExist(err) {
		t.Errorf("file still on disk: %v", err)
	}
	pe.must(404, tok, "DELETE", "/api/v1/tenants/default/firmware/T46U-66.86.0.15.rom", nil)

	actions := map[string]bool{}
	for _, ev := range pe.auditEvents("default") {
		actions[ev.Action] = true
	}
	for _, a := range []string{"firmware.upload", "model.update", "firmware.delete"} {
		if !actions[a] {
			t.Errorf("no audit event %s", a)
		}
	}
}

// TestFirmwareStreamedUpload sends a body larger than the server's in-memory limit to a
// server with StreamRequestBody, as cmd/dialtone runs it: the upload streams to disk,
// and a JSON route still refuses an oversized chunked body with 413.
func TestFirmwareStreamedUpload(t *testing.T) {
	t.Parallel()
	pe := newProvEnv(t)
	tok := pe.adminToken()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: pe.api.Handler, StreamRequestBody: true, MaxRequestBodySize: 64 << 10}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	base := "http://" + ln.Addr().String()

	img := bytes.Repeat([]byte{0xA5, 0x5A, 0x00, 0xFF}, 1<<20) // 4 MiB, 64× the in-memory limit
	req, _ := http.NewRequest("POST", base+"/api/v1/tenants/default/firmware?name=big.rom", bytes.NewReader(img))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := pe.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(img)
	if resp.StatusCode != 201 || !strings.Contains(string(b), hex.EncodeToString(sum[:])) {
		t.Fatalf("streamed upload: %d %s", resp.StatusCode, b)
	}
	// A chunked JSON body over the JSON limit: 413, read no further than the limit.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(`{"first_name":"`))
		pw.Write(bytes.Repeat([]byte("a"), MaxJSONBody+10))
		pw.Close()
	}()
	req, _ = http.NewRequest("POST", base+"/api/v1/tenants/default/users", pr)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = pe.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("oversized chunked JSON: %d", resp.StatusCode)
	}
	// Normal JSON still works on the streaming server.
	req, _ = http.NewRequest("GET", base+"/api/v1/tenants/default/firmware", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = pe.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "big.rom") {
		t.Errorf("list after streamed upload: %d %s", resp.StatusCode, b)
	}
}

func TestTemplateOverride(t *testing.T) {
	t.Parallel()
	pe := newProvEnv(t)
	tok := pe.adminToken()
	const mac = "001565000002"
	pe.phone(tok, mac)
	_, before := pe.fetch(mac + ".cfg")
	if !strings.HasPrefix(before, "#!version:1.0.0.1") {
		t.Fatalf("embedded render:\n%s", before)
	}

	// A syntax error: 400 with its line, nothing stored, the embedded one still served.
	bad := "#!version:1.0.0.1\n## ok line\n{{.Y \"a.b\" 1}}\n{{end}}\n## more\n"
	x := pe.do(tok, "PUT", "/api/v1/tenants/default/templates/yealink-phone.tmpl", bad)
	if x.status != 400 || x.errField() != "template" || x.errCode() != "template_error" {
		t.Fatalf("bad template: %d %s", x.status, x.body)
	}
	if line, _ := x.json(t)["details"].(map[string]any)["line"].(float64); line != 4 || !strings.Contains(x.errMessage(), "line 4") {
		t.Errorf("want line 4 named: %s", x.body)
	}
	// A template that parses but fails on a phone (unknown field) is refused too.
	if x := pe.do(tok, "PUT", "/api/v1/tenants/default/templates/yealink-phone.tmpl", "#!version:1.0.0.1\n{{.NoSuchField}}\n"); x.status != 400 || !strings.Contains(x.errMessage(), "line 2") {
		t.Errorf("render failure: %d %s", x.status, x.body)
	}
	if _, err := os.Stat(filepath.Join(pe.data, "templates", "yealink-phone.tmpl")); !os.IsNotExist(err) {
		t.Fatalf("a refused template was stored: %v", err)
	}
	if _, now := pe.fetch(mac + ".cfg"); now != before {
		t.Error("refused template changed the render")
	}
	// Unknown names are refused.
	for _, n := range []string{"nokia-phone.tmpl", "yealink-t99x-phone.tmpl", "..%2Fx.tmpl", "models.csv"} {
		if x := pe.do(tok, "PUT", "/api/v1/tenants/default/templates/"+n, "x"); x.status != 404 {
			t.Errorf("template %s: %d %s", n, x.status, x.body)
		}
	}

	// A good override shows in the very next fetch, the line's password included.
	good := "#!version:1.0.0.1\n## overridden for {{.MAC}}\n{{range .Lines}}{{$.Y (printf \"account.%d.user_name\" .Index) .UserName}}\n{{end}}"
	pe.must(204, tok, "PUT", "/api/v1/tenants/default/templates/yealink-phone.tmpl", good)
	st, after := pe.fetch(mac + ".cfg")
	if st != 200 || !strings.Contains(after, "## overridden for "+mac) || !strings.Contains(after, "account.1.user_name = 301") {
		t.Fatalf("override not in the next fetch (%d):\n%s", st, after)
	}
	list := pe.must(200, tok, "GET", "/api/v1/tenants/default/templates", nil).json(t)["items"].([]any)
	found := false
	for _, it := range list {
		v := it.(map[string]any)
		if v["name"] == "yealink-phone.tmpl" {
			found = v["overridden"] == true && v["embedded"] == true
		} else if v["overridden"] == true {
			t.Errorf("%v overridden", v)
		}
	}
	if !found || len(list) < 10 {
		t.Errorf("template list: %v", list)
	}
	got := pe.do(tok, "GET", "/api/v1/tenants/default/templates/yealink-phone.tmpl", nil)
	if string(got.body) != good || got.header.Get("X-Template-Source") != "override" {
		t.Errorf("GET template: %s %q", got.header.Get("X-Template-Source"), got.body)
	}
	// A model's own file wins over the make's.
	pe.must(204, tok, "PUT", "/api/v1/tenants/default/templates/yealink-t46u-phone.tmpl", "#!version:1.0.0.1\n## t46u only\n")
	if _, cfg := pe.fetch(mac + ".cfg"); !strings.Contains(cfg, "## t46u only") {
		t.Errorf("model template not used:\n%s", cfg)
	}
	pe.must(204, tok, "DELETE", "/api/v1/tenants/default/templates/yealink-t46u-phone.tmpl", nil)

	// Back to the embedded one.
	pe.must(204, tok, "DELETE", "/api/v1/tenants/default/templates/yealink-phone.tmpl", nil)
	if _, cfg := pe.fetch(mac + ".cfg"); cfg != before {
		t.Errorf("after reset, render differs from the embedded one:\n%s", cfg)
	}
	pe.must(404, tok, "DELETE", "/api/v1/tenants/default/templates/yealink-phone.tmpl", nil)
	if g := pe.do(tok, "GET", "/api/v1/tenants/default/templates/yealink-phone.tmpl", nil); g.header.Get("X-Template-Source") != "embedded" {
		t.Errorf("source after reset: %q", g.header.Get("X-Template-Source"))
	}
}

func TestProvisioningPermissions(t *testing.T) {
	t.Parallel()
	pe := newProvEnv(t)
	pe.tenant("acme")
	plain := pe.session(pe.user("default", store.RoleUser, ""))
	manager := pe.session(pe.user("default", store.RoleManager, "")) // reports.read, no phones.manage
	phoner := pe.session(pe.user("default", store.RoleManager, "", func(u *store.NewUser) {
		u.ExtraPermissions = []store.Permission{store.PermPhonesManage}
	}))
	acmeAdmin := pe.session(pe.user("acme", store.RoleSystemAdmin, ""))
	d := "/api/v1/tenants/default"
	for _, c := range []struct {
		tok, method, path string
		body              any
		want              int
	}{
		{plain, "GET", d + "/firmware", nil, 403},
		{plain, "POST", d + "/firmware?name=a.rom", []byte("x"), 403},
		{plain, "GET", d + "/models/T46U", nil, 403},
		{plain, "PUT", d + "/models/T46U", map[string]any{}, 403},
		{plain, "GET", d + "/templates", nil, 403},
		{plain, "GET", d + "/provisioning-log", nil, 403},
		{plain, "GET", d + "/discovered-phones", nil, 403},
		{manager, "GET", d + "/provisioning-log", nil, 200},
		{manager, "GET", d + "/firmware", nil, 403},
		{phoner, "GET", d + "/templates", nil, 200},
		{phoner, "POST", d + "/firmware?name=a.rom", []byte("x"), 201},
		// phones.manage but not an operator of the installation: templates stay shut.
		{phoner, "PUT", d + "/templates/yealink-phone.tmpl", "#!version:1.0.0.1\n", 403},
		{phoner, "DELETE", d + "/templates/yealink-phone.tmpl", nil, 403},
		{acmeAdmin, "PUT", "/api/v1/tenants/acme/templates/yealink-phone.tmpl", "#!version:1.0.0.1\n", 403},
		{acmeAdmin, "GET", "/api/v1/tenants/acme/firmware", nil, 200},
		// Another tenant's: not found.
		{acmeAdmin, "GET", d + "/firmware", nil, 404},
		{acmeAdmin, "POST", d + "/firmware?name=b.rom", []byte("x"), 404},
	} {
		if x := pe.do(c.tok, c.method, c.path, c.body); x.status != c.want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, x.status, c.want, x.body)
		}
	}
	// Without the provisioning service the routes answer 503.
	e := newEnv(t)
	if x := e.do(e.adminToken(), "GET", "/api/v1/tenants/default/models/T46U", nil); x.status != 503 {
		t.Errorf("no provisioning: %d", x.status)
	}
}

func TestRawSettingKeys(t *testing.T) {
	t.Parallel()
	pe := newProvEnv(t)
	tok := pe.adminToken()
	const mac = "001565000003"
	pe.phone(tok, mac)
	for _, c := range []struct {
		method, path string
		body         any
		field        string
	}{
		{"PATCH", "/api/v1/tenants/default/phones/" + mac, map[string]any{"settings": map[string]string{"a = b\nstatic.x": "1"}}, "settings"},
		{"PATCH", "/api/v1/tenants/default/phones/" + mac, map[string]any{"settings": map[string]string{"x\"><evil": "1"}}, "settings"},
		{"POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "001565000009", "settings": map[string]string{"1abc": "1"}}, "settings"},
		{"PATCH", "/api/v1/tenants/default", map[string]any{"settings": map[string]any{"yealink": map[string]string{"k y": "1"}}}, "settings.yealink"},
		{"PATCH", "/api/v1/tenants/default", map[string]any{"settings": map[string]any{"nokia": map[string]string{"ok.key": "1"}}}, "settings.nokia"},
		{"PUT", "/api/v1/tenants/default/models/T46U", map[string]any{"settings": map[string]string{"bad/key": "1"}}, "settings"},
	} {
		if x := pe.do(tok, c.method, c.path, c.body); x.status != 400 || x.errField() != c.field {
			t.Errorf("%s %s %v: %d %s", c.method, c.path, c.body, x.status, x.body)
		}
	}
	// Valid keys at the three levels merge, the most specific winning.
	pe.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"settings": map[string]any{"yealink": map[string]string{"features.x": "tenant", "features.y": "tenant"}}})
	pe.must(200, tok, "PUT", "/api/v1/tenants/default/models/T46U", map[string]any{"settings": map[string]string{"features.y": "model", "features.z": "model"}})
	pe.must(200, tok, "PATCH", "/api/v1/tenants/default/phones/"+mac, map[string]any{"settings": map[string]string{"features.z": "phone", "account.1.codec[2]": "g722"}})
	_, cfg := pe.fetch(mac + ".cfg")
	for _, want := range []string{"features.x = tenant", "features.y = model", "features.z = phone"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
}

func TestProvisioningLogAndDiscovered(t *testing.T) {
	t.Parallel()
	pe := newProvEnv(t)
	tok := pe.adminToken()
	const known, unknown = "001565000004", "001565000abc"
	pe.phone(tok, known)
	if st, _ := pe.fetch(known + ".cfg"); st != 200 {
		t.Fatal(st)
	}
	if st, body := pe.fetch(unknown + ".cfg"); st != 404 || strings.Contains(body, "password") {
		t.Fatalf("unknown MAC: %d %s", st, body)
	}
	// The provisioning log is written in batches: wait for both entries.
	var items []any
	testkit.Eventually(t, 5*time.Second, "two provisioning log entries", func() bool {
		items = pe.must(200, tok, "GET", "/api/v1/tenants/default/provisioning-log", nil).json(t)["items"].([]any)
		return len(items) >= 2
	})
	served := map[string]float64{}
	for _, it := range items {
		v := it.(map[string]any)
		served[v["mac"].(string)] = v["status"].(float64)
	}
	if served[known] != 200 || served[unknown] != 404 {
		t.Fatalf("provisioning log: %v", items)
	}
	p1 := pe.must(200, tok, "GET", "/api/v1/tenants/default/provisioning-log?limit=1", nil).json(t)
	if cur, _ := p1["next_cursor"].(string); cur == "" {
		t.Errorf("no next cursor: %v", p1)
	} else {
		p2 := pe.must(200, tok, "GET", "/api/v1/tenants/default/provisioning-log?limit=1&cursor="+cur, nil).json(t)
		if len(p2["items"].([]any)) != 1 || p2["items"].([]any)[0].(map[string]any)["seq"] == p1["items"].([]any)[0].(map[string]any)["seq"] {
			t.Errorf("second page: %v", p2)
		}
	}
	pe.must(400, tok, "GET", "/api/v1/tenants/default/provisioning-log?cursor=abc", nil)
	// One phone's fetches (any MAC notation).
	one := pe.must(200, tok, "GET", "/api/v1/tenants/default/provisioning-log?mac=00:15:65:00:0A:BC", nil).json(t)["items"].([]any)
	if len(one) != 1 || one[0].(map[string]any)["mac"] != unknown {
		t.Errorf("mac filter: %v", one)
	}
	pe.must(400, tok, "GET", "/api/v1/tenants/default/provisioning-log?mac=nope", nil)

	// The unknown phone is discovered; adding it takes it off the list with its model.
	var disc []any
	testkit.Eventually(t, 5*time.Second, "a discovered phone", func() bool {
		disc = pe.must(200, tok, "GET", "/api/v1/tenants/default/discovered-phones", nil).json(t)["items"].([]any)
		return len(disc) > 0
	})
	if len(disc) != 1 || disc[0].(map[string]any)["mac"] != unknown || disc[0].(map[string]any)["model"] != "T46U" {
		t.Fatalf("discovered: %v", disc)
	}
	p := pe.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "00:15:65:00:0A:BC"}).json(t)
	if p["model"] != "T46U" || p["make"] != "yealink" {
		t.Errorf("assigned phone did not take make and model from discovery: %v", p)
	}
	if d := pe.must(200, tok, "GET", "/api/v1/tenants/default/discovered-phones", nil).json(t)["items"].([]any); len(d) != 0 {
		t.Errorf("still discovered after assignment: %v", d)
	}
	err := pe.st.View(func(tx *store.Tx) error { _, err := tx.DiscoveredPhone("default", unknown); return err })
	if err == nil {
		t.Error("discovered record kept")
	}
}

// FuzzUploadNames: names from the query string and the path never escape the firmware
// or template directory.
func FuzzUploadNames(f *testing.F) {
	for _, s := range []string{"T46U-66.86.0.15.rom", "../x", ".hidden", "a/b", "yealink-phone.tmpl", "yealink-t46u-phone.tmpl", "x..y", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, ok := range map[string]bool{"firmware": safeFirmwareName(s), "template": templateNameRE.MatchString(s)} {
			if ok && (strings.ContainsAny(s, "/\\\x00") || strings.Contains(s, "..") || strings.HasPrefix(s, ".") || len(s) > 96 || filepath.Base(s) != s) {
				t.Fatalf("%s name %q accepted", name, s)
			}
		}
	})
}

// yealinkKey reads one "key = value" line of a Yealink config.
func yealinkKey(cfg, key string) string {
	for _, line := range strings.Split(cfg, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// TestDepartmentSettingsReachPhones (issue 7 point 5): a department's language and time
// zone are inherited by members without their own, and a change made through the API is
// in the very next config fetch (the provisioner re-renders on the change event); a
// member's own language still wins. Regenerating SIP credentials (point 7) re-provisions
// the same way.
func TestDepartmentSettingsReachPhones(t *testing.T) {
	t.Parallel()
	pe := newProvEnv(t)
	tok := pe.adminToken()
	dept := pe.must(201, tok, "POST", "/api/v1/tenants/default/departments",
		map[string]any{"name": "Verkoop", "language": "nl", "timezone": "Europe/Amsterdam"}).json(t)["id"].(string)
	member := pe.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Dirk", "last_name": "Dept",
		"department_id": dept, "extensions": []string{"311"}}).json(t)["id"].(string)
	own := pe.must(201, tok, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Olga", "last_name": "Own",
		"department_id": dept, "language": "fr", "timezone": "Asia/Tokyo", "extensions": []string{"312"}}).json(t)["id"].(string)
	const macMember, macOwn = "001565000311", "001565000312"
	pe.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": macMember, "model": "T46U", "user_id": member})
	pe.must(201, tok, "POST", "/api/v1/tenants/default/phones", map[string]any{"mac": macOwn, "model": "T46U", "user_id": own})

	get := func(mac string) string {
		t.Helper()
		st, cfg := pe.fetch(mac + ".cfg")
		if st != 200 {
			t.Fatalf("fetch %s: %d %s", mac, st, cfg)
		}
		return cfg
	}
	cfg := get(macMember)
	if yealinkKey(cfg, "lang.gui") != "Dutch" || yealinkKey(cfg, "local_time.time_zone") != "+1" {
		t.Fatalf("member of a Dutch department in Amsterdam:\n%s", cfg)
	}
	ownBefore := get(macOwn)
	if yealinkKey(ownBefore, "lang.gui") != "French" || yealinkKey(ownBefore, "local_time.time_zone") != "+9" {
		t.Fatalf("member with their own language and zone:\n%s", ownBefore)
	}

	// The department changes: the member's next fetch follows, at once.
	pe.must(200, tok, "PATCH", "/api/v1/tenants/default/departments/"+dept, map[string]any{"language": "de", "timezone": "America/New_York"})
	cfg = get(macMember)
	if yealinkKey(cfg, "lang.gui") != "German" || yealinkKey(cfg, "lang.wui") != "German" || yealinkKey(cfg, "local_time.time_zone") != "-5" {
		t.Errorf("after the department changed to de, New York:\n%s", cfg)
	}
	if got := get(macOwn); got != ownBefore {
		t.Errorf("a member with their own settings changed with the department:\n%s", got)
	}
	// Cleared on the department: the tenant's defaults (en, UTC) again.
	pe.must(200, tok, "PATCH", "/api/v1/tenants/default/departments/"+dept, map[string]any{"language": "", "timezone": ""})
	cfg = get(macMember)
	if yealinkKey(cfg, "lang.gui") != "English" || yealinkKey(cfg, "local_time.time_zone") != "+0" {
		t.Errorf("after the department's settings were cleared:\n%s", cfg)
	}

	// New SIP credentials are in the next fetch.
	before := yealinkKey(cfg, "account.1.password")
	ext := pe.must(200, tok, "POST", "/api/v1/tenants/default/users/"+member+"/sip-credentials", nil).json(t)["items"].([]any)[0].(map[string]any)
	cfg = get(macMember)
	if after := yealinkKey(cfg, "account.1.password"); after == before || after != ext["sip_password"] ||
		yealinkKey(cfg, "account.1.auth_name") != ext["sip_username"] {
		t.Errorf("regenerated credentials not provisioned: before %q, answer %v, config:\n%s", before, ext, cfg)
	}
}
