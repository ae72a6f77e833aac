package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dialtone/dialtone/admin"
	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/mail"
	"github.com/dialtone/dialtone/store"
)

var (
	_ admin.Welcomer = (*mail.Mailer)(nil)
	_ admin.Outbox   = (*mail.Mailer)(nil)
)

const adminPassword = "correct horse battery"

// syncBuffer collects a server's log lines while it runs.
type syncBuffer = testkit.Buffer

// env: a real store, the admin API on 127.0.0.1:0 with the mailer wired in as Welcome
// and Outbox, and the mailer's Run going.
type env struct {
	t      *testing.T
	clock  *clock
	st     *store.Store
	m      *mail.Mailer
	base   string
	token  string
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// clock is the store's clock, moved on by tests (links that expire).
type clock = testkit.Clock

func newEnv(t *testing.T, cfg mail.Config) *env {
	t.Helper()
	clk := &clock{}
	st, err := store.Open(store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Bootstrap(adminPassword); err != nil {
		t.Fatal(err)
	}
	err = st.Update(func(tx *store.Tx) error {
		prev, err := tx.Tenant("default")
		if err != nil {
			return err
		}
		next := prev
		next.Name = "Acme Telecom"
		return tx.SaveTenant(prev, next)
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	cfg.Store, cfg.Logger = st, log
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://pbx.test:8080/"
	}
	if cfg.From == "" {
		cfg.From = "dialtone@pbx.test"
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 50*time.Millisecond, 200*time.Millisecond
	}
	m, err := mail.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	api, err := admin.New(admin.Config{Store: st, Logger: log, Welcome: m, Outbox: m})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	apiDone, done := make(chan error, 1), make(chan error, 1)
	go func() { apiDone <- api.Serve(ctx, ln) }()
	go func() { done <- m.Run(ctx) }()
	e := &env{t: t, clock: clk, st: st, m: m, base: "http://" + ln.Addr().String(), logs: logs, cancel: cancel, done: done}
	t.Cleanup(func() {
		cancel()
		<-apiDone
		<-done
		st.Close()
	})
	e.token = e.call(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": adminPassword})["token"].(string)
	return e
}

// call sends a JSON request and fails unless the status is want.
func (e *env) call(want int, token, method, path string, body any) map[string]any {
	e.t.Helper()
	status, b := e.do(token, method, path, body)
	if status != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return m
}

func (e *env) do(token, method, path string, body any) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "text/csv"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// outbox lists the default tenant's outbox through the API.
func (e *env) outbox() []map[string]any {
	e.t.Helper()
	a := e.call(200, e.token, "GET", "/api/v1/tenants/default/outbox", nil)
	var out []map[string]any
	for _, it := range a["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// eventually polls cond for up to 10 seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, 10*time.Second, what, cond)
}

// parsed is a received mail taken apart.
type parsed struct {
	hdr  netmail.Header
	body string
}

func parse(t *testing.T, r received) parsed {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("mail does not parse: %v\n%s", err, r.Data)
	}
	var rd io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		rd = quotedprintable.NewReader(msg.Body)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return parsed{hdr: msg.Header, body: string(b)}
}

var linkRE = regexp.MustCompile(`http://pbx\.test:8080/set-password\?token=([0-9a-f]{64})`)

func (p parsed) token(t *testing.T) string {
	t.Helper()
	m := linkRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no set-password link in the mail:\n%s", p.body)
	}
	return m[1]
}

func (p parsed) subject(t *testing.T) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(p.hdr.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWelcomeOverSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	srv := startSMTPD(t, smtpdOpts{starttls: true, user: "relay", pass: "s3cret-relay"})
	e := newEnv(t, mail.Config{SMTP: "smtp://relay:s3cret-relay@" + srv.addr, TLS: &tls.Config{RootCAs: srv.clients}})
	u := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "Jansen",
		"email": "Anna.Jansen@Example.com", "extensions": []string{"201", "202"}})
	genPW, genPIN := u["password"].(string), u["pin"].(string)
	got := srv.wait(t)
	if !got.TLS || got.User != "relay" {
		t.Errorf("STARTTLS used %v, authenticated as %q", got.TLS, got.User)
	}
	if got.From != "dialtone@pbx.test" || got.To != "anna.jansen@example.com" {
		t.Errorf("envelope %s -> %s", got.From, got.To)
	}
	p := parse(t, got)
	if p.hdr.Get("To") != "anna.jansen@example.com" || !strings.Contains(p.hdr.Get("From"), "dialtone@pbx.test") ||
		!strings.HasPrefix(p.hdr.Get("Content-Type"), "text/plain") || p.hdr.Get("Message-Id") == "" || p.hdr.Get("Date") == "" {
		t.Errorf("headers: %v", p.hdr)
	}
	if s := p.subject(t); s != "Welcome to Acme Telecom" {
		t.Errorf("subject %q", s)
	}
	for _, want := range []string{"anna.jansen@example.com", "Acme Telecom", "201, 202", "Anna", "72 hours"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("body lacks %q:\n%s", want, p.body)
		}
	}
	if strings.Contains(string(got.Data), genPW) || strings.Contains(string(got.Data), genPIN) {
		t.Error("the mail holds the generated password or PIN")
	}
	token := p.token(t)
	// Sent: the outbox is empty, and it never held the token.
	eventually(t, "empty outbox", func() bool { return len(e.outbox()) == 0 })
	e.st.Keys("", func(k string, v []byte) bool {
		if strings.Contains(k, token) || bytes.Contains(v, []byte(token)) {
			t.Errorf("the token is stored in clear under %s", k)
		}
		return true
	})
	// The link sets the password, once.
	const pw = "my own fine password"
	e.call(200, "", "POST", "/api/v1/auth/set-password", map[string]string{"token": token, "password": pw})
	if st, _ := e.do("", "POST", "/api/v1/auth/set-password", map[string]string{"token": token, "password": pw}); st != 410 {
		t.Errorf("link used twice: %d", st)
	}
	e.call(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "anna.jansen@example.com", "password": pw})
	if logs := e.logs.String(); strings.Contains(logs, token) || strings.Contains(logs, "s3cret-relay") || strings.Contains(logs, pw) {
		t.Errorf("a secret reached the log:\n%s", logs)
	}
}

func TestWelcomeOverImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := startSMTPD(t, smtpdOpts{implicit: true})
	e := newEnv(t, mail.Config{SMTP: "smtps://" + srv.addr, TLS: &tls.Config{RootCAs: srv.clients}})
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Bo", "last_name": "Berg", "email": "bo@example.com"})
	got := srv.wait(t)
	if !got.TLS {
		t.Error("smtps mail not over TLS")
	}
	parse(t, got).token(t)
}

func TestPlainServerWithoutSTARTTLS(t *testing.T) {
	t.Parallel()
	srv := startSMTPD(t, smtpdOpts{})
	e := newEnv(t, mail.Config{SMTP: "smtp://" + srv.addr})
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Cy", "last_name": "Plain", "email": "cy@example.com"})
	if got := srv.wait(t); got.TLS {
		t.Error("TLS without STARTTLS offered?")
	}
}

func TestRefusedMailStaysQueuedThenGoes(t *testing.T) {
	t.Parallel()
	srv := startSMTPD(t, smtpdOpts{})
	srv.refuse.Store(true)
	e := newEnv(t, mail.Config{SMTP: "smtp://" + srv.addr, MinBackoff: 300 * time.Millisecond, MaxBackoff: 2 * time.Second})
	start := time.Now()
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Di", "last_name": "Refused", "email": "di@example.com", "extensions": []string{"301"}})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the API waited %v", d)
	}
	var item map[string]any
	eventually(t, "two failed attempts", func() bool {
		items := e.outbox()
		if len(items) != 1 {
			return false
		}
		item = items[0]
		return item["attempts"].(float64) >= 2
	})
	if !strings.Contains(item["last_error"].(string), "550") || item["to"] != "di@example.com" {
		t.Errorf("outbox item: %v", item)
	}
	last, _ := time.Parse(time.RFC3339Nano, item["last_attempt"].(string))
	next, _ := time.Parse(time.RFC3339Nano, item["next_attempt"].(string))
	if !next.After(last.Add(250 * time.Millisecond)) {
		t.Errorf("no backoff: last %v next %v", last, next)
	}
	body := item["body"].(string)
	if strings.Contains(body, "token=") || !strings.Contains(body, "one-time link") || !strings.Contains(body, "301") {
		t.Errorf("outbox body: %s", body)
	}
	srv.refuse.Store(false)
	got := srv.wait(t)
	parse(t, got).token(t)
	eventually(t, "empty outbox", func() bool { return len(e.outbox()) == 0 })
}

func TestHangingServerTimesOut(t *testing.T) {
	t.Parallel()
	addr, accepted := hangingServer(t)
	e := newEnv(t, mail.Config{SMTP: "smtp://" + addr, StepTimeout: 200 * time.Millisecond, MinBackoff: time.Minute, MaxBackoff: time.Hour})
	start := time.Now()
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Ed", "last_name": "Hang", "email": "ed@example.com"})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the API waited %v", d)
	}
	var item map[string]any
	eventually(t, "a timed-out attempt", func() bool {
		items := e.outbox()
		if len(items) == 1 && items[0]["attempts"].(float64) >= 1 {
			item = items[0]
			return true
		}
		return false
	})
	if accepted.Load() < 1 || !strings.Contains(item["last_error"].(string), "timeout") {
		t.Errorf("outbox item: %v (connections %d)", item, accepted.Load())
	}
	next, _ := time.Parse(time.RFC3339Nano, item["next_attempt"].(string))
	if time.Until(next) < 30*time.Second {
		t.Errorf("next attempt %v is not backed off", next)
	}
}

