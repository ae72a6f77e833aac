package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/go-ldap/ldap/v3"
	"github.com/pin/tftp/v3"

	"github.com/dialtone/dialtone/store"
)

const testAdminPassword = "end-to-end admin password"

type e2e struct {
	t     testing.TB
	m     *Main
	data  string
	token string
	stop  func()
	done  chan error
}

func startMain(t *testing.T) *e2e {
	t.Helper()
	return startMainOn(t, t.TempDir(), nil)
}

// startMainOn runs Main on the data directory data (which may hold a store already),
// with the test configuration changed by mutate when given.
func startMainOn(t testing.TB, data string, mutate func(*Config)) *e2e {
	t.Helper()
	cfg := Config{Data: data, HTTP: "127.0.0.1:0", TFTP: "127.0.0.1:0", SIP: "127.0.0.1:0",
		LDAP: "127.0.0.1:0", PublicHost: "127.0.0.1", AdminPassword: testAdminPassword, LogLevel: "warn",
		MetricsAddr: "127.0.0.1:0"}
	if mutate != nil {
		mutate(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := NewMain(cfg, log, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &e2e{t: t, m: m, data: data, stop: cancel, done: make(chan error, 1)}
	go func() { e.done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-e.done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
		m.Close()
	})
	if cfg.hooks == nil || cfg.hooks.storeOptions == nil { // a read-only store takes no login
		var login struct{ Token string }
		e.call("POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": testAdminPassword}, 200, &login)
		e.token = login.Token
	}
	return e
}

// metricsURL is /metrics on --metrics-addr.
func (e *e2e) metricsURL() string { return "http://" + e.m.Addrs["metrics"] + "/metrics" }

// scrape reads /metrics on --metrics-addr.
func (e *e2e) scrape() string {
	e.t.Helper()
	res, err := http.Get(e.metricsURL())
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("GET /metrics: %d %s", res.StatusCode, b)
	}
	return string(b)
}

func (e *e2e) url(path string) string { return "http://" + e.m.Addrs["http"] + path }

// call does one API request and decodes the answer into out, failing on another status.
func (e *e2e) call(method, path string, body any, want int, out any) {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.url(path), r)
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

func (e *e2e) fetch(path, ua string) string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url(path), nil)
	req.Header.Set("User-Agent", ua)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return string(b)
}

// yealinkKeys reads a Yealink config's key = value lines.
func yealinkKeys(cfg string) map[string]string {
	keys := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(cfg))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			keys[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return keys
}

const yealinkUA = "Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:cc"

