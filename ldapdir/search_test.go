package ldapdir

import (
	"slices"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

func TestPersonEntry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	res, err := c.Search(search("ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(uid="+f.ids["Anna"]+")"))
	check(t, err)
	if len(res.Entries) != 1 {
		t.Fatalf("want Anna, got %d entries", len(res.Entries))
	}
	e := res.Entries[0]
	if want := "uid=" + f.ids["Anna"] + ",ou=people,o=acme,dc=dialtone"; e.DN != want {
		t.Errorf("dn %q, want %q", e.DN, want)
	}
	for attr, want := range map[string][]string{
		"objectClass":       {"top", "person", "organizationalPerson", "inetOrgPerson"},
		"cn":                {"Anna de Vries"},
		"sn":                {"de Vries"},
		"givenName":         {"Anna"},
		"displayName":       {"Anna de Vries"},
		"mail":              {"anna@acme.test"},
		"telephoneNumber":   {"201", "+31201234567"},
		"ipPhone":           {"201"},
		"mobile":            {"+31612345678"},
		"ou":                {"Sales"},
		"preferredLanguage": {"nl"},
	} {
		if got := e.GetAttributeValues(attr); !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	if e.GetAttributeValue("jpegPhoto") != "" {
		t.Error("jpegPhoto without a photo")
	}
}

func TestFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	all := []string{"Anna de Vries", "Bram Jansen", "Cees Bakker"}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{"(objectClass=person)", all},
		{"(objectclass=INETORGPERSON)", all},
		{"(|(cn=ann*)(sn=ann*))", []string{"Anna de Vries"}},
		{"(|(cn=jan*)(sn=jan*))", []string{"Bram Jansen"}},
		{"(sn=de v*)", []string{"Anna de Vries"}},
		{"(cn=*a*e*r*)", []string{"Anna de Vries", "Cees Bakker"}},
		{"(cn=A*d*V*s)", []string{"Anna de Vries"}},
		{"(cn=*ker)", []string{"Cees Bakker"}},
		{"(cn=anna DE vries)", []string{"Anna de Vries"}},
		{"(cn~=bram jansen)", []string{"Bram Jansen"}},
		{"(telephoneNumber=202)", []string{"Bram Jansen"}},
		{"(telephoneNumber=+31 20 123-4567)", []string{"Anna de Vries"}},
		{"(|(telephoneNumber=+31612345678)(mobile=+31 6 12 34 56 78))", []string{"Anna de Vries"}},
		{"(telephoneNumber=*1234 567)", []string{"Anna de Vries"}},
		{"(mobile=*-5678)", []string{"Anna de Vries"}},
		{"(|(telephoneNumber=204)(mobile=204)(ipPhone=204))", []string{"Cees Bakker"}},
		{"(ipPhone=204)", nil},
		{"(sn>=c)", []string{"Anna de Vries", "Bram Jansen"}},
		{"(sn<=c)", []string{"Cees Bakker"}},
		{"(mobile=*)", []string{"Anna de Vries"}},
		{"(&(objectClass=person)(!(mobile=*)))", []string{"Bram Jansen", "Cees Bakker"}},
		{"(!(mobile=*))", []string{"", "", "", "Bram Jansen", "Cees Bakker"}}, // o=acme, ou=people, ou=Sales too
		{"(&(objectClass=person)(ou=sales))", []string{"Anna de Vries"}},
		{"(&(telephoneNumber=*)(displayName=c*))", []string{"Cees Bakker"}},
		// Unknown attributes are Undefined (RFC 4511 §4.5.1.7): not an error, never true,
		// and NOT keeps them Undefined.
		{"(|(telephoneNumber=999)(mobile=999)(other=999))", nil},
		{"(|(moblie=1)(cn=bram*))", []string{"Bram Jansen"}},
		{"(!(moblie=1))", nil},
		{"(&(objectClass=person)(!(moblie=*)))", all},
		{"(cn:caseExactMatch:=Anna de Vries)", nil},
		{"(!(cn:caseExactMatch:=Anna de Vries))", nil},
		{"(jpegPhoto=x)", nil},
		{"(mail=ANNA@acme.TEST)", []string{"Anna de Vries"}},
		{"(uid=" + strings.ToUpper(f.ids["Cees"]) + ")", []string{"Cees Bakker"}},
		{"(surname=jansen)", []string{"Bram Jansen"}},
		{"(2.5.4.4=jansen)", []string{"Bram Jansen"}},
	} {
		res, err := c.Search(search("o=acme,dc=dialtone", ldap.ScopeWholeSubtree, tc.filter, "cn"))
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := cns(res); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.filter, got, tc.want)
		}
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	dns := func(base string, scope int, filter string) []string {
		t.Helper()
		res, err := c.Search(search(base, scope, filter, "1.1"))
		check(t, err)
		var out []string
		for _, e := range res.Entries {
			out = append(out, strings.SplitN(e.DN, ",", 2)[0])
		}
		slices.Sort(out)
		return out
	}
	anna := "uid=" + f.ids["Anna"]
	for _, tc := range []struct {
		base   string
		scope  int
		filter string
		want   []string
	}{
		{"dc=dialtone", ldap.ScopeBaseObject, "(objectClass=*)", []string{"dc=dialtone"}},
		{"DC=Dialtone", ldap.ScopeSingleLevel, "(objectClass=*)", []string{"o=acme"}},
		{"o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=*)", []string{"ou=Sales", "ou=people"}},
		{"o=acme,dc=dialtone", ldap.ScopeBaseObject, "(objectClass=*)", []string{"o=acme"}},
		{"ou=people,o=acme,dc=dialtone", ldap.ScopeBaseObject, "(objectClass=*)", []string{"ou=people"}},
		{"ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(sn=de vries)", []string{anna}},
		{"ou=sales,o=acme,dc=dialtone", ldap.ScopeBaseObject, "(objectClass=organizationalUnit)", []string{"ou=Sales"}},
		{anna + ",ou=people,o=acme,dc=dialtone", ldap.ScopeBaseObject, "(objectClass=*)", []string{anna}},
		{anna + ",ou=people,o=acme,dc=dialtone", ldap.ScopeSingleLevel, "(objectClass=*)", nil},
		// A bound identity sees only its own tenant, whatever base it asks for.
		{"dc=dialtone", ldap.ScopeWholeSubtree, "(cn=olga*)", nil},
		{"dc=dialtone", ldap.ScopeWholeSubtree, "(telephoneNumber=201)", []string{anna}},
	} {
		if got := dns(tc.base, tc.scope, tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("%s scope %d %s: got %q, want %q", tc.base, tc.scope, tc.filter, got, tc.want)
		}
	}
	// Another tenant's subtree does not exist for this identity.
	_, err := c.Search(search("o=other,dc=dialtone", ldap.ScopeWholeSubtree, "(objectClass=*)"))
	if resultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Errorf("other tenant: %v, want noSuchObject", err)
	}
	_, err = c.Search(search("uid=nobody,ou=people,o=acme,dc=dialtone", ldap.ScopeBaseObject, "(objectClass=*)"))
	if resultCode(err) != ldap.LDAPResultNoSuchObject {
		t.Errorf("missing person: %v", err)
	}
	_, err = c.Search(search("o=acme,,", ldap.ScopeBaseObject, "(objectClass=*)"))
	if resultCode(err) != ldap.LDAPResultInvalidDNSyntax {
		t.Errorf("bad base: %v", err)
	}
}