func TestRunStopsWhileServerHangs(t *testing.T) {
	t.Parallel()
	addr, accepted := hangingServer(t)
	e := newEnv(t, mail.Config{SMTP: "smtp://" + addr, StepTimeout: time.Minute})
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Flo", "last_name": "Hang", "email": "flo@example.com"})
	eventually(t, "a connection", func() bool { return accepted.Load() > 0 })
	start := time.Now()
	e.cancel()
	select {
	case err := <-e.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
		e.done <- nil // for the cleanup
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after cancel while the server hangs")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Run took %v to stop", d)
	}
}

func TestNoSMTPMailWaits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Config{})
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Gus", "last_name": "Waits", "email": "gus@example.com"})
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "No", "last_name": "Mail"})
	// Run has seen there is no SMTP server and will send nothing: the mail stays queued.
	eventually(t, "Run to settle without an SMTP server", func() bool {
		return strings.Contains(e.logs.String(), "no SMTP server configured")
	})
	items := e.outbox()
	if len(items) != 1 || items[0]["attempts"].(float64) != 0 || items[0]["kind"] != "welcome" || items[0]["to"] != "gus@example.com" {
		t.Fatalf("outbox: %v", items)
	}
	// Paging.
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Hal", "last_name": "Waits", "email": "hal@example.com"})
	a := e.call(200, e.token, "GET", "/api/v1/tenants/default/outbox?limit=1", nil)
	if len(a["items"].([]any)) != 1 || a["next_cursor"] == "" {
		t.Fatalf("page 1: %v", a)
	}
	b := e.call(200, e.token, "GET", "/api/v1/tenants/default/outbox?limit=1&cursor="+a["next_cursor"].(string), nil)
	if it := b["items"].([]any); len(it) != 1 || it[0].(map[string]any)["to"] != "hal@example.com" {
		t.Fatalf("page 2: %v", b)
	}
}

func TestResendAndDutch(t *testing.T) {
	t.Parallel()
	srv := startSMTPD(t, smtpdOpts{})
	e := newEnv(t, mail.Config{SMTP: "smtp://" + srv.addr})
	dept := e.call(201, e.token, "POST", "/api/v1/tenants/default/departments", map[string]any{"name": "Verkoop", "language": "nl"})
	u := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Joost", "last_name": "de Vries",
		"email": "joost@example.nl", "department_id": dept["id"], "extensions": []string{"401"}})
	p := parse(t, srv.wait(t))
	if s := p.subject(t); s != "Welkom bij Acme Telecom" {
		t.Errorf("subject %q", s)
	}
	if !strings.Contains(p.body, "Je inlognaam: joost@example.nl") || !strings.Contains(p.body, "Je toestelnummer: 401") || p.hdr.Get("Content-Language") != "nl" {
		t.Errorf("Dutch mail:\n%v\n%s", p.hdr, p.body)
	}
	first := p.token(t)
	// The user's own language wins over the department's.
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Jim", "last_name": "Smith",
		"email": "jim@example.com", "department_id": dept["id"], "language": "en"})
	if s := parse(t, srv.wait(t)).subject(t); s != "Welcome to Acme Telecom" {
		t.Errorf("user language en in a Dutch department: %q", s)
	}
	// Resend: a new mail, a new link; the old link stops working.
	e.call(202, e.token, "POST", "/api/v1/tenants/default/users/"+u["id"].(string)+"/welcome", nil)
	second := parse(t, srv.wait(t)).token(t)
	if second == first {
		t.Fatal("the resent mail has the same link")
	}
	if st, _ := e.do("", "POST", "/api/v1/auth/set-password", map[string]string{"token": first, "password": "nieuw wachtwoord 1"}); st != 410 {
		t.Errorf("old link after a resend: %d", st)
	}
	e.call(200, "", "POST", "/api/v1/auth/set-password", map[string]string{"token": second, "password": "nieuw wachtwoord 1"})
	audit := e.call(200, e.token, "GET", "/api/v1/tenants/default/audit?subject="+u["id"].(string), nil)
	var actions []string
	for _, ev := range audit["items"].([]any) {
		actions = append(actions, ev.(map[string]any)["action"].(string))
	}
	if !strings.Contains(strings.Join(actions, " "), "user.welcome") {
		t.Errorf("resend not audited: %v", actions)
	}
}

func TestImportQueuesOnePerRowWithEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Config{})
	csv := "FirstName,LastName,EmailAddress,Number\nKim,One,kim@example.com,501\nLee,Two,,502\nMo,Three,mo@example.com,503\n"
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users/import?dry_run=false", csv)
	var to []string
	for _, it := range e.outbox() {
		to = append(to, it["to"].(string))
	}
	if strings.Join(to, ",") != "kim@example.com,mo@example.com" {
		t.Errorf("outbox after import: %v", to)
	}
}

func TestDeletedUserTakesTheirMail(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Config{})
	u := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Ned", "last_name": "Gone", "email": "ned@example.com"})
	if len(e.outbox()) != 1 {
		t.Fatal("no mail queued")
	}
	e.call(204, e.token, "DELETE", "/api/v1/tenants/default/users/"+u["id"].(string), nil)
	if items := e.outbox(); len(items) != 0 {
		t.Errorf("outbox after delete: %v", items)
	}
}

func TestTemplateOverride(t *testing.T) {
	t.Parallel()
	srv := startSMTPD(t, smtpdOpts{})
	over := fstest.MapFS{"welcome.en.txt": {Data: []byte("Subject: Hi {{.FirstName}} from {{.Tenant}}\n\nExt {{join .Extensions \"/\"}} login {{.Login}}\n{{.Link}}\n")}}
	e := newEnv(t, mail.Config{SMTP: "smtp://" + srv.addr, Overrides: over})
	e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Oz", "last_name": "Custom", "email": "oz@example.com", "extensions": []string{"601", "602"}})
	p := parse(t, srv.wait(t))
	if p.subject(t) != "Hi Oz from Acme Telecom" || !strings.HasPrefix(p.body, "Ext 601/602 login oz@example.com\r\n") {
		t.Errorf("override not used: %q\n%q", p.subject(t), p.body)
	}
	p.token(t)
}

func TestBadSMTPURL(t *testing.T) {
	t.Parallel()
	st, err := store.Open(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, u := range []string{"http://mail.example.com", "smtp://user:topsecret@", "smtp://u:topsecret@host/path", "::", "smtp://%zz"} {
		_, err := mail.New(mail.Config{Store: st, SMTP: u})
		if err == nil {
			t.Errorf("%q accepted", u)
		} else if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("error repeats the password: %v", err)
		}
	}
	if _, err := mail.New(mail.Config{Store: st, From: "not an address"}); err == nil {
		t.Error("bad From accepted")
	}
}

// An import's welcome mails are queued together: more than one transaction's worth
// (mailBatch) all arrive, each user in their own language, and a user who cannot get
// one (no email, gone) is named without costing the others theirs.
func TestQueueWelcomesInBulk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mail.Config{})
	dept := e.call(201, e.token, "POST", "/api/v1/tenants/default/departments", map[string]any{"name": "Verkoop", "language": "nl"})
	nl := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Joost", "last_name": "de Vries",
		"email": "joost@example.nl", "department_id": dept["id"]})["id"].(string)
	none := e.call(201, e.token, "POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "No", "last_name": "Mail"})["id"].(string)
	var csv strings.Builder
	csv.WriteString("FirstName,LastName,EmailAddress,Number\n")
	for i := range 1201 {
		fmt.Fprintf(&csv, "Bulk,User%d,bulk%d@example.com,%d\n", i, i, 5000+i)
	}
	imported := e.call(201, e.token, "POST", "/api/v1/tenants/default/users/import?dry_run=false", csv.String())
	ids := []string{nl, none, "no-such-user"}
	for _, u := range imported["users"].([]any) {
		ids = append(ids, u.(map[string]any)["id"].(string))
	}
	// The import queued its 1201; queue them all again, with three more.
	failed := e.m.QueueWelcomes("default", ids)
	if len(failed) != 2 || failed[none] == nil || failed["no-such-user"] == nil {
		t.Fatalf("failed: %v, want the user without email and the unknown one", failed)
	}
	var byUser = map[string][]store.OutMail{}
	err := e.st.View(func(tx *store.Tx) error {
		all, err := tx.Outbox("default", "", 0)
		for _, om := range all {
			byUser[om.UserID] = append(byUser[om.UserID], om)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[3:] {
		if len(byUser[id]) != 2 {
			t.Fatalf("user %s has %d mails, want 2 (import, then bulk)", id, len(byUser[id]))
		}
	}
	if m := byUser[nl]; len(m) != 2 || m[1].Language != "nl" || m[1].Subject != "Welkom bij Acme Telecom" {
		t.Errorf("Dutch user's mails: %+v", m)
	}
}