// TestEndToEnd runs the whole binary's Main on port 0: a user and phone made through the
// API, the config fetched over HTTP and TFTP, a registration with the credentials found
// in it, a flex login, and the user found over LDAP.
func TestEndToEnd(t *testing.T) {
	// With scheduled backups: the first is taken at start, so its series exist too.
	backups := t.TempDir()
	e := startMainOn(t, t.TempDir(), func(c *Config) {
		c.BackupDir, c.BackupEvery, c.BackupKeep, c.BackupPlaintext = backups, "24h", "2", "true"
	})
	var user struct {
		ID         string
		Extensions []string
		PIN        string
	}
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "de Jong",
		"email": "anna@e2e.test", "extensions": []string{"201"}, "pin": "246813", "language": "nl"}, 201, &user)
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "80:5E:C0:AA:BB:CC", "model": "T46U", "user_id": user.ID}, 201, nil)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
		LDAPBaseDN        string `json:"ldap_base_dn"`
		LDAPBindDN        string `json:"ldap_bind_dn"`
		LDAPBindPassword  string `json:"ldap_bind_password"`
		SIPDomain         string `json:"sip_domain"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)

	// The config over HTTP carries the user's line, in Dutch.
	cfg := e.fetch("/p/"+tenant.ProvisioningToken+"/805ec0aabbcc.cfg", yealinkUA)
	keys := yealinkKeys(cfg)
	if keys["account.1.user_name"] != "201" || keys["account.1.auth_name"] == "" || len(keys["account.1.password"]) < 16 {
		t.Fatalf("line 1 in config: %v", keys)
	}
	if keys["lang.gui"] != "Dutch" {
		t.Errorf("lang.gui = %q, want Dutch", keys["lang.gui"])
	}
	// The same file over TFTP.
	cli, err := tftp.NewClient(e.m.Addrs["tftp"])
	if err != nil {
		t.Fatal(err)
	}
	cli.SetBlockSize(1428)
	wt, err := cli.Receive(tenant.ProvisioningToken+"/805ec0aabbcc.cfg", "octet")
	if err != nil {
		t.Fatal(err)
	}
	var viaTFTP bytes.Buffer
	if _, err := wt.WriteTo(&viaTFTP); err != nil {
		t.Fatal(err)
	}
	if viaTFTP.String() != cfg {
		t.Error("TFTP and HTTP gave different configs")
	}

	// Register over SIP with the credentials found in the config.
	register(t, e.m.Addrs["sip"], tenant.SIPDomain, keys["account.1.auth_name"], keys["account.1.password"])
	var regs struct{ Items []map[string]any }
	e.call("GET", "/api/v1/tenants/default/registrations", nil, 200, &regs)
	if !strings.Contains(fmt.Sprint(regs), keys["account.1.auth_name"]) {
		t.Errorf("registration not listed: %v", regs)
	}

	// Flex: a shared phone shows only its guest line until Anna logs in at it.
	var flexPhone struct {
		Guest struct {
			SIPUsername string `json:"sip_username"`
		}
	}
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "805ec0000002", "model": "T46U", "flex": true}, 201, &flexPhone)
	guestCfg := yealinkKeys(e.fetch("/p/"+tenant.ProvisioningToken+"/805ec0000002.cfg", "Yealink SIP-T46U 108.86.0.20 80:5e:c0:00:00:02"))
	if flexPhone.Guest.SIPUsername == "" || guestCfg["account.1.auth_name"] != flexPhone.Guest.SIPUsername {
		t.Fatalf("guest line: %q vs %q", guestCfg["account.1.auth_name"], flexPhone.Guest.SIPUsername)
	}
	e.call("POST", "/api/v1/tenants/default/phones/805ec0000002/login", map[string]string{"extension": "201", "pin": "0000"}, 403, nil)
	e.call("POST", "/api/v1/tenants/default/phones/805ec0000002/login", map[string]string{"extension": "201", "pin": "246813"}, 200, nil)
	userCfg := yealinkKeys(e.fetch("/p/"+tenant.ProvisioningToken+"/805ec0000002.cfg", "Yealink SIP-T46U 108.86.0.20 80:5e:c0:00:00:02"))
	if userCfg["account.1.auth_name"] != keys["account.1.auth_name"] {
		t.Errorf("after flex login the phone has %q, want Anna's %q", userCfg["account.1.auth_name"], keys["account.1.auth_name"])
	}
	// The phone shows who is logged in, since when and until when (default: 03:00 next).
	var shown struct {
		LoggedIn *struct {
			UserID    string     `json:"user_id"`
			Extension string     `json:"extension"`
			Since     time.Time  `json:"since"`
			Until     *time.Time `json:"until"`
			How       string     `json:"how"`
		} `json:"logged_in"`
	}
	e.call("GET", "/api/v1/tenants/default/phones/805ec0000002", nil, 200, &shown)
	if li := shown.LoggedIn; li == nil || li.UserID != user.ID || li.Extension != "201" || li.How != "api" ||
		time.Since(li.Since) > time.Minute || li.Until == nil || !li.Until.After(li.Since) || li.Until.Sub(li.Since) > 24*time.Hour {
		t.Errorf("phone after login: %+v", shown.LoggedIn)
	}
	e.call("POST", "/api/v1/tenants/default/phones/805ec0000002/logout", nil, 200, nil)
	shown.LoggedIn = nil
	e.call("GET", "/api/v1/tenants/default/phones/805ec0000002", nil, 200, &shown)
	if shown.LoggedIn != nil {
		t.Errorf("phone after logout still shows %+v", shown.LoggedIn)
	}

	// Colleagues find Anna over LDAP with the phonebook account.
	conn, err := ldap.DialURL("ldap://" + e.m.Addrs["ldap"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(tenant.LDAPBindDN, tenant.LDAPBindPassword); err != nil {
		t.Fatal(err)
	}
	res, err := conn.Search(ldap.NewSearchRequest(tenant.LDAPBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 50, 0, false,
		"(|(cn=Anna*)(sn=Anna*))", []string{"cn", "telephoneNumber", "preferredLanguage"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("telephoneNumber") != "201" {
		t.Fatalf("LDAP: %d entries", len(res.Entries))
	}

	// Anna's welcome mail waits in the outbox (no --smtp), in Dutch, its link hidden.
	var outbox struct {
		Items []struct{ To, Kind, Language, Body string }
	}
	e.call("GET", "/api/v1/tenants/default/outbox", nil, 200, &outbox)
	if len(outbox.Items) != 1 || outbox.Items[0].To != "anna@e2e.test" || outbox.Items[0].Language != "nl" ||
		strings.Contains(outbox.Items[0].Body, "token=") {
		t.Errorf("outbox: %+v", outbox.Items)
	}
	// The page the mailed link opens is served on the same listener.
	if page := e.fetch("/set-password?token=x", "test"); !strings.Contains(page, "<form") && !strings.Contains(page, "<html") {
		t.Errorf("set-password page: %.200q", page)
	}

	// A firmware image larger than the server's in-memory body limit is streamed to disk
	// and served to phones byte for byte.
	image := bytes.Repeat([]byte("dialtone firmware block\n"), 1<<19) // 12 MiB
	req, _ := http.NewRequest("POST", e.url("/api/v1/tenants/default/firmware?name=T46U-108.86.0.90.rom&model=T46U&version=108.86.0.90"), bytes.NewReader(image))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	up, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	up.Body.Close()
	if up.StatusCode != 201 {
		t.Fatalf("firmware upload: %d", up.StatusCode)
	}
	if got := e.fetch("/p/"+tenant.ProvisioningToken+"/fw/T46U-108.86.0.90.rom", yealinkUA); got != string(image) {
		t.Errorf("firmware served: %d bytes, want %d", len(got), len(image))
	}
	rreq, _ := http.NewRequest("GET", e.url("/p/"+tenant.ProvisioningToken+"/fw/T46U-108.86.0.90.rom"), nil)
	rreq.Header.Set("Range", "bytes=24-47")
	if resp, err := http.DefaultClient.Do(rreq); err != nil {
		t.Fatal(err)
	} else {
		part, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 206 || string(part) != "dialtone firmware block\n" {
			t.Errorf("firmware range: %d %q", resp.StatusCode, part)
		}
	}

	// /healthz and /metrics.
	if body := e.fetch("/healthz", "test"); !strings.Contains(body, "ok") {
		t.Errorf("healthz: %q", body)
	}
	// Each protocol's series count what this test did (a TFTP transfer is counted when
	// its last ACK is in: waited for).
	metrics := e.waitScrape(`dialtone_http_requests_total{code="200",route="/p/{token}/{file}"}`, "dialtone_store_bytes{part=\"lsm\"}",
		`dialtone_http_request_duration_seconds_bucket{route="POST /api/v1/tenants/{slug}/phones",le="0.001"}`,
		`dialtone_tftp_transfers_total{result="ok"} 1`,
		`dialtone_sip_requests_total{code="401",method="REGISTER"} 1`, `dialtone_sip_requests_total{code="200",method="REGISTER"} 1`,
		`dialtone_sip_request_duration_seconds_count{method="REGISTER"} 2`,
		`dialtone_sip_registrations{tenant="default"} 1`, `dialtone_sip_bindings{tenant="default"} 1`,
		`dialtone_ldap_requests_total{op="bind",result="success"} 1`, `dialtone_ldap_requests_total{op="search",result="success"} 1`,
		`dialtone_ldap_request_duration_seconds_count{op="search"} 1`,
		`dialtone_flex_logins_total{result="ok"} 1`, `dialtone_flex_logins_total{result="wrong_pin"} 1`,
		`dialtone_render_cache_lookups_total{result="hit"}`, `dialtone_mail_queue 1`,
		`dialtone_backups_total{kind="scheduled",result="ok"} 1`, "dialtone_backup_age_seconds ",
		`dialtone_ready{check="store"} 1`, "go_goroutines", "process_resident_memory_bytes")
	if strings.Contains(metrics, tenant.ProvisioningToken) {
		t.Error("a raw path (the provisioning token) in /metrics")
	}
	checkDashboard(t, metrics)
}

// waitScrape scrapes --metrics-addr until every want is in it, and answers the last
// scrape; it fails after 5 s naming what is missing.
func (e *e2e) waitScrape(wants ...string) string {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		body := e.scrape()
		var missing []string
		for _, w := range wants {
			if !strings.Contains(body, w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			return body
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("/metrics lacks %q", missing)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func register(t *testing.T, addr, domain, user, pass string) {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(yealinkUA))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cli, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Host: domain})
	req.SetDestination(addr)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{User: user, Host: domain}})
	req.AppendHeader(&sip.FromHeader{Address: sip.Uri{User: user, Host: domain}, Params: sip.HeaderParams{{K: "tag", V: "e2e"}}})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{User: user, Host: "127.0.0.1", Port: 5099}})
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := cli.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 401 {
		t.Fatalf("first REGISTER: %d", res.StatusCode)
	}
	if res, err = cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: user, Password: pass}); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("REGISTER with the config's credentials: %d %s", res.StatusCode, res.Reason)
	}
}

// TestBackupRestoreRoundTrip backs up a running serve through its control socket, restores
// into an empty directory, and finds the data (and the sealed secrets readable) there.
func TestBackupRestoreRoundTrip(t *testing.T) {
	e := startMain(t)
	var user struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bram", "last_name": "Bos", "extensions": []string{"202"}}, 201, &user)
	file := filepath.Join(t.TempDir(), "dialtone.bak")
	var out bytes.Buffer
	if err := backupCommand([]string{file, "--data", e.data, "--plaintext"}, &out, io.Discard); err != nil {
		t.Fatalf("online backup: %v", err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if err := restoreCommand([]string{file, "--data", restored}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := restoreCommand([]string{file, "--data", restored}, &out, io.Discard); err == nil {
		t.Error("restore into a non-empty directory accepted")
	}
	st, err := store.Open(store.Options{Dir: restored})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User(store.DefaultTenant, user.ID)
	if err != nil || u.FirstName != "Bram" {
		t.Fatalf("restored user: %+v %v", u, err)
	}
	ext, err := st.Extension(store.DefaultTenant, "202")
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := st.SIPPassword(ext); err != nil || len(pw) < 16 {
		t.Errorf("restored SIP password unreadable: %v", err)
	}
	// A corrupt file is refused before anything is written.
	bad := filepath.Join(t.TempDir(), "bad.bak")
	os.WriteFile(bad, []byte("not a backup"), 0o600)
	if err := restoreCommand([]string{bad, "--data", filepath.Join(t.TempDir(), "x")}, &out, io.Discard); err == nil {
		t.Error("corrupt backup accepted")
	}
}

// TestPortInUseNamesFlag: a port that cannot be bound stops the start and names its flag.
func TestPortInUseNamesFlag(t *testing.T) {
	e := startMain(t)
	cfg := Config{Data: t.TempDir(), HTTP: "127.0.0.1:0", TFTP: "", SIP: "", LDAP: e.m.Addrs["ldap"], PublicHost: "127.0.0.1"}
	_, err := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--ldap") {
		t.Fatalf("err = %v, want one naming --ldap", err)
	}
}

// TestSecondServeOnSameDataRefused: two servers on one data directory cannot both start.
func TestSecondServeOnSameDataRefused(t *testing.T) {
	e := startMain(t)
	cfg := Config{Data: e.data, HTTP: "127.0.0.1:0", PublicHost: "127.0.0.1"}
	if _, err := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard); err == nil {
		t.Fatal("second serve on the same data directory started")
	}
}
