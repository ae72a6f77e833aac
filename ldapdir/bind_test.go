package ldapdir

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dialtone/dialtone/store"
	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

func TestBinds(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	annaDN := "uid=" + f.ids["Anna"] + ",ou=people,o=acme,dc=dialtone"
	for _, tc := range []struct {
		name, dn, pw string
		code         uint16
	}{
		{"phonebook", f.pbDN, f.pbPass, 0},
		{"phonebook, DN in other case and spacing", "CN=Phonebook, O=ACME, DC=dialtone", f.pbPass, 0},
		{"phonebook, wrong password", f.pbDN, f.pbPass + "x", ldap.LDAPResultInvalidCredentials},
		{"phonebook of another tenant's password", f.pbDN, f.otherPB, ldap.LDAPResultInvalidCredentials},
		{"user by DN", annaDN, userPassword, 0},
		{"user by e-mail", "anna@acme.test", userPassword, 0},
		{"user by e-mail, other case", "ANNA@acme.test", userPassword, 0},
		{"user, wrong password", annaDN, "wrong-password-1", ldap.LDAPResultInvalidCredentials},
		{"user without a password (role none)", "bram@acme.test", userPassword, ldap.LDAPResultInvalidCredentials},
		{"unknown DN", "uid=nobody,ou=people,o=acme,dc=dialtone", userPassword, ldap.LDAPResultInvalidCredentials},
		{"not a DN", "garbage", userPassword, ldap.LDAPResultInvalidCredentials},
		{"unknown tenant", "cn=phonebook,o=nope,dc=dialtone", f.pbPass, ldap.LDAPResultInvalidCredentials},
		// RFC 4513 §5.1.2: an unauthenticated bind is never success for a named DN.
		{"empty password", f.pbDN, "", ldap.LDAPResultUnwillingToPerform},
	} {
		c := f.dial(t)
		_, err := c.SimpleBind(&ldap.SimpleBindRequest{Username: tc.dn, Password: tc.pw, AllowEmptyPassword: true})
		if resultCode(err) != tc.code {
			t.Errorf("%s: %v, want code %d", tc.name, err, tc.code)
		}
		c.Close()
	}
	if strings.Contains(f.logs.String(), f.pbPass) || strings.Contains(f.logs.String(), userPassword) {
		t.Error("a password reached the log")
	}
}

func TestUserBindSeesOwnTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.dial(t)
	check(t, c.Bind("olga@other.test", userPassword))
	res, err := c.Search(search("dc=dialtone", ldap.ScopeWholeSubtree, "(objectClass=person)", "cn"))
	check(t, err)
	if got := cns(res); len(got) != 1 || got[0] != "Olga Secret" {
		t.Errorf("olga sees %q", got)
	}
	who, err := c.WhoAmI(nil)
	check(t, err)
	if !strings.HasPrefix(who.AuthzID, "dn:uid="+f.ids["Olga"]) {
		t.Errorf("whoami %q", who.AuthzID)
	}
	// A failed bind leaves the connection anonymous (RFC 4511 §4.2.1).
	if err := c.Bind("olga@other.test", "wrong-password-1"); resultCode(err) != ldap.LDAPResultInvalidCredentials {
		t.Fatalf("wrong bind: %v", err)
	}
	if _, err := c.Search(search("o=other,dc=dialtone", ldap.ScopeWholeSubtree, "(objectClass=person)")); resultCode(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Errorf("after failed bind: %v", err)
	}
}

func TestAnonymousSearch(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.dial(t)
	req := search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(cn=anna*)", "cn")
	if _, err := c.Search(req); resultCode(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Fatalf("anonymous while off: %v", err)
	}
	check(t, f.st.Update(func(tx *store.Tx) error {
		prev, err := tx.Tenant("acme")
		if err != nil {
			return err
		}
		next := prev
		next.AnonymousLDAP = true
		return tx.SaveTenant(prev, next)
	}))
	res, err := c.Search(req)
	check(t, err)
	if got := cns(res); len(got) != 1 {
		t.Errorf("anonymous while on: %q", got)
	}
	// Still only that tenant.
	if _, err := c.Search(search("o=other,dc=dialtone", ldap.ScopeWholeSubtree, "(objectClass=*)")); resultCode(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Errorf("anonymous other tenant: %v", err)
	}
}