func TestAttributeSelection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	base := "ou=people,o=acme,dc=dialtone"
	get := func(typesOnly bool, attrs ...string) *ldap.Entry {
		t.Helper()
		req := search(base, ldap.ScopeSingleLevel, "(cn=anna*)", attrs...)
		req.TypesOnly = typesOnly
		res, err := c.Search(req)
		check(t, err)
		if len(res.Entries) != 1 {
			t.Fatalf("%q: %d entries", attrs, len(res.Entries))
		}
		return res.Entries[0]
	}
	names := func(e *ldap.Entry) []string {
		var out []string
		for _, a := range e.Attributes {
			out = append(out, a.Name)
		}
		return out
	}
	if n := names(get(false, "1.1")); len(n) != 0 {
		t.Errorf("1.1 returned %q", n)
	}
	if n := names(get(false, "CN", "TelephoneNumber", "noSuchAttr")); !slices.Equal(n, []string{"cn", "telephoneNumber"}) {
		t.Errorf("named: %q", n)
	}
	if n := names(get(false, "+")); !slices.Equal(n, []string{"entryDN", "structuralObjectClass", "subschemaSubentry", "hasSubordinates"}) {
		t.Errorf("+: %q", n)
	}
	all := names(get(false))
	if !slices.Contains(all, "mail") || slices.Contains(all, "entryDN") {
		t.Errorf("default: %q", all)
	}
	both := names(get(false, "*", "+"))
	if !slices.Contains(both, "mail") || !slices.Contains(both, "entryDN") {
		t.Errorf("* +: %q", both)
	}
	e := get(true, "cn", "mail")
	if len(e.Attributes) != 2 || len(e.Attributes[0].Values) != 0 {
		t.Errorf("typesOnly: %+v", e.Attributes)
	}
}

