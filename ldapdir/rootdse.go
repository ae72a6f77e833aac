package ldapdir

import (
	"bytes"

	"github.com/go-ldap/ldap/v3"
)

// The root DSE (RFC 4512 §5.1) tells clients what this server offers.

type dseAttr struct {
	name        string
	enc         []byte
	operational bool // only for "+" or when named (the subschema entry's definitions)
}

func buildDSE(s *Server) []dseAttr {
	ext := []string{oidWhoAmI}
	if s.opts.TLS != nil {
		ext = append(ext, oidStartTLS)
	}
	list := []struct {
		name string
		vals []string
	}{
		{"objectClass", []string{"top", "extensibleObject"}},
		{"namingContexts", []string{suffix}},
		{"supportedLDAPVersion", []string{"2", "3"}},
		{"supportedControl", []string{ldap.ControlTypePaging, ldap.ControlTypeServerSideSorting, oidManageDsaIT}},
		{"supportedExtension", ext},
		{"supportedSASLMechanisms", nil},
		{"subschemaSubentry", []string{"cn=Subschema"}},
		{"vendorName", []string{"Dialtone"}},
	}
	var out []dseAttr
	for _, a := range list {
		if len(a.vals) > 0 {
			out = append(out, dseAttr{name: a.name, enc: encodeAttribute(a.name, a.vals)})
		}
	}
	return out
}

var dseEntry = func() *entry {
	e := newEntry(kindRoot, "", "", "", true)
	e.set(aObjectClass, "top", "extensibleObject")
	return e
}()

func (s *Server) rootDSE() *entry { return dseEntry }

// sendRootDSE writes the root DSE: every attribute for "*", "+" or an empty list (clients
// expect them either way), else the ones named.
func (c *conn) sendRootDSE(r *searchReq) { c.sendFixed(r, "", c.srv.dse, true) }

// sendFixed writes an entry of fixed attributes. An operational attribute goes out for
// "+" or when named, and for "*" or an empty list only when allOps (the root DSE).
func (c *conn) sendFixed(r *searchReq, dn string, attrs []dseAttr, allOps bool) {
	e := &c.enc
	e.reset()
	e.open(tagSequence)
	e.int(tagInteger, r.id)
	e.open(appTag(true, appSearchEntry))
	e.str(tagOctetString, dn)
	e.open(tagSequence)
	for _, a := range attrs {
		want := named(r.sel.list, a.name) || (a.operational && r.sel.allOp) ||
			(!a.operational || allOps) && (r.sel.allUser || (allOps && r.sel.allOp))
		if !want {
			continue
		}
		if r.typesOnly {
			e.open(tagSequence)
			e.str(tagOctetString, a.name)
			e.open(tagSet)
			e.close()
			e.close()
			continue
		}
		e.raw(a.enc)
	}
	e.close()
	e.close()
	e.close()
	c.w.Write(e.b)
}

// named reports whether an attribute list (the encoded AttributeSelection, checked by
// parseSelection) names name.
func named(list []byte, name string) bool {
	for len(list) > 0 {
		t, rest, err := next(list)
		if err != nil {
			return false
		}
		if len(t.body) == len(name) && bytes.EqualFold(t.body, []byte(name)) {
			return true
		}
		list = rest
	}
	return false
}
