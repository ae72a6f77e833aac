package ldapdir

import (
	"context"
	"log/slog"
	"net"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dialtone/dialtone/internal/testkit"
	"github.com/dialtone/dialtone/store"
	"github.com/go-ldap/ldap/v3"
)

const userPassword = "correct-horse-battery"

type fixture struct {
	st       *store.Store
	dir      *Directory
	srv      *Server
	addr     string
	pbDN     string
	pbPass   string
	otherPB  string
	ids      map[string]string // first name -> user id
	sales    store.Department
	logs     *syncBuffer
	follower *Follower
	offset   atomic.Int64 // added to the server's clock
	step     atomic.Int64 // added to offset on every reading
}

func (f *fixture) now() time.Time {
	return time.Now().Add(time.Duration(f.offset.Add(f.step.Load())))
}

// syncBuffer collects a server's log lines while it runs.
type syncBuffer = testkit.Buffer

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newFixture builds tenants acme (three people, one with role none) and other (one
// person) in a real in-memory store, follows it and serves LDAP on 127.0.0.1:0.
func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := &fixture{ids: map[string]string{}, logs: &syncBuffer{}}
	var err error
	f.st, err = store.Open(store.Options{})
	check(t, err)
	t.Cleanup(func() { f.st.Close() })
	err = f.st.Update(func(tx *store.Tx) error {
		if _, err := tx.CreateTenant(store.NewTenant{Slug: "acme", Name: "Acme Ltd"}); err != nil {
			return err
		}
		if _, err := tx.CreateTenant(store.NewTenant{Slug: "other", Name: "Other"}); err != nil {
			return err
		}
		// The tests speak plain LDAP; cleartext_test.go turns the default (people bind
		// over TLS only) back on.
		for _, slug := range []string{"acme", "other"} {
			prev, err := tx.Tenant(slug)
			if err != nil {
				return err
			}
			next := prev
			next.LDAPUserCleartext = true
			if err := tx.SaveTenant(prev, next); err != nil {
				return err
			}
		}
		var err error
		if f.sales, err = tx.CreateDepartment("acme", store.Department{Name: "Sales"}); err != nil {
			return err
		}
		for _, in := range []store.NewUser{
			{FirstName: "Anna", LastName: "de Vries", Email: "anna@acme.test", Password: userPassword,
				DepartmentID: f.sales.ID, Language: "nl", Mobile: "+31 6 1234 5678",
				Extensions: []string{"201"}, ExternalNumbers: []string{"+31201234567"}},
			{FirstName: "Bram", LastName: "Jansen", Email: "bram@acme.test", Role: store.RoleNone, Extensions: []string{"202"}},
			{FirstName: "Cees", LastName: "Bakker", Email: "cees@acme.test", Extensions: []string{"203", "204"}},
		} {
			u, _, err := tx.CreateUser("acme", in)
			if err != nil {
				return err
			}
			f.ids[u.FirstName] = u.ID
		}
		u, _, err := tx.CreateUser("other", store.NewUser{FirstName: "Olga", LastName: "Secret", Email: "olga@other.test",
			Password: userPassword, Extensions: []string{"201"}})
		f.ids["Olga"] = u.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	acme, err := f.st.Tenant("acme")
	check(t, err)
	f.pbPass, err = f.st.PhonebookPassword(acme)
	check(t, err)
	other, err := f.st.Tenant("other")
	check(t, err)
	f.otherPB, err = f.st.PhonebookPassword(other)
	check(t, err)
	f.pbDN = "cn=phonebook,o=acme,dc=dialtone"
	f.dir = NewDirectory()
	f.follower, err = Follow(f.st, f.dir, nil)
	check(t, err)
	t.Cleanup(f.follower.Stop)
	if opts.Auth == nil {
		opts.Auth = StoreAuth{f.st}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	f.srv = New(f.dir, opts)
	f.srv.now = f.now // before Serve: no goroutine reads them yet
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	f.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return f
}

func (f *fixture) dial(t testing.TB) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL("ldap://" + f.addr)
	check(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func (f *fixture) phonebook(t testing.TB) *ldap.Conn {
	t.Helper()
	c := f.dial(t)
	if err := c.Bind(f.pbDN, f.pbPass); err != nil {
		t.Fatalf("phonebook bind: %v", err)
	}
	return c
}

func search(base string, scope int, filter string, attrs ...string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil)
}

// cns returns the sorted cn values of the entries.
func cns(res *ldap.SearchResult) []string {
	var out []string
	if res == nil {
		return nil
	}
	for _, e := range res.Entries {
		out = append(out, e.GetAttributeValue("cn"))
	}
	sort.Strings(out)
	return out
}

func resultCode(err error) uint16 {
	if err == nil {
		return 0
	}
	var le *ldap.Error
	if e, ok := err.(*ldap.Error); ok {
		le = e
		return le.ResultCode
	}
	return 65535
}
