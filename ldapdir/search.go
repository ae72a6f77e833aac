package ldapdir

import (
	"errors"
	"math"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// selection is the attribute list of a search (RFC 4511 §4.5.1.8).
type selection struct {
	mask    uint32 // attrIDs named explicitly
	allUser bool   // "*" or an empty list
	allOp   bool   // "+" (RFC 3673)
	list    []byte // the encoded list, for names the schema does not know (rootdse.go)
}

func parseSelection(b []byte) (selection, error) {
	s := selection{list: b}
	empty := true
	for len(b) > 0 {
		t, rest, err := next(b)
		if err != nil || t.tag != tagOctetString {
			return s, errors.New("bad attribute list")
		}
		b = rest
		empty = false
		switch string(t.body) {
		case "*":
			s.allUser = true
		case "+":
			s.allOp = true
		case "1.1": // alone it selects nothing; with others it is ignored (RFC 4511 §4.5.1.8)
		default:
			if a := lookupAttr(t.body); a != attrUnknown {
				s.mask |= 1 << uint(a)
			}
		}
	}
	if empty {
		s.allUser = true
	}
	return s, nil
}

func (s *selection) wants(a attrID) bool {
	if s.mask&(1<<uint(a)) != 0 {
		return true
	}
	if a < numUserAttrs {
		return s.allUser
	}
	return s.allOp
}

// searchReq is one decoded SearchRequest (RFC 4511 §4.5.1).
type searchReq struct {
	id        int64
	base      []byte
	scope     int64
	sizeLimit int64
	timeLimit int64
	typesOnly bool
	filter    node
	rawFilter []byte
	sel       selection
	paged     bool
	pageSize  int
	offset    int
	resume    resumePoint // where the page before stopped (paged, unsorted searches)
	sortKeys  []sortKey
	cookie    []byte
	sortCode  int // RFC 2891 sortResult; -1 when no sort was asked for
}

func (c *conn) search(id int64, body []byte) error {
	r := searchReq{id: id, sortCode: -1}
	var fields [8]tlv
	for i := range fields {
		t, rest, err := next(body)
		if err != nil {
			return errors.New("search: truncated request")
		}
		fields[i], body = t, rest
	}
	if fields[0].tag != tagOctetString || fields[1].tag != tagEnumerated || fields[2].tag != tagEnumerated ||
		fields[3].tag != tagInteger || fields[4].tag != tagInteger || fields[5].tag != tagBoolean || fields[7].tag != tagSequence {
		return errors.New("search: malformed request")
	}
	r.base = fields[0].body
	var err error
	if r.scope, err = parseInt(fields[1].body); err != nil || r.scope < 0 || r.scope > 2 {
		c.done(&r, resultProtocolError, "", "unknown scope")
		return nil
	}
	if r.sizeLimit, err = parseInt(fields[3].body); err != nil || r.sizeLimit < 0 {
		c.done(&r, resultProtocolError, "", "bad size limit")
		return nil
	}
	if r.timeLimit, err = parseInt(fields[4].body); err != nil || r.timeLimit < 0 {
		c.done(&r, resultProtocolError, "", "bad time limit")
		return nil
	}
	r.typesOnly = len(fields[5].body) == 1 && fields[5].body[0] != 0
	r.rawFilter = fields[6].body
	if r.sel, err = parseSelection(fields[7].body); err != nil {
		c.done(&r, resultProtocolError, "", err.Error())
		return nil
	}
	if code, msg := c.searchControls(&r); code != resultSuccess {
		c.done(&r, code, "", msg)
		return nil
	}
	if r.filter, err = compileFilter(fields[6]); err != nil {
		if errors.Is(err, errFilterComplex) {
			c.done(&r, resultAdminLimit, "", "filter too complex")
		} else {
			c.done(&r, resultProtocolError, "", "malformed filter")
		}
		return nil
	}
	c.runSearch(&r)
	return nil
}

// searchControls reads paging (RFC 2696), sorting (RFC 2891) and refuses unknown critical
// controls (RFC 4511 §4.1.11), VLV included.
func (c *conn) searchControls(r *searchReq) (int, string) {
	for _, k := range c.ctrls {
		switch string(k.oid) {
		case ldap.ControlTypePaging:
			ctl, err := decodeControl(k)
			p, ok := ctl.(*ldap.ControlPaging)
			if err != nil || !ok {
				return resultProtocolError, "bad paged results control"
			}
			r.paged, r.pageSize = true, int(p.PagingSize)
			if len(p.Cookie) > 0 {
				off, at, ok := c.readCookie(r, p.Cookie)
				if !ok {
					return resultUnwillingToPerform, "paged results cookie does not match this search"
				}
				r.offset, r.resume = off, at
			}
		case ldap.ControlTypeServerSideSorting:
			ctl, err := decodeControl(k)
			s, ok := ctl.(*ldap.ControlServerSideSorting)
			if err != nil || !ok {
				return resultProtocolError, "bad sort control"
			}
			r.sortCode = resultSuccess
			for _, key := range s.SortKeys {
				a := lookupAttr([]byte(key.AttributeType))
				if a == attrUnknown || a >= numUserAttrs || attrDefs[a].rule == ruleNone {
					r.sortCode = resultNoSuchAttribute
					if k.critical {
						return resultUnavailableCritical, "cannot sort by " + key.AttributeType
					}
					r.sortKeys = nil
					break
				}
				r.sortKeys = append(r.sortKeys, sortKey{a, key.Reverse})
			}
		case oidManageDsaIT:
		default:
			if k.critical { // VLV lands here: Poly asks for it and copes without
				return resultUnavailableCritical, "unsupported critical control " + string(k.oid)
			}
		}
	}
	return resultSuccess, ""
}

// runSearch finds the base, checks access and sends the matching entries.
func (c *conn) runSearch(r *searchReq) {
	if len(r.base) < 24 && isSubschemaDN(string(r.base)) {
		if r.scope == ldap.ScopeBaseObject && r.filter.eval(subschemaEntry) == tTrue {
			c.sendFixed(r, subschemaDN, c.srv.subschema, false)
		}
		c.done(r, resultSuccess, "", "")
		return
	}
	ref, err := c.base.resolve(r.base)
	if err != nil {
		c.done(r, resultInvalidDNSyntax, "", "invalid base DN")
		return
	}
	if ref.kind == refRootDSE {
		if r.scope != ldap.ScopeBaseObject {
			c.done(r, resultNoSuchObject, "", "search below the root DSE: use base dc=dialtone")
			return
		}
		if r.filter.eval(c.srv.rootDSE()) == tTrue {
			c.sendRootDSE(r)
		}
		c.done(r, resultSuccess, "", "")
		return
	}
	if !ref.ok || ref.kind == refPhonebook {
		c.done(r, resultNoSuchObject, suffixIfUnder(r.base), "")
		return
	}
	var snap *snapshot
	switch {
	case c.who.kind == anonymous && ref.kind != refRoot:
		snap = c.srv.dir.snapshot(ref.tenant)
		if snap == nil || !snap.tenant.AnonymousSearch {
			c.done(r, resultInsufficientAccess, "", "anonymous search is not enabled: bind first")
			return
		}
	case c.who.kind != anonymous:
		snap = c.srv.dir.snapshot(c.who.tenant)
		if snap == nil || (ref.kind != refRoot && !strings.EqualFold(ref.tenant, c.who.tenant)) {
			c.done(r, resultNoSuchObject, suffix, "")
			return
		}
	}
	w := walk{c: c, r: r, snap: snap, ref: ref}
	// The server's limit bounds one answer; a paged search (RFC 2696) is bounded per page,
	// so a phone may page through the whole phonebook. The client's own limit always holds.
	limit := c.srv.opts.SizeLimit
	if r.paged {
		limit = math.MaxInt
	}
	if r.sizeLimit > 0 && int(r.sizeLimit) < limit {
		limit = int(r.sizeLimit)
	}
	w.limit = limit
	tl := c.srv.opts.TimeLimit
	if r.timeLimit > 0 && time.Duration(r.timeLimit)*time.Second < tl {
		tl = time.Duration(r.timeLimit) * time.Second
	}
	w.deadline = c.srv.now().Add(tl)
	if code, matched := w.run(); code != resultSuccess || matched != "" {
		c.done(r, code, matched, "")
		return
	}
	c.done(r, w.code, "", "")
}

func suffixIfUnder(base []byte) string {
	if strings.HasSuffix(strings.ToLower(string(base)), suffix) {
		return suffix
	}
	return ""
}
