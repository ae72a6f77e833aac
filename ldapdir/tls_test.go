package ldapdir

import (
	"context"
	"net"
	"slices"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestStartTLSAndLDAPS(t *testing.T) {
	srvTLS, client := applianceTLS(t)
	f := newFixture(t, Options{TLS: srvTLS})

	c := f.dial(t)
	res, err := c.Search(search("", ldap.ScopeBaseObject, "(objectClass=*)"))
	check(t, err)
	if !slices.Contains(res.Entries[0].GetAttributeValues("supportedExtension"), oidStartTLS) {
		t.Error("StartTLS not announced")
	}
	check(t, c.StartTLS(client))
	check(t, c.Bind(f.pbDN, f.pbPass))
	res, err = c.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(cn=anna*)", "cn"))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search over StartTLS: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.ServeTLS(ctx, ln) }()
	defer func() { cancel(); <-done }()
	lc, err := ldap.DialURL("ldaps://"+ln.Addr().String(), ldap.DialWithTLSConfig(client))
	check(t, err)
	defer lc.Close()
	check(t, lc.Bind(f.pbDN, f.pbPass))
	res, err = lc.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, "(telephoneNumber=202)", "cn"))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search over LDAPS: %v", err)
	}
}

func TestStartTLSWithoutCertificate(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.dial(t)
	_, client := applianceTLS(t)
	if err := c.StartTLS(client); resultCode(err) != ldap.LDAPResultProtocolError {
		t.Errorf("StartTLS without certificate: %v", err)
	}
	// (go-ldap stops reading a connection whose StartTLS failed, so the server's carrying
	// on is checked with a fresh client.)
	check(t, f.dial(t).Bind(f.pbDN, f.pbPass))
}
