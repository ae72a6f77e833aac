package admin

import (
	"testing"
)

// The tenant's LDAP-over-TLS settings through the API: the defaults a new tenant has,
// a change that would leave phones unable to bind refused with 400 naming the field and
// nothing stored, and a good combination kept and shown.
func TestTenantLDAPTLSSettings(t *testing.T) {
	e := newEnv(t)
	tok := e.adminToken()
	v := e.must(200, tok, "GET", "/api/v1/tenants/default", nil).json(t)
	if v["ldap_require_tls"] != true || v["ldap_phonebook_cleartext"] != true || v["phonebook_ldaps"] != false {
		t.Fatalf("defaults: require_tls %v, phonebook_cleartext %v, phonebook_ldaps %v", v["ldap_require_tls"], v["ldap_phonebook_cleartext"], v["phonebook_ldaps"])
	}
	a := e.must(400, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"ldap_phonebook_cleartext": false})
	if a.errField() != "ldap_phonebook_cleartext" {
		t.Fatalf("error field %q: %s", a.errField(), a.body)
	}
	if ten, _ := e.st.Tenant("default"); !ten.LDAPPhonebookCleartext() {
		t.Fatal("refused change stored")
	}
	v = e.must(200, tok, "PATCH", "/api/v1/tenants/default", map[string]any{"ldap_phonebook_cleartext": false,
		"phonebook_ldaps": true, "ldap_require_tls": false}).json(t)
	if v["ldap_require_tls"] != false || v["ldap_phonebook_cleartext"] != false || v["phonebook_ldaps"] != true {
		t.Fatalf("after patch: %s", a.body)
	}
	ten, err := e.st.Tenant("default")
	if err != nil || ten.LDAPRequireTLS() || ten.LDAPPhonebookCleartext() || !ten.PhonebookLDAPS {
		t.Fatalf("stored: %+v %v", ten, err)
	}
}
