package provision

import (
	"strings"
	"testing"

	"github.com/dialtone/dialtone/templates"
)

// With the tenant's phonebook_ldaps, each make's phone file points its LDAP phonebook at
// LDAPS on the --ldaps port, in the make's own keys; without it, at plain LDAP.
func TestRenderPhonebookLDAPS(t *testing.T) {
	r := NewRenderer(templates.FS, nil)
	want := map[Make][2]string{ // plain, LDAPS
		Yealink:     {"ldap.tls_mode = 0", "ldap.tls_mode = 2"},
		Poly:        {`dir.corp.transport="TCP"`, `dir.corp.transport="TLS"`},
		Snom:        {`<ldap_server perm="">pbx.example</ldap_server>`, `<ldap_server perm="">ldaps://pbx.example</ldap_server>`},
		Grandstream: {"<P8020>pbx.example</P8020>", "<P8020>ldaps://pbx.example</P8020>"},
		Cisco:       {"<LDAP_Server>pbx.example:389</LDAP_Server>", "<LDAP_Server>ldaps://pbx.example:6636</LDAP_Server>"},
		Fanvil:      {"<Server>pbx.example</Server>", "<Server>ldaps://pbx.example</Server>"},
	}
	port := map[Make][2]string{
		Yealink: {"ldap.port = 389", "ldap.port = 6636"}, Poly: {`dir.corp.port="389"`, `dir.corp.port="6636"`},
		Snom:        {`<ldap_port perm="">389</ldap_port>`, `<ldap_port perm="">6636</ldap_port>`},
		Grandstream: {"<P8021>389</P8021>", "<P8021>6636</P8021>"}, Fanvil: {"<Port>389</Port>", "<Port>6636</Port>"},
	}
	for _, mk := range Makes {
		for i, ldaps := range []bool{false, true} {
			p := SampleProfile(mk)
			if ldaps {
				p.Phonebook.LDAPS, p.Phonebook.LDAPPort = true, 6636
			}
			out, err := r.Render(p, KindPhone)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{want[mk][i], port[mk][i]} {
				if w != "" && !strings.Contains(string(out), w) {
					t.Errorf("%s ldaps=%v: no %q in\n%s", mk, ldaps, w, out)
				}
			}
			if !ldaps && strings.Contains(string(out), "ldaps://") {
				t.Errorf("%s: ldaps:// without phonebook_ldaps", mk)
			}
		}
	}
}
