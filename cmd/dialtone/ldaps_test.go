package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// caClient trusts the CA serve made under the data directory, and nothing else.
func caClient(t *testing.T, data string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join(data, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatal("ca.pem holds no certificate")
	}
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// --ldaps serves LDAP over TLS with the appliance's certificate and --ldap offers
// StartTLS with the same one; a client trusting only {data}/tls/ca.pem verifies both. A
// person's bind (ldap_require_tls, on by default) goes through over either, and is
// refused with confidentialityRequired over plain LDAP; the phonebook account binds in
// clear (ldap_phonebook_cleartext, on by default).
func TestServeLDAPSAndStartTLS(t *testing.T) {
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.LDAPS = "127.0.0.1:0" })
	var tenant struct {
		LDAPBaseDN       string `json:"ldap_base_dn"`
		LDAPBindDN       string `json:"ldap_bind_dn"`
		LDAPBindPassword string `json:"ldap_bind_password"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	var user struct{ Password string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "de Jong",
		"email": "anna@e2e.test", "extensions": []string{"201"}, "password": "anna's long password"}, 201, &user)
	client := caClient(t, e.data)
	search := ldap.NewSearchRequest(tenant.LDAPBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 50, 0, false,
		"(cn=Anna*)", []string{"cn", "telephoneNumber"}, nil)

	if e.m.Addrs["ldaps"] == "" {
		t.Fatal("no ldaps listener noted")
	}
	lc, err := ldap.DialURL("ldaps://"+e.m.Addrs["ldaps"], ldap.DialWithTLSConfig(client))
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	if err := lc.Bind("anna@e2e.test", "anna's long password"); err != nil {
		t.Fatalf("person over LDAPS: %v", err)
	}
	if err := lc.Bind(tenant.LDAPBindDN, tenant.LDAPBindPassword); err != nil {
		t.Fatal(err)
	}
	if res, err := lc.Search(search); err != nil || len(res.Entries) != 1 {
		t.Fatalf("search over LDAPS: %v", err)
	}

	c, err := ldap.DialURL("ldap://" + e.m.Addrs["ldap"])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Bind("anna@e2e.test", "anna's long password"); !ldap.IsErrorWithCode(err, ldap.LDAPResultConfidentialityRequired) {
		t.Fatalf("person in clear: %v, want confidentialityRequired", err)
	}
	if err := c.Bind(tenant.LDAPBindDN, tenant.LDAPBindPassword); err != nil {
		t.Fatalf("phonebook in clear: %v", err)
	}
	if err := c.StartTLS(client); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := c.Bind("anna@e2e.test", "anna's long password"); err != nil {
		t.Fatalf("person after StartTLS: %v", err)
	}
	if res, err := c.Search(search); err != nil || len(res.Entries) != 1 {
		t.Fatalf("search after StartTLS: %v", err)
	}
}

// --ldaps is a flag, DIALTONE_LDAPS and a config file key like the other listeners; empty
// turns it off; its default is :636 as root and :6636 for any other user.
func TestConfigLDAPS(t *testing.T) {
	file := filepath.Join(t.TempDir(), "dialtone.conf")
	if err := os.WriteFile(file, []byte("ldaps = :1636\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--config", file}, nil, ":1636"},
		{[]string{"--config", file}, map[string]string{"DIALTONE_LDAPS": ":2636"}, ":2636"},
		{[]string{"--config", file, "--ldaps", ":3636"}, map[string]string{"DIALTONE_LDAPS": ":2636"}, ":3636"},
		{[]string{"--ldaps", ""}, nil, ""},
		{nil, nil, map[bool]string{true: ":636", false: ":6636"}[os.Geteuid() == 0]},
	} {
		c, err := parseServeConfig(tc.args, envMap(tc.env), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if c.LDAPS != tc.want {
			t.Errorf("%v %v: ldaps %q, want %q", tc.args, tc.env, c.LDAPS, tc.want)
		}
	}
}

// With the tenant's phonebook_ldaps on, a phone's config points its LDAP phonebook at the
// port --ldaps is bound to, with LDAPS (Yealink: ldap.tls_mode 2); off, at --ldap in clear.
func TestConfigPointsPhonesAtLDAPS(t *testing.T) {
	e := startMainOn(t, t.TempDir(), func(c *Config) { c.LDAPS = "127.0.0.1:0" })
	var user struct{ ID string }
	e.call("POST", "/api/v1/tenants/default/users", map[string]any{"first_name": "Anna", "last_name": "de Jong",
		"extensions": []string{"201"}}, 201, &user)
	e.call("POST", "/api/v1/tenants/default/phones", map[string]any{"mac": "80:5E:C0:AA:BB:CC", "model": "T46U", "user_id": user.ID}, 201, nil)
	var tenant struct {
		ProvisioningToken string `json:"provisioning_token"`
	}
	e.call("GET", "/api/v1/tenants/default", nil, 200, &tenant)
	ldapPort, ldapsPort := strconv.Itoa(atoiOr(portOf(e.m.Addrs["ldap"]), 0)), strconv.Itoa(atoiOr(portOf(e.m.Addrs["ldaps"]), 0))
	for _, step := range []struct {
		patch      map[string]any
		port, mode string
	}{
		{nil, ldapPort, "0"},
		{map[string]any{"phonebook_ldaps": true}, ldapsPort, "2"},
		{map[string]any{"phonebook_ldaps": false}, ldapPort, "0"},
	} {
		if step.patch != nil {
			e.call("PATCH", "/api/v1/tenants/default", step.patch, 200, nil)
		}
		keys := yealinkKeys(e.fetch("/p/"+tenant.ProvisioningToken+"/805ec0aabbcc.cfg", yealinkUA))
		if keys["ldap.port"] != step.port || keys["ldap.tls_mode"] != step.mode || keys["ldap.host"] != "127.0.0.1" {
			t.Errorf("after %v: ldap.host %q ldap.port %q ldap.tls_mode %q, want port %s mode %s", step.patch,
				keys["ldap.host"], keys["ldap.port"], keys["ldap.tls_mode"], step.port, step.mode)
		}
	}
}