func TestRootDSE(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.dial(t) // anonymous may read the root DSE
	res, err := c.Search(search("", ldap.ScopeBaseObject, "(objectClass=*)", "*", "+"))
	check(t, err)
	if len(res.Entries) != 1 {
		t.Fatalf("%d entries", len(res.Entries))
	}
	e := res.Entries[0]
	if got := e.GetAttributeValues("namingContexts"); !slices.Equal(got, []string{"dc=dialtone"}) {
		t.Errorf("namingContexts %q", got)
	}
	if got := e.GetAttributeValues("supportedLDAPVersion"); !slices.Equal(got, []string{"2", "3"}) {
		t.Errorf("supportedLDAPVersion %q", got)
	}
	if got := e.GetAttributeValues("supportedControl"); !slices.Contains(got, ldap.ControlTypePaging) || !slices.Contains(got, ldap.ControlTypeServerSideSorting) {
		t.Errorf("supportedControl %q", got)
	}
	if got := e.GetAttributeValues("supportedExtension"); slices.Contains(got, oidStartTLS) {
		t.Errorf("StartTLS offered without a certificate: %q", got)
	}
	if e.GetAttributeValue("subschemaSubentry") == "" {
		t.Error("no subschemaSubentry")
	}
	res, err = c.Search(search("", ldap.ScopeBaseObject, "(objectClass=*)", "namingContexts"))
	check(t, err)
	if n := len(res.Entries[0].Attributes); n != 1 {
		t.Errorf("named attribute: %d attributes", n)
	}
}

// The entry the root DSE names as subschemaSubentry exists and describes what we serve:
// its definitions are operational, sent for "+" or when named (RFC 4512 §4.2).
func TestSubschemaEntry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	dse, err := c.Search(search("", ldap.ScopeBaseObject, "(objectClass=*)", "subschemaSubentry"))
	check(t, err)
	dn := dse.Entries[0].GetAttributeValue("subschemaSubentry")
	res, err := c.Search(search(dn, ldap.ScopeBaseObject, "(objectClass=subschema)", "+"))
	check(t, err)
	if len(res.Entries) != 1 || res.Entries[0].DN != "cn=Subschema" {
		t.Fatalf("subschema: %d entries", len(res.Entries))
	}
	types := strings.Join(res.Entries[0].GetAttributeValues("attributeTypes"), "\n")
	for _, want := range []string{"NAME 'telephoneNumber' EQUALITY telephoneNumberMatch", "NAME 'ipPhone'", "NAME 'jpegPhoto'"} {
		if !strings.Contains(types, want) {
			t.Errorf("attributeTypes lack %s", want)
		}
	}
	if !slices.ContainsFunc(res.Entries[0].GetAttributeValues("objectClasses"), func(v string) bool {
		return strings.Contains(v, "NAME 'inetOrgPerson'")
	}) {
		t.Error("objectClasses lack inetOrgPerson")
	}
	res, err = c.Search(search("CN=subschema", ldap.ScopeBaseObject, "(objectClass=*)"))
	check(t, err)
	if len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("cn") != "Subschema" ||
		len(res.Entries[0].GetAttributeValues("attributeTypes")) != 0 {
		t.Errorf("user attributes only: %+v", res.Entries)
	}
	res, err = c.Search(search(dn, ldap.ScopeBaseObject, "(objectClass=person)"))
	check(t, err)
	if len(res.Entries) != 0 {
		t.Error("filter not applied to the subschema entry")
	}
}

func TestWritesRefusedCompareAnswered(t *testing.T) {
	t.Parallel()
	f := newFixture(t, Options{})
	c := f.phonebook(t)
	dn := "uid=" + f.ids["Anna"] + ",ou=people,o=acme,dc=dialtone"
	add := ldap.NewAddRequest("uid=x,ou=people,o=acme,dc=dialtone", nil)
	add.Attribute("cn", []string{"x"})
	mod := ldap.NewModifyRequest(dn, nil)
	mod.Replace("cn", []string{"y"})
	for name, err := range map[string]error{
		"add":    c.Add(add),
		"modify": c.Modify(mod),
		"delete": c.Del(ldap.NewDelRequest(dn, nil)),
		"moddn":  c.ModifyDN(ldap.NewModifyDNRequest(dn, "uid=z", true, "")),
	} {
		if resultCode(err) != ldap.LDAPResultUnwillingToPerform {
			t.Errorf("%s: %v, want 53", name, err)
		}
	}
	if ok, err := c.Compare(dn, "telephoneNumber", "+31 20 1234567"); err != nil || !ok {
		t.Errorf("compare true: %v %v", ok, err)
	}
	if ok, err := c.Compare(dn, "sn", "Jansen"); err != nil || ok {
		t.Errorf("compare false: %v %v", ok, err)
	}
	if _, err := c.Compare(dn, "noSuchAttr", "x"); resultCode(err) != ldap.LDAPResultUndefinedAttributeType {
		t.Errorf("compare unknown: %v", err)
	}
	// The connection still works after the refusals.
	res, err := c.Search(search(dn, ldap.ScopeBaseObject, "(objectClass=*)", "cn"))
	if err != nil || len(res.Entries) != 1 || res.Entries[0].GetAttributeValue("cn") != "Anna de Vries" {
		t.Errorf("after writes: %v", err)
	}
}
