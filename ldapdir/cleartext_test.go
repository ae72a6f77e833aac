package ldapdir

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/dialtone/dialtone/internal/tlscert"
	"github.com/dialtone/dialtone/store"
)

// applianceTLS makes the appliance's private CA under a temporary directory, as serve
// does, and returns the server configuration and a client that trusts that CA alone.
func applianceTLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	m, err := tlscert.New(context.Background(), tlscert.Options{Dir: t.TempDir(), PublicHost: "pbx.example.net"})
	check(t, err)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(m.CAPEM()) {
		t.Fatal("CA PEM not usable")
	}
	return m.ServerConfig(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// serveLDAPS serves LDAPS from the fixture's server on a second listener.
func (f *fixture) serveLDAPS(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.ServeTLS(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String()
}

// setTenant changes a tenant in the store and waits until the directory follows.
func (f *fixture) setTenant(t testing.TB, slug string, change func(*store.Tenant), applied func(Tenant) bool) {
	t.Helper()
	check(t, f.st.Update(func(tx *store.Tx) error {
		prev, err := tx.Tenant(slug)
		if err != nil {
			return err
		}
		next := prev
		change(&next)
		return tx.SaveTenant(prev, next)
	}))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if snap := f.dir.snapshot(slug); snap != nil && applied(snap.tenant) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("directory did not follow the change of tenant %s", slug)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// requireTLS turns the default back on for both tenants: people bind over TLS only.
func (f *fixture) requireTLS(t testing.TB) {
	for _, slug := range []string{"acme", "other"} {
		f.setTenant(t, slug, func(n *store.Tenant) { n.LDAPUserCleartext = false }, func(d Tenant) bool { return d.UserNeedsTLS })
	}
}

func (c *checkCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// With ldap_require_tls (the default), a person's simple bind over plain LDAP is answered
// confidentialityRequired with a diagnostic naming the way out, before any password is
// checked: right or wrong password, a known or unknown DN or address. Refusals are no
// failed binds: they do not lock the source out. The same binds go through over StartTLS.
func TestUserBindInClearRefused(t *testing.T) {
	srvTLS, cliTLS := applianceTLS(t)
	auth := &checkCounter{}
	f := newFixture(t, Options{Auth: auth, TLS: srvTLS})
	auth.StoreAuth = StoreAuth{f.st}
	f.requireTLS(t)
	anna := "uid=" + f.ids["Anna"] + ",ou=people,o=acme,dc=dialtone"
	c := f.dial(t)
	for i := 0; i < 2; i++ { // more refusals than bindFailMax: no lock-out follows
		for _, b := range []struct{ name, pw string }{
			{anna, userPassword}, {anna, "wrong-password-1"}, {"anna@acme.test", userPassword},
			{"olga@other.test", userPassword}, {"uid=nobody,ou=people,o=acme,dc=dialtone", "x-password"},
			{"nobody@nowhere.test", "x-password"}, {"uid=x,ou=people,o=nosuchtenant,dc=dialtone", "x-password"},
		} {
			_, err := c.SimpleBind(&ldap.SimpleBindRequest{Username: b.name, Password: b.pw})
			if resultCode(err) != ldap.LDAPResultConfidentialityRequired || !strings.Contains(err.Error(), "ldaps://") ||
				!strings.Contains(err.Error(), "StartTLS") {
				t.Fatalf("%s in clear: %v, want confidentialityRequired naming ldaps:// and StartTLS", b.name, err)
			}
		}
	}
	if n := auth.count(); n != 0 {
		t.Fatalf("%d password checks for binds refused in clear, want 0", n)
	}
	// The phonebook account still binds in clear (ldap_phonebook_cleartext, default on).
	check(t, c.Bind(f.pbDN, f.pbPass))

	check(t, c.StartTLS(cliTLS))
	check(t, c.Bind(anna, userPassword))
	if res, err := c.WhoAmI(nil); err != nil || res.AuthzID != "dn:"+anna {
		t.Fatalf("who am I after StartTLS bind: %v %v", res, err)
	}
	check(t, c.Bind("olga@other.test", userPassword))
	if n := auth.count(); n != 2 {
		t.Fatalf("%d password checks over TLS, want 2", n)
	}
}

// Turned off (ldap_require_tls false), a tenant's people bind in clear again, while
// another tenant that keeps the default still refuses.
func TestUserBindInClearPerTenant(t *testing.T) {
	f := newFixture(t, Options{})
	f.requireTLS(t)
	f.setTenant(t, "acme", func(n *store.Tenant) { n.LDAPUserCleartext = true }, func(d Tenant) bool { return !d.UserNeedsTLS })
	c := f.dial(t)
	check(t, c.Bind("anna@acme.test", userPassword))
	if err := c.Bind("olga@other.test", userPassword); resultCode(err) != ldap.LDAPResultConfidentialityRequired {
		t.Fatalf("other tenant's person in clear: %v", err)
	}
}

// The phonebook account binds in clear while ldap_phonebook_cleartext is on (default);
// turned off, its bind in clear is refused with confidentialityRequired and goes through
// over StartTLS.
func TestPhonebookBindInClearSetting(t *testing.T) {
	srvTLS, cliTLS := applianceTLS(t)
	f := newFixture(t, Options{TLS: srvTLS})
	check(t, f.dial(t).Bind(f.pbDN, f.pbPass))

	f.setTenant(t, "acme", func(n *store.Tenant) { n.PhonebookLDAPS, n.LDAPPhonebookTLSOnly = true, true },
		func(d Tenant) bool { return d.PhonebookNeedsTLS })
	c := f.dial(t)
	err := c.Bind(f.pbDN, f.pbPass)
	if resultCode(err) != ldap.LDAPResultConfidentialityRequired || !strings.Contains(err.Error(), "ldap_phonebook_cleartext") {
		t.Fatalf("phonebook in clear with ldap_phonebook_cleartext off: %v", err)
	}
	// Another tenant's phonebook account keeps its own setting.
	check(t, c.Bind("cn=phonebook,o=other,dc=dialtone", f.otherPB))
	check(t, c.StartTLS(cliTLS))
	check(t, c.Bind(f.pbDN, f.pbPass))
	res, err := c.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(cn=anna*)", "cn"))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search over StartTLS: %v", err)
	}
}

// LDAPS with the appliance's certificate, verified by a client that trusts only the
// appliance's CA: a person binds (TLS from the first byte satisfies ldap_require_tls) and
// the phonebook account searches.
func TestLDAPSWithApplianceCA(t *testing.T) {
	srvTLS, cliTLS := applianceTLS(t)
	f := newFixture(t, Options{TLS: srvTLS})
	f.requireTLS(t)
	addr := f.serveLDAPS(t)
	c, err := ldap.DialURL("ldaps://"+addr, ldap.DialWithTLSConfig(cliTLS))
	check(t, err)
	defer c.Close()
	check(t, c.Bind("anna@acme.test", userPassword))
	check(t, c.Bind(f.pbDN, f.pbPass))
	res, err := c.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(telephoneNumber=202)", "cn"))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search over LDAPS: %v", err)
	}
	// A client that does not trust the CA gets no session.
	if c, err := ldap.DialURL("ldaps://"+addr, ldap.DialWithTLSConfig(&tls.Config{ServerName: "127.0.0.1"})); err == nil {
		err = c.Bind(f.pbDN, f.pbPass)
		c.Close()
		if err == nil {
			t.Fatal("LDAPS verified without the appliance CA")
		}
	}
}

// LDAP and LDAPS are one server: failed binds over LDAPS count against the source on the
// plain listener too (and the other way round), so a guesser gains nothing by switching.
func TestBindThrottleSharedWithLDAPS(t *testing.T) {
	srvTLS, cliTLS := applianceTLS(t)
	f := newFixture(t, Options{TLS: srvTLS})
	addr := f.serveLDAPS(t)
	lc, err := ldap.DialURL("ldaps://"+addr, ldap.DialWithTLSConfig(cliTLS))
	check(t, err)
	defer lc.Close()
	for i := 0; i < bindFailMax; i++ {
		if err := lc.Bind(f.pbDN, "wrong-password-1"); resultCode(err) != ldap.LDAPResultInvalidCredentials {
			t.Fatalf("wrong password %d over LDAPS: %v", i, err)
		}
	}
	err = f.dial(t).Bind(f.pbDN, f.pbPass)
	if resultCode(err) != ldap.LDAPResultInvalidCredentials || !strings.Contains(err.Error(), "too many") {
		t.Fatalf("right password over plain LDAP after %d failures over LDAPS: %v", bindFailMax, err)
	}
}
