package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/store"
)

func testConfig(data, password string) Config {
	return Config{Data: data, HTTP: "127.0.0.1:0", HTTPS: "", TFTP: "127.0.0.1:0", SIP: "", LDAP: "",
		PublicHost: "127.0.0.1", AdminPassword: password, LogLevel: "info"}
}

// TestAdminPasswordOnUsedStoreWarns: --admin-password on a store that has users is
// ignored, and the log says so and how to reset.
func TestAdminPasswordOnUsedStoreWarns(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	for i, pw := range []string{testAdminPassword, "another long password"} {
		var logs testkit.Buffer
		m, err := NewMain(testConfig(data, pw), slog.New(slog.NewTextHandler(&logs, nil)), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		m.Close()
		warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "ignored") &&
			strings.Contains(logs.String(), "dialtone reset-password EMAIL --data "+data)
		if warned != (i == 1) {
			t.Fatalf("start %d: warned=%v; log:\n%s", i, warned, logs.String())
		}
		if strings.Contains(logs.String(), pw) {
			t.Fatalf("the password is in the log:\n%s", logs.String())
		}
	}
}

// login answers the status of a login with email and password.
func loginStatus(t *testing.T, e *e2e, email, password string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	res, err := http.Post(e.url("/api/v1/auth/login"), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func newPassword(t *testing.T, out string) string {
	t.Helper()
	_, after, ok := strings.Cut(out, "): ")
	pw, _, _ := strings.Cut(after, "\n")
	if !ok || len(pw) < 16 {
		t.Fatalf("no password in %q", out)
	}
	return pw
}

// TestResetPassword: offline over the store, then through the control socket of a
// running serve; the old password stops working, the new one logs in, the reset is
// audited.
func TestResetPassword(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	m, err := NewMain(testConfig(data, testAdminPassword), slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	var out bytes.Buffer
	if code := run([]string{"reset-password", "admin@localhost", "--data", data}, nil, &out, io.Discard); code != 0 {
		t.Fatalf("offline reset: exit %d: %s", code, out.String())
	}
	offline := newPassword(t, out.String())
	st, err := store.Open(store.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	var u store.User
	st.View(func(tx *store.Tx) (err error) { u, err = tx.UserByEmail("default", "admin@localhost"); return err })
	ok, _ := st.Secrets().CheckPassword(context.Background(), "", offline, u.PasswordHash)
	old, _ := st.Secrets().CheckPassword(context.Background(), "", testAdminPassword, u.PasswordHash)
	st.Close()
	if !ok || old {
		t.Fatalf("offline reset: new password works %v, old %v", ok, old)
	}

	e := startMain(t)
	out.Reset()
	var errOut bytes.Buffer
	if code := run([]string{"reset-password", "--tenant", "default", "admin@localhost", "--data", e.data}, nil, &out, &errOut); code != 0 {
		t.Fatalf("online reset: exit %d: %s %s", code, out.String(), errOut.String())
	}
	online := newPassword(t, out.String())
	if loginStatus(t, e, "admin@localhost", testAdminPassword) != 401 || loginStatus(t, e, "admin@localhost", online) != 200 {
		t.Fatal("after the online reset the passwords are wrong")
	}
	e.token = ""
	var login struct{ Token string }
	e.call("POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": online}, 200, &login)
	e.token = login.Token
	var audit struct{ Items []store.AuditEvent }
	e.call("GET", "/api/v1/tenants/default/audit", nil, 200, &audit)
	n := 0
	for _, ev := range audit.Items {
		if ev.Action == "user.reset_password" && ev.Source == "cli" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d cli resets audited, want 1", n)
	}
	// An unknown email changes nothing and says so.
	errOut.Reset()
	if code := run([]string{"reset-password", "nobody@example.com", "--data", e.data}, nil, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "no user with email nobody@example.com") {
		t.Fatalf("unknown email: exit %d %s", code, errOut.String())
	}
}

func TestRootHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		var out bytes.Buffer
		if code := run(args, nil, &out, io.Discard); code != 0 {
			t.Fatalf("%v: exit %d", args, code)
		}
		for _, cmd := range []string{"serve", "reset-password", "dhcp-options", "import-users", "backup", "verify-backup", "restore", "install", "version"} {
			if !strings.Contains(out.String(), "\n  "+cmd+" ") {
				t.Errorf("%v does not list %s:\n%s", args, cmd, out.String())
			}
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}, {"-version"}} {
		var out bytes.Buffer
		if code := run(args, nil, &out, io.Discard); code != 0 || out.String() != "dialtone "+version+"\n" {
			t.Fatalf("%v: exit %d %q", args, code, out.String())
		}
	}
}

// TestDHCPOptions: offline from the store and serve's flags, and through a running
// serve; every snippet carries the tenant's URL; Kea's parses as JSON.
func TestDHCPOptions(t *testing.T) {
	t.Parallel()
	e := startMain(t)
	var tn struct {
		ProvisioningURL string `json:"provisioning_url"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tn)
	var out, errOut bytes.Buffer
	if code := run([]string{"dhcp-options", "--data", e.data}, nil, &out, &errOut); code != 0 {
		t.Fatalf("online: exit %d %s", code, errOut.String())
	}
	checkDHCP(t, out.String(), tn.ProvisioningURL, "")
	if strings.Contains(out.String(), "option 150 (") {
		t.Error("option 150 given for a loopback host")
	}

	// Offline: the values follow serve's flags.
	data := t.TempDir()
	m, err := NewMain(testConfig(data, testAdminPassword), slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var token string
	m.store.View(func(tx *store.Tx) error { tt, err := tx.Tenant("default"); token = tt.ProvisioningToken; return err })
	m.Close()
	out.Reset()
	if code := run([]string{"dhcp-options", "--tenant", "default", "--data", data, "--public-host", "192.0.2.10", "--http", ":8080", "--tftp", ":69"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("offline: exit %d %s", code, errOut.String())
	}
	url := "http://192.0.2.10:8080/p/" + token + "/"
	checkDHCP(t, out.String(), url, "192.0.2.10")
	if !strings.Contains(out.String(), "C000020A") {
		t.Errorf("no hex form of option 150:\n%s", out.String())
	}
	errOut.Reset()
	if code := run([]string{"dhcp-options", "--tenant", "nope", "--data", data}, nil, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), `tenant "nope"`) {
		t.Fatalf("unknown tenant: exit %d %s", code, errOut.String())
	}
}

func checkDHCP(t *testing.T, out, url, opt150 string) {
	t.Helper()
	if url == "" || !strings.Contains(out, "option 66  (TFTP server name)        "+url+"\n") ||
		!strings.Contains(out, "option 160 (provisioning URL, Poly)   "+url+"\n") {
		t.Fatalf("values for %s missing:\n%s", url, out)
	}
	sections := strings.Split(out, "\n## ")[1:]
	if len(sections) != 5 {
		t.Fatalf("%d snippets, want 5:\n%s", len(sections), out)
	}
	hexURL := strings.ToUpper(hexOf(url))
	for _, s := range sections {
		name, body, _ := strings.Cut(s, "\n")
		if !strings.Contains(body, url) && !strings.Contains(body, hexURL) {
			t.Errorf("%s lacks the URL:\n%s", name, body)
		}
		if opt150 != "" && !strings.Contains(body, opt150) && !strings.Contains(body, "C000020A") {
			t.Errorf("%s lacks option 150:\n%s", name, body)
		}
		if strings.HasPrefix(name, "Kea") {
			var kea struct {
				OptionData []struct {
					Name      string `json:"name"`
					Code      int    `json:"code"`
					Data      string `json:"data"`
					CSVFormat *bool  `json:"csv-format"`
				} `json:"option-data"`
			}
			if err := json.Unmarshal([]byte(body), &kea); err != nil {
				t.Fatalf("Kea snippet is not JSON: %v\n%s", err, body)
			}
			if kea.OptionData[0].Code != 66 || kea.OptionData[0].Data != url || kea.OptionData[1].Code != 160 || kea.OptionData[1].Data != hexURL {
				t.Errorf("Kea options: %+v", kea.OptionData)
			}
		}
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(digits[s[i]>>4])
		b.WriteByte(digits[s[i]&15])
	}
	return b.String()
}

// TestInstall: --dry-run changes nothing; --root puts binary, unit and data directory
// under a staging root with the chosen paths in the unit.
func TestInstall(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	var out bytes.Buffer
	if code := run([]string{"install", "--dry-run", "--root", root, "--prefix", "/opt/dt", "--data", "/srv/dt"}, nil, &out, io.Discard); code != 0 {
		t.Fatalf("dry run: exit %d %s", code, out.String())
	}
	if ents, _ := os.ReadDir(root); len(ents) != 0 || !strings.Contains(out.String(), "would write "+root+"/etc/systemd/system/dialtone.service") {
		t.Fatalf("dry run wrote %v or said:\n%s", ents, out.String())
	}
	out.Reset()
	if code := run([]string{"install", "--root", root, "--prefix", "/opt/dt", "--data", "/srv/dt"}, nil, &out, io.Discard); code != 0 {
		t.Fatalf("install: exit %d %s", code, out.String())
	}
	unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/dialtone.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecStart=/opt/dt/bin/dialtone serve --data /srv/dt\n", "ReadWritePaths=/srv/dt\n",
		"User=dialtone\n", "AmbientCapabilities=CAP_NET_BIND_SERVICE\n", "ExecReload=/bin/kill -HUP $MAINPID\n"} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "opt/dt/bin/dialtone")); err != nil || fi.Mode().Perm() != 0o755 || fi.Size() == 0 {
		t.Errorf("binary: %v %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(root, "srv/dt")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Errorf("data directory: %v %v", fi, err)
	}
	var errOut bytes.Buffer
	if code := run([]string{"install", "--root", root, "--prefix", "relative"}, nil, io.Discard, &errOut); code != 2 {
		t.Errorf("relative prefix: exit %d %s", code, errOut.String())
	}
}
