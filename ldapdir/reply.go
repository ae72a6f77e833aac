package ldapdir

import (
	"github.com/go-ldap/ldap/v3"
)

// done writes SearchResultDone (RFC 4511 §4.5.2) with the paging and sort response
// controls when they were asked for.
func (c *conn) done(r *searchReq, code int, matched, diag string) {
	e := &c.enc
	e.reset()
	e.open(tagSequence)
	e.int(tagInteger, r.id)
	e.open(appTag(true, appSearchDone))
	c.code = code
	e.int(tagEnumerated, int64(code))
	e.str(tagOctetString, matched)
	e.str(tagOctetString, diag)
	e.close()
	if r.paged || r.sortCode >= 0 {
		e.open(ctxTag(true, 0))
		if r.paged { // RFC 2696 §2: realSearchControlValue
			e.open(tagSequence)
			e.str(tagOctetString, ldap.ControlTypePaging)
			e.open(tagOctetString)
			e.open(tagSequence)
			e.int(tagInteger, 0)
			e.bytes(tagOctetString, r.cookie)
			e.close()
			e.close()
			e.close()
		}
		if r.sortCode >= 0 { // RFC 2891 §1.2: SortResult
			e.open(tagSequence)
			e.str(tagOctetString, oidSortResponse)
			e.open(tagOctetString)
			e.open(tagSequence)
			e.int(tagEnumerated, int64(r.sortCode))
			e.close()
			e.close()
			e.close()
		}
		e.close()
	}
	e.close()
	c.w.Write(e.b)
}

// sendEntry writes one SearchResultEntry (RFC 4511 §4.5.2): the message envelope around
// the entry's protocolOp, encoded once per entry and attribute selection (wire.go).
func (c *conn) sendEntry(r *searchReq, en *entry) {
	key := wireKey{mask: r.sel.mask, allUser: r.sel.allUser, allOp: r.sel.allOp, typesOnly: r.typesOnly}
	op := en.wire.Load()
	if op == nil || op.key != key {
		b := c.encodeEntry(r, en)
		if len(b) > maxWireEntry {
			c.writeMessage(r.id, b) // a photo, say: not kept twice
			return
		}
		op = &wireEntry{key: key, b: append([]byte(nil), b...)}
		en.wire.Store(op)
	}
	c.writeMessage(r.id, op.b)
}

// encodeEntry returns en's SearchResultEntry protocolOp ([APPLICATION 4]) with the
// attributes r selects, from the entry's pre-encoded attributes, in c.enc's buffer.
func (c *conn) encodeEntry(r *searchReq, en *entry) []byte {
	e := &c.enc
	e.reset()
	e.open(appTag(true, appSearchEntry))
	e.str(tagOctetString, en.dn)
	e.open(tagSequence)
	sel := &r.sel
	for a := attrID(0); a < numUserAttrs; a++ {
		if en.enc[a] == nil || !sel.wants(a) {
			continue
		}
		if r.typesOnly {
			e.open(tagSequence)
			e.str(tagOctetString, attrDefs[a].name)
			e.open(tagSet)
			e.close()
			e.close()
			continue
		}
		e.raw(en.enc[a])
	}
	if sel.allOp || sel.mask>>uint(numUserAttrs) != 0 {
		for a := numUserAttrs; a < numAttrs; a++ {
			if !sel.wants(a) {
				continue
			}
			e.open(tagSequence)
			e.str(tagOctetString, attrDefs[a].name)
			e.open(tagSet)
			if !r.typesOnly {
				e.str(tagOctetString, operationalValue(en, a))
			}
			e.close()
			e.close()
		}
	}
	e.close()
	e.close()
	return e.b
}

// writeMessage writes an LDAPMessage (RFC 4511 §4.2) of message ID id around an encoded
// protocolOp, without controls.
func (c *conn) writeMessage(id int64, op []byte) {
	h := c.hdr[:0]
	var idb [8]byte
	n := 0
	for x := id; ; x >>= 8 {
		idb[7-n] = byte(x)
		n++
		if x >= -128 && x <= 127 {
			break
		}
	}
	h = append(h, tagSequence)
	h = appendLength(h, 2+n+len(op))
	h = append(h, tagInteger, byte(n))
	h = append(h, idb[8-n:]...)
	c.hdr = h
	c.w.Write(h)
	c.w.Write(op)
}

func operationalValue(e *entry, a attrID) string {
	switch a {
	case aEntryDN:
		return e.dn
	case aStructuralObjectClass:
		return e.structural
	case aSubschemaSubentry:
		return "cn=Subschema"
	case aHasSubordinates:
		if e.children {
			return "TRUE"
		}
		return "FALSE"
	}
	return ""
}
