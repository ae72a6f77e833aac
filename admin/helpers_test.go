package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/store"
)

// env is a real store and a real API server on 127.0.0.1:0, spoken to with net/http.
type env struct {
	t      testing.TB
	st     *store.Store
	api    *API
	base   string
	client *http.Client
	logs   *syncBuffer
	clock  *testClock
}

// syncBuffer collects a server's log lines while it runs.
type syncBuffer = testkit.Buffer

type testClock = testkit.Clock

const adminPassword = "correct horse battery"

func newEnv(t testing.TB, mutate ...func(*Config)) *env {
	return newEnvDir(t, "", mutate...)
}

func newEnvDir(t testing.TB, dir string, mutate ...func(*Config)) *env {
	t.Helper()
	clock := &testClock{}
	st, err := store.Open(store.Options{Dir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Bootstrap(adminPassword); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	cfg := Config{Store: st, Logger: slog.New(slog.NewTextHandler(logs, nil)), PublicHost: "pbx.example.net", HTTPPort: 8080}
	for _, m := range mutate {
		m(&cfg)
	}
	api, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		st.Close()
	})
	return &env{t: t, st: st, api: api, base: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 30 * time.Second}, logs: logs, clock: clock}
}

// answer is one HTTP answer.
type answer struct {
	status int
	body   []byte
	header http.Header
}

func (a answer) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", a.status, err, a.body)
	}
	return m
}

func (a answer) errField() string {
	var m struct {
		Error struct{ Code, Message, Field string }
	}
	json.Unmarshal(a.body, &m)
	return m.Error.Field
}

func (a answer) errMessage() string {
	var m struct {
		Error struct{ Code, Message, Field string }
	}
	json.Unmarshal(a.body, &m)
	return m.Error.Message
}

func (a answer) errCode() string {
	var m struct {
		Error struct{ Code, Message, Field string }
	}
	json.Unmarshal(a.body, &m)
	return m.Error.Code
}

// do sends body ([]byte as is, string as is, anything else as JSON).
func (e *env) do(token, method, path string, body any, hdr ...string) answer {
	e.t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: b, header: resp.Header}
}

// must sends and fails the test unless the status is want.
func (e *env) must(want int, token, method, path string, body any) answer {
	e.t.Helper()
	a := e.do(token, method, path, body)
	if a.status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, a.status, want, a.body)
	}
	return a
}

func (e *env) tenant(slug string) {
	e.t.Helper()
	err := e.st.Update(func(tx *store.Tx) error {
		_, err := tx.CreateTenant(store.NewTenant{Slug: slug, Name: strings.ToUpper(slug)})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) dept(slug, name string) string {
	e.t.Helper()
	var d store.Department
	err := e.st.Update(func(tx *store.Tx) (err error) {
		d, err = tx.CreateDepartment(slug, store.Department{Name: name})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return d.ID
}

// user creates a user straight in the store (fast: generated password, no extension).
func (e *env) user(slug string, role store.Role, dept string, mod ...func(*store.NewUser)) store.User {
	e.t.Helper()
	in := store.NewUser{FirstName: "U", LastName: string(role), Role: role, DepartmentID: dept, Extensions: []string{}}
	for _, m := range mod {
		m(&in)
	}
	var u store.User
	err := e.st.Update(func(tx *store.Tx) (err error) { u, _, err = tx.CreateUser(slug, in); return err })
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// session gives a bearer token for u, made by the store as a login would.
func (e *env) session(u store.User) string {
	e.t.Helper()
	var tok string
	err := e.st.Update(func(tx *store.Tx) (err error) {
		tok, err = tx.CreateSession(store.Session{Tenant: u.Tenant, UserID: u.ID}, time.Hour)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// login logs the bootstrap System Owner in through the API.
func (e *env) adminToken() string {
	e.t.Helper()
	a := e.must(200, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@localhost", "password": adminPassword})
	return a.json(e.t)["token"].(string)
}

func (e *env) auditEvents(slug string) []store.AuditEvent {
	e.t.Helper()
	var evs []store.AuditEvent
	err := e.st.View(func(tx *store.Tx) (err error) { evs, err = tx.AuditLog(slug, store.AuditQuery{}); return err })
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}
