package ldapdir

import (
	"bytes"

	"github.com/go-ldap/ldap/v3"
)

// The root DSE (RFC 4512 §5.1) tells clients what this server offers.

type dseAttr struct {
	name string
	enc  []byte
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
			out = append(out, dseAttr{a.name, encodeAttribute(a.name, a.vals)})
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
func (c *conn) sendRootDSE(r *searchReq) {
	e := &c.enc
	e.reset()
	e.open(tagSequence)
	e.int(tagInteger, r.id)
	e.open(appTag(true, appSearchEntry))
	e.str(tagOctetString, "")
	e.open(tagSequence)
	all := r.sel.allUser || r.sel.allOp
	for _, a := range c.srv.dse {
		if !all && !named(r.sel.names, a.name) {
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

func named(names [][]byte, name string) bool {
	for _, n := range names {
		if len(n) == len(name) && bytes.EqualFold(n, []byte(name)) {
			return true
		}
	}
	return false
}