// rawConn speaks BER to the server directly, for what go-ldap will not send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
}

func dialRaw(t *testing.T, addr string) *rawConn {
	nc, err := net.Dial("tcp", addr)
	check(t, err)
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	return &rawConn{t, nc}
}

func (r *rawConn) send(p *ber.Packet) {
	r.t.Helper()
	if _, err := r.nc.Write(p.Bytes()); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) read() *ber.Packet {
	r.t.Helper()
	p, err := ber.ReadPacket(r.nc)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return p
}

func envelope(id int64, op *ber.Packet) *ber.Packet {
	m := ber.NewSequence("msg")
	m.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, id, "id"))
	m.AppendChild(op)
	return m
}

func bindRequest(version int64, dn, pw string) *ber.Packet {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindRequest, nil, "bind")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, version, "v"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "dn"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, pw, "pw"))
	return op
}

func resultOf(p *ber.Packet) int64 {
	return p.Children[1].Children[0].Value.(int64)
}

func TestBindVersion2(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	r := dialRaw(t, f.addr)
	r.send(envelope(1, bindRequest(2, f.pbDN, f.pbPass)))
	if got := resultOf(r.read()); got != 0 {
		t.Errorf("v2 bind: %d", got)
	}
	r.send(envelope(2, bindRequest(3, f.pbDN, f.pbPass)))
	if got := resultOf(r.read()); got != 0 {
		t.Errorf("v3 bind: %d", got)
	}
	r.send(envelope(3, bindRequest(4, f.pbDN, f.pbPass)))
	if got := resultOf(r.read()); got != ldap.LDAPResultProtocolError {
		t.Errorf("v4 bind: %d", got)
	}
}

func TestBindThrottle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.dial(t)
	for i := 0; i < bindFailMax; i++ {
		if err := c.Bind(f.pbDN, "wrong"); resultCode(err) != ldap.LDAPResultInvalidCredentials {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	for i := 0; i < 5; i++ { // the storm goes on: still refused, even the right password
		if err := c.Bind(f.pbDN, f.pbPass); resultCode(err) != ldap.LDAPResultInvalidCredentials {
			t.Fatalf("locked out source bound: %v", err)
		}
	}
	if n := strings.Count(f.logs.String(), "ldap bind failures throttled"); n != 1 {
		t.Errorf("throttle logged %d times, want once", n)
	}
	// Anonymous root DSE reads go on.
	if _, err := c.Search(search("", ldap.ScopeBaseObject, "(objectClass=*)")); err != nil {
		t.Errorf("root DSE while throttled: %v", err)
	}
	// The lock lifts after 10 minutes.
	f.offset.Store(int64(bindLockout + time.Second))
	if err := c.Bind(f.pbDN, f.pbPass); err != nil {
		t.Errorf("after lock-out: %v", err)
	}
}

// checkCounter is the store's own Authenticator, counting the password checks it makes.
type checkCounter struct {
	StoreAuth
	mu    sync.Mutex
	calls int
}

func (c *checkCounter) CheckPassword(ctx context.Context, tenant, userID, password string) (bool, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.StoreAuth.CheckPassword(ctx, tenant, userID, password)
}

// A bind for a person or address that does not exist still costs a password check, so
// the time a wrong bind takes does not tell which people exist.
func TestUnknownBindCostsACheck(t *testing.T) {
	t.Parallel()
	auth := &checkCounter{}
	f := newFixture(t, Options{Auth: auth})
	auth.StoreAuth = StoreAuth{f.st}
	for _, dn := range []string{"uid=nobody,ou=people,o=acme,dc=dialtone", "nobody@acme.test",
		"uid=" + f.ids["Anna"] + ",ou=people,o=acme,dc=dialtone"} {
		before := auth.calls
		c := f.dial(t)
		_, err := c.SimpleBind(&ldap.SimpleBindRequest{Username: dn, Password: "wrong-password-1"})
		c.Close()
		if resultCode(err) != ldap.LDAPResultInvalidCredentials {
			t.Errorf("%s: %v", dn, err)
		}
		auth.mu.Lock()
		if auth.calls != before+1 {
			t.Errorf("%s: %d password checks, want 1", dn, auth.calls-before)
		}
		auth.mu.Unlock()
	}
}
