package ldapdir

import (
	"strings"
	"sync/atomic"
)

// Tenant is what the directory needs to know of a tenant.
type Tenant struct {
	Slug              string
	Name              string
	PhonebookPassword string // for cn=phonebook,o={slug},dc=dialtone
	AnonymousSearch   bool   // anonymous binds may search this tenant's subtree
	// UserNeedsTLS refuses people's binds with their login password on a connection
	// without TLS; PhonebookNeedsTLS the phonebook account's. Such a bind is answered
	// confidentialityRequired before any password is checked (cleartext.go).
	UserNeedsTLS      bool
	PhonebookNeedsTLS bool
}

// Department becomes ou={name},o={slug},dc=dialtone.
type Department struct {
	ID   string
	Name string
}

// Person is one user as the phonebook shows them (docs/ldap.md, "Attributes").
type Person struct {
	ID          string
	FirstName   string
	LastName    string
	DisplayName string // empty: "First Last"
	Email       string
	Mobile      string
	Department  string // department name
	Language    string
	Extensions  []string
	Numbers     []string // external numbers, after the extensions in telephoneNumber
	Photo       []byte   // JPEG, when there is one
}

// Name is how the person is shown on a phone.
func (p *Person) Name() string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return strings.TrimSpace(p.FirstName + " " + p.LastName)
}

type entryKind uint8

const (
	kindRoot entryKind = iota
	kindTenant
	kindPeople
	kindDepartment
	kindPerson
)

// entry is one immutable directory entry with its values normalised for matching and
// each attribute pre-encoded as a PartialAttribute, so a reply is mostly copying.
type entry struct {
	kind       entryKind
	dn         string
	ndn        string // normalised DN: lower-cased type=value pairs joined by ','
	structural string
	children   bool
	vals       [numUserAttrs][]string
	norm       [numUserAttrs][]string
	enc        [numUserAttrs][]byte
	person     *Person                   // kindPerson only
	wire       atomic.Pointer[wireEntry] // the last SearchResultEntry sent of it (wire.go)
}

const suffix = "dc=dialtone"

func newEntry(kind entryKind, dn, ndn, structural string, children bool) *entry {
	return &entry{kind: kind, dn: dn, ndn: ndn, structural: structural, children: children}
}

func (e *entry) set(a attrID, vals ...string) {
	var keep []string
	for _, v := range vals {
		if v != "" {
			keep = append(keep, v)
		}
	}
	if len(keep) == 0 {
		return
	}
	e.vals[a] = keep
	rule := attrDefs[a].rule
	if rule != ruleNone {
		n := make([]string, len(keep))
		for i, v := range keep {
			n[i] = normalize(rule, v)
		}
		e.norm[a] = n
	}
	e.enc[a] = encodeAttribute(attrDefs[a].name, keep)
}

func rootEntry() *entry {
	e := newEntry(kindRoot, suffix, suffix, "domain", true)
	e.set(aObjectClass, "top", "domain")
	e.set(aDC, "dialtone")
	return e
}

func tenantDN(slug string) string { return "o=" + escapeRDN(slug) + "," + suffix }

func tenantEntry(t *Tenant) *entry {
	e := newEntry(kindTenant, tenantDN(t.Slug), "o="+strings.ToLower(t.Slug)+","+suffix, "organization", true)
	e.set(aObjectClass, "top", "organization")
	e.set(aO, t.Slug)
	return e
}

func peopleEntry(slug string) *entry {
	e := newEntry(kindPeople, "ou=people,"+tenantDN(slug), "ou=people,o="+strings.ToLower(slug)+","+suffix, "organizationalUnit", true)
	e.set(aObjectClass, "top", "organizationalUnit")
	e.set(aOU, "people")
	return e
}

func departmentEntry(slug string, d *Department) *entry {
	e := newEntry(kindDepartment, "ou="+escapeRDN(d.Name)+","+tenantDN(slug),
		"ou="+normCaseIgnore(d.Name)+",o="+strings.ToLower(slug)+","+suffix, "organizationalUnit", false)
	e.set(aObjectClass, "top", "organizationalUnit")
	e.set(aOU, d.Name)
	return e
}

func personDN(slug, id string) string { return "uid=" + escapeRDN(id) + ",ou=people," + tenantDN(slug) }

func personNDN(slug, id string) string {
	return "uid=" + normCaseIgnore(id) + ",ou=people,o=" + strings.ToLower(slug) + "," + suffix
}

// personClassAttr holds the objectClass values shared by every person entry (read only).
var personClassAttr = func() *entry {
	e := &entry{}
	e.set(aObjectClass, "top", "person", "organizationalPerson", "inetOrgPerson")
	return e
}()

func personEntry(slug string, p *Person) *entry {
	e := newEntry(kindPerson, personDN(slug, p.ID), personNDN(slug, p.ID), "inetOrgPerson", false)
	e.person = p
	// Every person has the same classes: one shared copy, not 100,000.
	e.vals[aObjectClass], e.norm[aObjectClass], e.enc[aObjectClass] =
		personClassAttr.vals[aObjectClass], personClassAttr.norm[aObjectClass], personClassAttr.enc[aObjectClass]
	e.set(aUID, p.ID)
	e.set(aCN, p.Name())
	sn := p.LastName
	if sn == "" {
		sn = p.Name() // sn is mandatory for person (RFC 4519 §3.12)
	}
	if sn == "" {
		sn = p.ID
	}
	e.set(aSN, sn)
	e.set(aGivenName, p.FirstName)
	e.set(aDisplayName, p.Name())
	e.set(aMail, p.Email)
	e.set(aTelephone, append(append([]string(nil), p.Extensions...), p.Numbers...)...)
	if len(p.Extensions) > 0 {
		e.set(aIPPhone, p.Extensions[0])
	}
	e.set(aMobile, p.Mobile)
	e.set(aOU, p.Department)
	e.set(aPreferredLanguage, p.Language)
	if len(p.Photo) > 0 {
		e.vals[aJPEGPhoto] = []string{string(p.Photo)}
		e.enc[aJPEGPhoto] = encodeAttribute(attrDefs[aJPEGPhoto].name, e.vals[aJPEGPhoto])
	}
	if len(e.vals[aCN]) == 0 {
		e.set(aCN, p.ID) // cn is mandatory for person
	}
	return e
}

// escapeRDN escapes an attribute value for a DN string (RFC 4514 §2.4).
func escapeRDN(v string) string {
	need := false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case ',', '+', '"', '\\', '<', '>', ';', '=', 0:
			need = true
		}
	}
	if !need && v != "" && v[0] != ' ' && v[0] != '#' && v[len(v)-1] != ' ' {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == 0:
			b.WriteString(`\00`)
			continue
		case c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' || c == '=',
			(c == ' ' || c == '#') && i == 0, c == ' ' && i == len(v)-1:
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}
