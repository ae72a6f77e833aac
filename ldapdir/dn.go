package ldapdir

import (
	"strings"

	"github.com/go-ldap/ldap/v3"
)

type refKind uint8

const (
	refNone refKind = iota
	refRootDSE
	refRoot
	refTenant
	refPeople
	refDepartment
	refPerson
	refPhonebook
)

// ref is where a DN points in the tree dc=dialtone / o={slug} / ou=people / uid={id}.
type ref struct {
	ok     bool
	kind   refKind
	tenant string // slug as written in the DN
	rest   string // person id, or the normalised department name
}

// resolveDN places a parsed DN in the tree (names compared case-insensitively, aliases
// and OIDs of attribute types accepted, RFC 4512 §2.3).
func resolveDN(dn *ldap.DN) ref {
	n := len(dn.RDNs)
	if n == 0 {
		return ref{ok: true, kind: refRootDSE}
	}
	rdn := func(i int) (attrID, string) {
		r := dn.RDNs[i]
		if r == nil || len(r.Attributes) != 1 || r.Attributes[0] == nil {
			return attrUnknown, ""
		}
		return lookupAttr([]byte(r.Attributes[0].Type)), r.Attributes[0].Value
	}
	if a, v := rdn(n - 1); a != aDC || normCaseIgnore(v) != "dialtone" {
		return ref{}
	}
	if n == 1 {
		return ref{ok: true, kind: refRoot}
	}
	a, slug := rdn(n - 2)
	if a != aO || slug == "" {
		return ref{}
	}
	r := ref{ok: true, kind: refTenant, tenant: slug}
	if n == 2 {
		return r
	}
	a, v := rdn(n - 3)
	switch {
	case n == 3 && a == aOU && normCaseIgnore(v) == "people":
		r.kind = refPeople
	case n == 3 && a == aOU:
		r.kind, r.rest = refDepartment, normCaseIgnore(v)
	case n == 3 && a == aCN && normCaseIgnore(v) == "phonebook":
		r.kind = refPhonebook
	case n == 4 && a == aOU && normCaseIgnore(v) == "people":
		a, v = rdn(0)
		if a != aUID || v == "" {
			return ref{}
		}
		r.kind, r.rest = refPerson, v
	default:
		return ref{}
	}
	return r
}

// baseCache remembers the last search base of a connection: phones ask with the same
// base every time, so the DN is parsed once.
type baseCache struct {
	text string
	ref  ref
	err  error
	set  bool
}

func (b *baseCache) resolve(text []byte) (ref, error) {
	if b.set && b.text == string(text) {
		return b.ref, b.err
	}
	b.text, b.set = string(text), true
	if strings.TrimSpace(b.text) == "" {
		b.ref, b.err = ref{ok: true, kind: refRootDSE}, nil
		return b.ref, nil
	}
	dn, err := ldap.ParseDN(b.text)
	if err != nil {
		b.ref, b.err = ref{}, err
		return b.ref, err
	}
	b.ref, b.err = resolveDN(dn), nil
	return b.ref, nil
}
