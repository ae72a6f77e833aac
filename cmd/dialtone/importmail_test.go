package main

import (
	"bytes"
	"io"
	"log"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dialtone/dialtone/store"
)

// mailCSV has three rows, two with an email.
const mailCSV = "FirstName,LastName,EmailAddress,Number\nKim,One,kim@example.com,501\nLee,Two,,502\nMo,Three,mo@example.com,503\n"

// gotMail is one mail as the in-process SMTP server received it.
type gotMail struct {
	to   string
	data []byte
}

type smtpBackend struct{ mails chan gotMail }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSess{b: b}, nil }

type smtpSess struct {
	b  smtpBackend
	to string
}

func (s *smtpSess) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSess) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	return nil
}
func (s *smtpSess) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mails <- gotMail{to: s.to, data: b}
	return nil
}
func (s *smtpSess) Reset()        { s.to = "" }
func (s *smtpSess) Logout() error { return nil }

// startSMTP runs a real SMTP server (emersion/go-smtp, plain, no auth) on 127.0.0.1:0.
func startSMTP(t *testing.T) (addr string, mails chan gotMail) {
	t.Helper()
	mails = make(chan gotMail, 16)
	srv := smtp.NewServer(smtpBackend{mails})
	srv.Domain = "smtp.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), mails
}

var tokenRE = regexp.MustCompile(`/set-password\?token=([0-9a-f]{64})`)

// outboxTo lists the recipients of the default tenant's outbox through the API.
func (e *e2e) outboxTo() []string {
	e.t.Helper()
	var page struct{ Items []map[string]any }
	e.call("GET", "/api/v1/tenants/default/outbox", nil, 200, &page)
	var to []string
	for _, it := range page.Items {
		if it["kind"] != "welcome" {
			e.t.Errorf("outbox item of kind %v", it["kind"])
		}
		to = append(to, it["to"].(string))
	}
	sort.Strings(to)
	return to
}

// TestImportUsersQueuesWelcomeThroughServe: import-users through a running serve queues
// one welcome mail per row with an email (docs/roles.md, issue 7), as the API's import does;
// a dry run queues none.
func TestImportUsersQueuesWelcomeThroughServe(t *testing.T) {
	e := startMain(t)
	file := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(file, []byte(mailCSV), 0o600)
	var out bytes.Buffer
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data, "--dry-run"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if to := e.outboxTo(); len(to) != 0 {
		t.Fatalf("a dry run queued mail: %v", to)
	}
	out.Reset()
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", e.data}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if to := strings.Join(e.outboxTo(), ","); to != "kim@example.com,mo@example.com" {
		t.Errorf("outbox after import through serve: %s", to)
	}
	if !strings.Contains(out.String(), "2 welcome mails queued") {
		t.Errorf("report: %s", out.String())
	}
}

// TestImportUsersOfflineQueuesWelcome: without serve, import-users writes the welcome
// mails into the store's outbox; the next serve with --smtp sends them, and the mail as
// received carries a link that sets the password.
func TestImportUsersOfflineQueuesWelcome(t *testing.T) {
	t.Setenv("DIALTONE_ADMIN_PASSWORD", testAdminPassword)
	data := t.TempDir()
	file := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(file, []byte(mailCSV), 0o600)
	var out bytes.Buffer
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", data, "--dry-run"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := importUsersCommand([]string{file, "--tenant", "default", "--data", data}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2 welcome mails queued") {
		t.Errorf("report: %s", out.String())
	}
	st, err := store.Open(store.Options{Dir: data})
	if err != nil {
		t.Fatal(err)
	}
	var queued []store.OutMail
	st.View(func(tx *store.Tx) (err error) { queued, err = tx.Outbox(store.DefaultTenant, "", 0); return err })
	st.Close()
	var to []string
	for _, m := range queued {
		to = append(to, m.Kind+":"+m.To)
	}
	sort.Strings(to)
	if strings.Join(to, ",") != "welcome:kim@example.com,welcome:mo@example.com" {
		t.Fatalf("outbox after the offline import (dry run first): %v", to)
	}

	// serve with SMTP sends what waits.
	addr, mails := startSMTP(t)
	e := startMainOn(t, data, func(c *Config) { c.SMTP = "smtp://" + addr; c.MailFrom = "dialtone@pbx.test" })
	var got []string
	var token string
	for range 2 {
		select {
		case m := <-mails:
			got = append(got, m.to)
			msg, err := netmail.ReadMessage(bytes.NewReader(m.data))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if !strings.Contains(string(body), m.to) {
				t.Errorf("mail to %s does not name the login:\n%s", m.to, body)
			}
			if sm := tokenRE.FindStringSubmatch(string(body)); sm == nil {
				t.Fatalf("no set-password link in:\n%s", body)
			} else if m.to == "kim@example.com" {
				token = sm[1]
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("serve did not send the queued mail (got %v)", got)
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "kim@example.com,mo@example.com" {
		t.Errorf("mail received for %v", got)
	}
	e.call("POST", "/api/v1/auth/set-password", map[string]string{"token": token, "password": "kim's own password"}, 200, nil)
	e.token = ""
	e.call("POST", "/api/v1/auth/login", map[string]string{"email": "kim@example.com", "password": "kim's own password"}, 200, nil)
}
